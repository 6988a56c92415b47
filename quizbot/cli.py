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
regions_cli = AppGroup("regions", help="The region tree (县/乡镇/村/组).")
households_cli = AppGroup("households", help="The household registry.")


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


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(
    ["admin", "county_admin", "station_admin", "officer", "grid_worker"]), help="Role of the account.")
@click.option("--region", "region_code", default=None, help="Region code (not for admin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(username: str, role: str, region_code: str | None, password_stdin: bool) -> None:
    """Create an officer account bound to a region; the password is prompted for or read from stdin."""
    from .errors import APIError
    from .services import auth as auth_service

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = auth_service.create_user(username, password, role, region_code)
    except APIError as exc:
        raise click.ClickException(f"{exc.message} {exc.details or ''}".strip()) from exc
    click.echo(f"user {user.username} created ({user.role})")


@regions_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_regions_command(file: str) -> None:
    """Create or rename regions from a CSV with columns code,name,parent_code (empty parent = root)."""
    from pathlib import Path

    from .errors import APIError
    from .services import regions as region_service

    try:
        created = region_service.import_csv(Path(file).read_text(encoding="utf-8-sig"))
    except APIError as exc:
        for row in (exc.details or {}).get("rows", []) if isinstance(exc.details, dict) else []:
            click.echo(f"row {row['row']} {row['column']}: {row['reason']}", err=True)
        raise click.ClickException(exc.message) from exc
    click.echo(f"{created} regions created")


@households_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--region", "region_code", required=True, help="Region code the households belong to.")
def import_households_command(file: str, region_code: str) -> None:
    """Import households and members from CSV or XLSX (Chinese headers); all rows or none."""
    from pathlib import Path

    from .errors import APIError
    from .services import households as household_service

    path = Path(file)
    data = path.read_bytes()
    total = max(data.count(b"\n"), 1) if path.suffix.lower() == ".csv" else None
    try:
        with click.progressbar(length=total or 0, label="checking rows", file=sys.stderr,
                               show_pos=True) as bar:
            report = household_service.import_households(None, region_code, path.name, data,
                                                         progress=bar.update)
    except APIError as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        for error in details.get("errors", []):
            click.echo(f"row {error['row']} {error['column']}: {error['reason']}", err=True)
        raise click.ClickException(f"{exc.message} {'' if details.get('errors') else details}".strip()) from exc
    click.echo(f"{report.rows} rows: {report.households_created} households created, "
               f"{report.households_updated} updated; {report.members_created} members created, "
               f"{report.members_updated} updated")


def register_cli(app: Flask) -> None:
    """Attach every command group."""
    app.cli.add_command(bank_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(regions_cli)
    app.cli.add_command(households_cli)
