# Two commands do all the set-up on a fresh machine with only python3:
#   make run   - venv, pinned requirements, migrate, import the bank, first admin, serve on :5000
#   make test  - the same set-up, then the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

export FLASK_APP := quizbot:create_app
export SECRET_KEY_FILE ?= $(CURDIR)/instance/secret_key

.PHONY: run test setup venv migrate lint bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

instance/secret_key:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $@
	chmod 600 $@

setup: venv instance/secret_key
	$(BIN)/flask db upgrade
	$(BIN)/flask bank import
	$(BIN)/flask users ensure-admin

run: setup
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python scripts/show_urls.py
	HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) $(BIN)/gunicorn -c deploy/gunicorn.conf.py

test: setup
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
