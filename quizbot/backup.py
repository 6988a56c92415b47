"""Backups and restores of the database (plain Python, no Flask).

SQLite: Python's online backup API (``sqlite3.Connection.backup``), consistent while the app
keeps serving. PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean``. ``counts``
gives the rows per table, so a restore can be checked against what was backed up.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote

import sqlalchemy as sa


class BackupError(RuntimeError):
    """A backup or restore that could not be done, with a message for the operator."""


def _sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///…`` URL; None for other databases."""
    if not url.startswith("sqlite"):
        return None
    path = unquote(url.split("://", 1)[1].lstrip("/").split("?", 1)[0]) if ":///" in url else ""
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path("/" + path) if url.startswith("sqlite:////") else Path(path)


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump/pg_restore read it (no +driver)."""
    scheme, _, rest = url.partition("://")
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client (apt-get install postgresql-client)")
    return path


def backup(url: str, target: Path) -> Path:
    """Write a backup of the database at ``url`` to ``target`` (a file); returns it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    path = _sqlite_path(url)
    if path is not None:
        if not path.is_file():
            raise BackupError(f"no SQLite database at {path}")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        return target
    if url.startswith("postgres"):
        result = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}",
                                 _libpq_url(url)], capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}")
        return target
    raise BackupError(f"backups are supported for SQLite and PostgreSQL, not {url.split(':')[0]}")


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the backup ``source`` (stop the app first)."""
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    path = _sqlite_path(url)
    if path is not None:
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dest = sqlite3.connect(path)
        try:
            with dest:
                backup_db.backup(dest)
        finally:
            dest.close()
            backup_db.close()
        return
    if url.startswith("postgres"):
        result = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                                 "--single-transaction", f"--dbname={_libpq_url(url)}", str(source)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()[:500]}")
        return
    raise BackupError(f"restores are supported for SQLite and PostgreSQL, not {url.split(':')[0]}")


def counts(url: str) -> dict[str, int]:
    """Rows per table of the database at ``url`` (every table, alembic_version included)."""
    engine = sa.create_engine(url, hide_parameters=True)
    try:
        with engine.connect() as conn:
            tables = sorted(sa.inspect(conn).get_table_names())
            return {t: conn.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar_one()
                    for t in tables}
    finally:
        engine.dispose()


def default_name(now) -> str:
    """``quizbot-YYYYmmdd-HHMMSS`` plus the suffix for the database kind."""
    return now.strftime("quizbot-%Y%m%d-%H%M%S")
