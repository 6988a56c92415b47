"""Operator commands: ``flask db backup|restore|counts`` and ``flask users unlock``.

They sit beside Flask-Migrate's ``flask db`` group and the accounts group; each stays thin.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask_migrate.cli import db as db_group

from . import backup as backup_service


def _url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


@click.command("backup")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Backup file (default: instance/backups/quizbot-<UTC time>.sqlite3 or .dump).")
def backup_command(output: Path | None) -> None:
    """Back the database up while the app runs (SQLite online backup API, or pg_dump)."""
    url = _url()
    if output is None:
        suffix = ".sqlite3" if url.startswith("sqlite") else ".dump"
        name = datetime.now(UTC).strftime("quizbot-%Y%m%d-%H%M%S") + suffix
        output = Path(current_app.instance_path) / "backups" / name
    try:
        path = backup_service.backup(url, output)
    except backup_service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {path}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask: the current data is replaced.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database with a backup. Stop every app instance first."""
    if not yes:
        click.confirm("This replaces every row of the current database. Continue?", abort=True)
    try:
        backup_service.restore(_url(), source)
    except backup_service.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored from {source}")


@click.command("counts")
def counts_command() -> None:
    """Print the rows per table as JSON (compare before a backup and after a restore)."""
    click.echo(json.dumps(backup_service.counts(_url()), sort_keys=True))


@click.command("unlock")
@click.argument("username")
def unlock_command(username: str) -> None:
    """Lift every sign-in lock of USERNAME (all IPs); audited."""
    from .services import auth as auth_service

    lifted = auth_service.unlock(None, username)
    click.echo(f"{username}: {lifted} lock(s) lifted")


def register_cli(app: Flask) -> None:
    """Add the commands to ``flask db`` and ``flask users``."""
    for command in (backup_command, restore_command, counts_command):
        db_group.add_command(command)
    users = app.cli.commands.get("users")
    if users is not None:
        users.add_command(unlock_command)
