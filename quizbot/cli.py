"""`flask` commands. They stay thin and call services.

In the project folder every command works as written in the README: ``.flaskenv`` names the
app (``quizbot.cli:create_cli_app``) and the secret is found in ``instance/secret_key``.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import ConfigurationError, create_app
from .bank import BankFormatError, Floors, count_table, load_bank, validate_bank
from .errors import APIError
from .models import ROLES
from .services import accounts, household_import
from .services import auth as auth_service
from .services import bank as bank_service
from .services import regions as region_service

bank_cli = AppGroup("bank", help="Question bank: validate and import question_bank/.")
users_cli = AppGroup("users", help="Officer accounts.")
regions_cli = AppGroup("regions", help="The region tree (县/乡镇/村/组).")
households_cli = AppGroup("households", help="The household registry.")


def create_cli_app() -> Flask:
    """The app for ``flask`` commands: a missing setting is one line on stderr, not a traceback."""
    try:
        return create_app()
    except ConfigurationError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


def _describe(exc: APIError) -> str:
    """An API error as one readable line: the message, then each field's reasons."""
    parts = [exc.message]
    details = exc.details if isinstance(exc.details, dict) else {}
    for field_name, reasons in details.items():
        if field_name == "errors":
            continue
        if isinstance(reasons, list | tuple):
            reasons = "；".join(str(r) for r in reasons)
        elif isinstance(reasons, dict):
            reasons = "；".join(f"{k}: {v}" for k, v in reasons.items())
        parts.append(f"{field_name}: {reasons}")
    return "（".join([parts[0], "，".join(parts[1:]) + "）"]) if len(parts) > 1 else parts[0]


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


def _show_password(title: str, username: str, password: str) -> None:
    click.echo("=" * 60)
    click.echo(f"{title} Username: {username}")
    click.echo(f"Password (shown once, write it down): {password}")
    click.echo("=" * 60)
    sys.stdout.flush()


