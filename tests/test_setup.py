"""Start-up rules and migrations."""

from __future__ import annotations

import subprocess
import sys

import pytest

from config import Config, TestConfig, normalize_database_url
from quizbot import ConfigurationError, create_app


def test_production_without_secret_key_refuses_to_start():
    class NoSecret(Config):
        SECRET_KEY = None
        ENV_NAME = "production"

    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(NoSecret)


def test_development_may_start_without_secret_key():
    class Dev(TestConfig):
        SECRET_KEY = None
        TESTING = False
        ENV_NAME = "development"

    assert create_app(Dev).name == "quizbot"


@pytest.mark.parametrize("url,expected", [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_use_psycopg3(url, expected):
    assert normalize_database_url(url) == expected


def test_migrations_build_the_models_schema(tmp_path):
    """`flask db upgrade` on an empty database gives exactly the models' schema."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}", "QUIZBOT_ENV": "development",
           "FLASK_APP": "quizbot:create_app", "PATH": "/usr/bin:/bin"}
    flask = [sys.executable, "-m", "flask"]
    up = subprocess.run(flask + ["db", "upgrade"], env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    check = subprocess.run(flask + ["db", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr


def test_first_admin_is_created_once_with_a_printed_password(app, runner):
    """`make run` calls `flask users ensure-admin`: one admin, password shown once, never again."""
    import sqlalchemy as sa

    from quizbot.extensions import db
    from quizbot.models import User
    from quizbot.services.accounts import verify_password

    first = runner.invoke(args=["users", "ensure-admin"])
    assert first.exit_code == 0 and "Password" in first.output
    password = first.output.split("Password (shown once, write it down):")[1].split()[0]
    second = runner.invoke(args=["users", "ensure-admin"])
    assert second.exit_code == 0 and "Password" not in second.output
    with app.app_context():
        users = db.session.execute(sa.select(User)).scalars().all()
        assert [u.username for u in users] == ["admin"] and users[0].role == "admin"
        assert password not in users[0].password_hash and verify_password(users[0], password)


def test_building_the_app_does_not_announce_alembic_plugins():
    """gunicorn workers and `make`'s flask commands build the app with FLASK_APP=quizbot:create_app:
    Alembic's plugin INFO lines must not be printed on every start."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-c", "from config import TestConfig; from quizbot import create_app; create_app(TestConfig)"],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "setup plugin" not in done.stderr
