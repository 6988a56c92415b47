"""The README's commands work exactly as written, in a plain shell in the project folder.

Every fenced command block of README.md (except the `make` one, which is what runs these tests)
is run with bash against a temporary instance — its own secret file, SQLite database and a
server on a free port — after the set-up `make` does. A failing command, a traceback, an error
envelope or Alembic's start-up chatter fails the test, so the README cannot drift again.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLASK = ".venv/bin/flask"
BLOCK_RE = re.compile(r"^```(sh|bash|shell)?\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINKED = (".venv", ".flaskenv", "config.py", "quizbot", "question_bank", "migrations", "docs", "scripts", "tests")


def command_blocks() -> list[str]:
    """The README's fenced shell blocks, except the one that runs `make`."""
    blocks = [m.group(2) for m in BLOCK_RE.finditer((ROOT / "README.md").read_text(encoding="utf-8"))]
    return [b for b in blocks if not any(line.strip().startswith("make ") for line in b.splitlines())]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder like a fresh clone after `make`: links to the code, its own instance."""
    if not (ROOT / FLASK).exists():
        pytest.skip("no .venv: run `make test`")
    folder = tmp_path_factory.mktemp("readme")
    for name in LINKED:
        (folder / name).symlink_to(ROOT / name)
    instance = folder / "instance"
    instance.mkdir()
    (instance / "secret_key").write_text("readme-test-secret-" + "x" * 40)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "SECRET_KEY_FILE", "FLASK_APP", "DATABASE_URL", "QUIZBOT_ENV")}
    env.update(QUIZBOT_INSTANCE_DIR=str(instance), RATELIMIT_ENABLED="0", PYTHONDONTWRITEBYTECODE="1")
    for command in ("db upgrade", "bank import", "users ensure-admin"):  # what `make setup` does
        done = subprocess.run(f"{FLASK} {command}", shell=True, cwd=folder, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    server = subprocess.Popen([FLASK, "run", "--port", str(port)], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        yield folder, env, port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_readme_has_command_blocks():
    blocks = command_blocks()
    assert len(blocks) >= 4
    assert any("users create" in b for b in blocks) and any("households import" in b for b in blocks)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(command_blocks())))
def test_readme_block_runs_as_written(project, index):
    folder, env, port = project
    block = command_blocks()[index].replace("localhost:5000", f"localhost:{port}")
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{block}\n--- stdout\n{done.stdout[-2000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr and "setup plugin" not in done.stderr, done.stderr
    assert '"error"' not in done.stdout, done.stdout[-2000:]


def _flask(args: str, env: dict, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(f"{FLASK} {args}", shell=True, cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_missing_secret_is_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE", "FLASK_APP")}
    env.update(QUIZBOT_INSTANCE_DIR=str(tmp_path), QUIZBOT_ENV="production")
    done = _flask("regions --help", env, ROOT)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: SECRET_KEY is not set: run `make run` once (it writes instance/secret_key), "
        "or set SECRET_KEY or SECRET_KEY_FILE."]


def test_cli_is_quiet_and_region_is_required(project):
    folder, env, _port = project
    done = _flask("users --help", env, folder)
    assert done.returncode == 0 and "INFO" not in done.stderr and "reset-password" in done.stdout
    done = _flask("users create li --role officer --password-stdin", env, folder, "long-enough-pass\n")
    assert done.returncode == 2
    assert "--region is required for role officer" in done.stderr and "{" not in done.stderr
    done = _flask("users create li --role officer --region NOPE --password-stdin", env, folder, "long-enough-pass\n")
    assert done.returncode == 1 and "区域不存在" in done.stderr and "{" not in done.stderr
    done = _flask("users reset-password nobody", env, folder)
    assert done.returncode == 1 and "找不到该用户" in done.stderr
