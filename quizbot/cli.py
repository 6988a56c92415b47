"""`flask` commands. They stay thin and call services."""

from __future__ import annotations

import secrets
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .bank import BankFormatError, Floors, count_table, load_bank, validate_bank

bank_cli = AppGroup("bank", help="Question bank: validate and import question_bank/.")
users_cli = AppGroup("users", help="Officer accounts.")


def _load(directory: str | None):
    directory = directory or current_app.config["QUESTION_BANK_DIR"]
    try:
        return load_bank(directory)
    except BankFormatError as exc:
        raise click.ClickException(str(exc)) from exc


@bank_cli.command("validate")
@click.option("--dir", "directory", default=None, help="Bank directory (default QUESTION_BANK_DIR).")
@click.option("--quiet", is_flag=True, help="Do not print the count table.")
def validate_command(directory: str | None, quiet: bool) -> None:
    """Check the bank against every rule and floor; print the count table. No database needed."""
    bank = _load(directory)
    errors = validate_bank(bank, Floors())
    if not quiet:
        click.echo(count_table(bank))
        click.echo(f"\n{len(bank.scam_types)} knowledge entries, {len(bank.questions)} questions, "
                   f"version {bank.version[:12]}")
    if errors:
        for error in errors:
            click.echo(f"ERROR {error}", err=True)
        raise click.ClickException(f"{len(errors)} problem(s) in the question bank")
    click.echo("OK")


@bank_cli.command("import")
@click.option("--dir", "directory", default=None, help="Bank directory (default QUESTION_BANK_DIR).")
def import_command(directory: str | None) -> None:
    """Validate, then upsert the bank by id; questions gone from the files are retired."""
    from .services import bank as bank_service

    bank = _load(directory)
    errors = validate_bank(bank, Floors())
    if errors:
        for error in errors:
            click.echo(f"ERROR {error}", err=True)
        raise click.ClickException(f"{len(errors)} problem(s): nothing imported")
    report = bank_service.import_bank(bank)
    bank_service.clear_cache()
    click.echo(
        f"bank {report.version[:12]}: {report.scam_types} types, {report.created} new, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.retired} retired"
    )


@users_cli.command("ensure-admin")
def ensure_admin_command() -> None:
    """Create the first admin account with a random password when no user exists yet."""
    from .services import accounts

    password = secrets.token_urlsafe(12)
    user = accounts.ensure_first_admin(password)
    if user is None:
        click.echo("users exist already: no admin created")
        return
    click.echo("=" * 60)
    click.echo(f"First admin account created. Username: {user.username}")
    click.echo(f"Password (shown once, write it down): {password}")
    click.echo("=" * 60)
    sys.stdout.flush()


def register_cli(app: Flask) -> None:
    """Attach every command group."""
    app.cli.add_command(bank_cli)
    app.cli.add_command(users_cli)