@bank_cli.command("stats")
@click.option("--region", "region_code", default=None, help="Region code (default: every attempt).")
@click.option("--min-attempts", default=20, show_default=True, type=click.IntRange(1),
              help="Answers a question needs before it can be listed for review.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def stats_command(region_code: str | None, min_attempts: int, as_json: bool) -> None:
    """Item statistics from submitted quizzes: per question the attempts, correct rate and
    discrimination (point-biserial with the rest of the quiz); per scam type the correct rate;
    and the questions to review (>95% or <20% correct, or negative discrimination)."""
    import json

    from .services import item_stats

    try:
        data = item_stats.for_region_code(region_code, min_attempts=min_attempts)
    except LookupError as exc:
        raise click.ClickException(f"找不到区域 {region_code}") from exc
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    where = data["region"]["code"] if data["region"] else "all regions"
    click.echo(f"{where}: {data['sessions']} submitted quizzes")
    click.echo(f"\n{'question'.ljust(34)} {'attempts':>8} {'correct':>8} {'discr.':>7}")
    for q in data["questions"]:
        d = "-" if q["discrimination"] is None else f"{q['discrimination']:.2f}"
        click.echo(f"{q['id'].ljust(34)} {q['attempts']:>8} {q['correct_rate']:>8.0%} {d:>7}")
    click.echo(f"\n{'scam type'.ljust(34)} {'attempts':>8} {'correct':>8}")
    for t in data["scam_types"]:
        click.echo(f"{t['id'].ljust(34)} {t['attempts']:>8} {t['correct_rate']:>8.0%}")
    click.echo(f"\nto review (at least {min_attempts} answers): {len(data['review'])}")
    for q in data["review"]:
        click.echo(f"  {q['id']}: {', '.join(q['reasons'])}")


@users_cli.command("ensure-admin")
def ensure_admin_command() -> None:
    """Create the first admin account with a random password when no user exists yet."""
    password = secrets.token_urlsafe(12)
    user = accounts.ensure_first_admin(password)
    if user is None:
        click.echo("users exist already: no admin created")
        return
    _show_password("First admin account created.", user.username, password)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Role of the account.")
@click.option("--region", "region_code", default=None,
              help="Region code; required for every role except admin.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(username: str, role: str, region_code: str | None, password_stdin: bool) -> None:
    """Create an officer account bound to a region; the password is prompted for or read from stdin."""
    if role != "admin" and not region_code:
        raise click.UsageError(f"--region is required for role {role} (only admin has no region)")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = auth_service.create_user(username, password, role, region_code)
    except APIError as exc:
        raise click.ClickException(_describe(exc)) from exc
    click.echo(f"user {user.username} created ({user.role})")


@users_cli.command("reset-password")
@click.argument("username")
def reset_password_command(username: str) -> None:
    """Give USERNAME a new random password (printed once), sign them out everywhere, and note
    it in the audit log; they choose their own at the next console sign-in."""
    password = secrets.token_urlsafe(12)
    try:
        user = auth_service.reset_password(username, password)
    except APIError as exc:
        raise click.ClickException(_describe(exc)) from exc
    _show_password("Password reset.", user.username, password)


@regions_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_regions_command(file: str) -> None:
    """Create or rename regions from a CSV with columns code,name,parent_code (empty parent = root)."""
    try:
        created = region_service.import_csv(Path(file).read_text(encoding="utf-8-sig"))
    except APIError as exc:
        for row in (exc.details or {}).get("rows", []) if isinstance(exc.details, dict) else []:
            click.echo(f"row {row['row']} {row['column']}: {row['reason']}", err=True)
        raise click.ClickException(exc.message) from exc
    click.echo(f"{created} regions created")


class _BarProgress(household_import.Progress):
    """The import's steps as click progress bars on stderr (checking rows, writing)."""

    LABELS = {"check": "checking rows", "write": "writing"}

    def __init__(self) -> None:
        self.bar = None

    def stage(self, name: str, total: int = 0) -> None:
        self.__exit__(None, None, None)
        if name in self.LABELS:
            self.bar = click.progressbar(length=max(total, 1), label=self.LABELS[name],
                                         file=sys.stderr, show_pos=True)
            self.bar.__enter__()

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@households_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--region", "region_code", required=True, help="Region code the households belong to.")
@click.option("--dry-run", is_flag=True, help="Check every row and count, write nothing.")
def import_households_command(file: str, region_code: str, dry_run: bool) -> None:
    """Import households and members from CSV or XLSX (Chinese headers); all rows or none.

    One row per member; 户编号, 地址, 门牌号, 户主, 联系电话 may be given on a household's first
    row only. `flask households template FILE` writes a sheet to start from.
    """
    path = Path(file)
    progress = _BarProgress()
    try:
        with progress:
            report = household_import.import_households(None, region_code, path.name, path.read_bytes(),
                                                        progress=progress, dry_run=dry_run)
    except APIError as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        for error in details.get("errors", []):
            click.echo(f"row {error['row']} {error['column']}: {error['reason']}", err=True)
        raise click.ClickException(_describe(exc)) from exc
    click.echo(f"{'dry run, nothing written: ' if dry_run else ''}{report.rows} rows: "
               f"households {report.households_created} created, {report.households_updated} updated, "
               f"{report.households_unchanged} unchanged; members {report.members_created} created, "
               f"{report.members_updated} updated, {report.members_unchanged} unchanged")


@households_cli.command("template")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def template_command(file: str) -> None:
    """Write the household sheet template (XLSX, a comment on each header) to FILE."""
    Path(file).write_bytes(household_import.template_xlsx())
    click.echo(f"template written to {file}")


coverage_cli = AppGroup("coverage", help="Coverage counters (per-region totals kept on every write).")


@coverage_cli.command("verify")
@click.option("--region", "region_code", default=None, help="Check only this region's subtree.")
@click.option("--fix", is_flag=True, help="Overwrite each differing counter with the recount.")
def verify_coverage_command(region_code: str | None, fix: bool) -> None:
    """Recount every coverage counter from the raw rows (households, members, counted visits,
    credited quizzes) and list each difference; --fix repairs them. Exits 1 when a difference
    is left unrepaired."""
    from .services import counters
    from .services.regions import get_by_code

    region = None
    if region_code:
        region = get_by_code(region_code)
        if region is None:
            raise click.ClickException(f"unknown region {region_code}")
    checked, differences = counters.verify(region, fix=fix)
    for d in differences:
        click.echo(f"{d.region} {d.counter}: stored {d.stored}, recounted {d.expected}")
    if not differences:
        click.echo(f"{checked} regions checked: no differences")
    elif fix:
        click.echo(f"{checked} regions checked: {len(differences)} difference(s) repaired")
    else:
        raise click.ClickException(f"{checked} regions checked: {len(differences)} difference(s); "
                                   "run with --fix to repair")


def register_cli(app: Flask) -> None:
    """Attach every command group."""
    app.cli.add_command(bank_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(regions_cli)
    app.cli.add_command(households_cli)
    app.cli.add_command(coverage_cli)
