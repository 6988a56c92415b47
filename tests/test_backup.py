"""`flask db backup` and `flask db restore` really bring a database back: migrate, fill, count,
back up, damage, restore, count again — on a SQLite file, and on PostgreSQL when the suite runs
there (a scratch database, pg_dump/pg_restore)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import REAL_BANK_DIR, ROOT


def _flask(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, input=stdin,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
    return result.stdout


def _env(tmp_path, url: str) -> dict:
    bank = REAL_BANK_DIR  # `flask bank import` checks the real floors
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "TEST_DATABASE"))}
    env.update(FLASK_APP="quizbot:create_app", DATABASE_URL=url, SECRET_KEY="backup-test-secret",
               QUIZBOT_INSTANCE_DIR=str(tmp_path / "instance"), QUESTION_BANK_DIR=str(bank),
               QUIZBOT_ENV="production")
    return env


def _round_trip(env: dict, tmp_path, damage) -> None:
    _flask(env, "db", "upgrade")
    _flask(env, "bank", "import")
    _flask(env, "users", "create", "wang", "--role", "admin", "--password-stdin", stdin="secret-pass-1\n")
    before = json.loads(_flask(env, "db", "counts"))
    assert before["question"] > 100 and before["user_account"] == 1
    target = tmp_path / "backup.bin"
    _flask(env, "db", "backup", "--output", str(target))
    damage()
    assert json.loads(_flask(env, "db", "counts")) != before
    _flask(env, "db", "restore", str(target), "--yes")
    assert json.loads(_flask(env, "db", "counts")) == before


def test_sqlite_backup_and_restore(tmp_path):
    db_file = tmp_path / "live.sqlite3"
    env = _env(tmp_path, f"sqlite:///{db_file}")

    def damage():
        with sqlite3.connect(db_file) as conn:
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("DELETE FROM question")
            conn.execute("DELETE FROM user_account")

    _round_trip(env, tmp_path, damage)


@pytest.mark.skipif(not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres"),
                    reason="PostgreSQL backups run when the suite runs on PostgreSQL")
def test_postgresql_backup_and_restore(tmp_path):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump/pg_restore missing: install postgresql-client")
    server = sa.make_url(os.environ["TEST_DATABASE_URL"])
    name = f"qb_backup_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        env = _env(tmp_path, url)

        def damage():
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.text("TRUNCATE question, user_account CASCADE"))
            engine.dispose()

        _round_trip(env, tmp_path, damage)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
