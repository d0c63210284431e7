"""`flask --app server ...` commands. They run the same commands as the API; `$EXITNOW_DB`
selects the database. Each command is a function of its own; `register_cli` adds them all
(the `flask` command pushes the app's context, so `current_app` is the loaded app)."""

from __future__ import annotations

import base64
import sqlite3
import sys
from typing import NoReturn

import click
from flask import Flask, current_app

from . import commands, demo
from .basics.clock import now_ms
from .basics.errors import Rejected
from .basics.qr import qr_svg, qr_terminal
from .basics.settings import link_base
from .commands import site_config
from .evidence.checkpoints import origin
from .evidence.log_key import key_path
from .operations import backup
from .rules.auth import ROLES, command_line
from .store import integrity, log
from .store.rebuild import rebuild
from .store.state import site_ids


def services():
    return current_app.extensions["exitnow"]


def fail(message: str) -> NoReturn:
    """Say what went wrong on standard error and exit 1."""
    click.echo(message, err=True)
    sys.exit(1)


def run(site: str, name: str, params: dict) -> dict:
    """Run a command as the command line (an admin of the site); a refusal exits 1."""
    try:
        return commands.execute(services(), command_line(site), site, name, params)
    except Rejected as rejected:
        fail(f"error: {rejected.detail}")


@click.command("create-token")
@click.option("--site", required=True, help="site id, e.g. demo")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", required=True, help="the person or integration the token acts as")
@click.option("--chain", is_flag=True, help="an admin of every site (with --role admin)")
def create_token(site: str, role: str, name: str, chain: bool) -> None:
    """Print a bearer token (last line of output) acting as NAME with ROLE on SITE."""
    result = run(site, "create_token", {"name": name, "role": role, "chain": chain})
    click.echo(f"Bearer token for {name} ({role}) on {site}; it is shown only once:")
    click.echo(result["token"])


def new_enrollment_link(site: str, staff_id: int) -> tuple[str, str]:
    """(the link, until when it works); says on standard error when its address is a guess."""
    result = run(site, "create_enrollment_link", {"staff_id": staff_id})
    base, warning = link_base(services().settings)
    if warning:
        click.echo(f"note: {warning}", err=True)
    return base + result["path"], result["expires_at"]


@click.command("enrollment-link")
@click.option("--site", required=True)
@click.option("--staff-id", required=True, type=int)
def enrollment_link(site: str, staff_id: int) -> None:
    """Print a new single-use enrollment link for a staff member."""
    url, expires_at = new_enrollment_link(site, staff_id)
    click.echo(f"Valid until {expires_at}:")
    click.echo(url)


@click.command("enroll-qr")
@click.option("--site", required=True)
@click.option("--staff-id", required=True, type=int)
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False), help="also write an SVG")
def enroll_qr(site: str, staff_id: int, svg_path: str | None) -> None:
    """Print a new enrollment link as a QR code to scan (and optionally write it as SVG)."""
    url, expires_at = new_enrollment_link(site, staff_id)
    click.echo(qr_terminal(url))
    if svg_path:
        with open(svg_path, "w", encoding="utf-8") as file:
            file.write(qr_svg(url, "Exit Now"))
    click.echo(f"Valid once, until {expires_at}:")
    click.echo(url)


@click.command("site-import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def site_import(path: str) -> None:
    """Create or update a site from one YAML or JSON file; on any error, change nothing."""
    with open(path, encoding="utf-8") as file:
        text = file.read()
    try:
        config = site_config.parse(text)
    except site_config.ConfigError as error:
        for problem in error.problems:
            click.echo(f"{path}: {site_config.describe(problem)}", err=True)
        fail("Nothing was changed.")
    result = run(config["site"], "import_site", {"config": config})
    click.echo(
        f"Imported site {result['site']}: {result['zones']} zones, {result['staff']} people."
    )


@click.command("site-export")
@click.argument("site")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML")
def site_export(site: str, as_json: bool) -> None:
    """Print a site's whole set-up as YAML (or JSON), ready for site-import."""
    with services().store.reading() as db:
        if not db.execute("SELECT 1 FROM sites WHERE id = ?", [site]).fetchone():
            fail(f"error: There is no site '{site}'.")
        config = site_config.read_site(db, site)
    click.echo(site_config.dump(config, as_json), nl=False)


@click.command("erase-person")
@click.option("--site", required=True, help="site id, e.g. demo")
@click.option("--staff-id", type=int, default=None, help="the staff member to erase")
@click.option("--visitor-id", type=int, default=None, help="the visitor to erase")
def erase_person(site: str, staff_id: int | None, visitor_id: int | None) -> None:
    """Erase one person's personal data everywhere (the log's hashes stay valid)."""
    if (staff_id is None) == (visitor_id is None):
        fail("error: give exactly one of --staff-id and --visitor-id.")
    params = {"staff_id": staff_id} if staff_id is not None else {"visitor_id": visitor_id}
    result = run(site, "erase_person", params)
    who = f"staff {staff_id}" if staff_id is not None else f"visitor {visitor_id}"
    _print_erased(f"{who} on {site}", result["erased"])


@click.command("erase-expired")
@click.option("--site", default=None, help="only this site (default: every site)")
@click.option("--as-of", default=None, help="ISO 8601 time to judge retention at (default: now)")
def erase_expired(site: str | None, as_of: str | None) -> None:
    """Erase the personal data whose retention (the site file's `privacy`) has ended."""
    for name in [site] if site else _sites():
        params = {"as_of": as_of} if as_of else {}
        _print_erased(name, run(name, "erase_expired", params)["erased"])


def _sites() -> list[str]:
    with services().store.reading() as db:
        return site_ids(db)


def _print_erased(whose: str, erased: dict) -> None:
    """What was erased, by kind and count; the old pages overwritten in the WAL too."""
    services().store.after_erasure()
    if not erased:
        click.echo(f"{whose}: nothing to erase")
    for kind, count in erased.items():
        click.echo(f"{whose}: erased {kind}: {count}")


@click.command("verify-log")
@click.option("--site", default=None, help="only this site's chain")
def verify_log(site: str | None) -> None:
    """Check the hash chain; exit non-zero naming the first bad entry."""
    with services().store.reading() as db:
        result = log.verify(db, site)
    if not result.ok:
        fail(f"log verification FAILED after {result.count} good entries: {result.problem}")
    click.echo(f"log intact: {result.count} entries verified, last hash {result.last_hash}")


@click.command("check-database")
def check_database() -> None:
    """Check the database as a start does (the log from its last checkpoint) and more: the
    SQLite file's quick_check, or PostgreSQL's amcheck where the database has it; exit 1
    naming each problem and the way back."""
    whole, said = integrity.check_on_demand(services().settings)
    if not whole:
        fail(said)
    click.echo(said)


@click.command("log-key")
def log_key() -> None:
    """Print the public half of the key that signs the log's checkpoints, and its fingerprint."""
    key, settings = services().checkpoints.key, services().settings
    with services().store.reading() as db:
        sites = site_ids(db)
    click.echo(f"Log signing key (Ed25519), kept in {key_path(settings)}:")
    click.echo(f"public key:  {base64.b64encode(key.public_raw).decode()}")
    click.echo(f"fingerprint: {key.fingerprint}")
    click.echo("Verifier key of each site's checkpoints (C2SP signed note):")
    for site in sites:
        click.echo(f"  {site}: {key.verifier_key(origin(settings, site))}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--pages",
    default=backup.PAGES_PER_STEP,
    show_default=True,
    type=click.IntRange(min=1),
    help="database pages copied per step",
)
def backup_database(file: str, pages: int) -> None:
    """Copy the live database into FILE (a new file) while the server runs, then check it
    (on PostgreSQL: pg_dump's custom format, for pg_restore)."""
    settings = services().settings
    try:
        if settings.database_url:
            made = backup.back_up_postgres(settings.database_url, file)
        else:
            made = backup.back_up(settings.db_path, file, pages)
    except FileExistsError as error:
        fail(f"error: {error}")
    except (backup.BackupFailed, OSError, sqlite3.Error) as error:
        fail(f"error: backup failed, {file} was not written: {error}")
    click.echo(made.describe())


@click.command("rebuild-state")
@click.option(
    "--into",
    type=click.Path(dir_okay=False),
    help="the new database file (default: beside the live one, with a timestamp)",
)
def rebuild_state(into: str | None) -> None:
    """Rebuild every state table from the log into a fresh file; compare with the live one."""
    settings = services().settings
    live = "the PostgreSQL store" if settings.database_url else settings.db_path
    into = into or f"{settings.db_path}.rebuilt-{now_ms()}"
    try:
        with services().store.reading() as db:
            found = rebuild(db, into)
    except FileExistsError as error:
        fail(f"error: {error}")
    if found:
        fail(
            "\n".join([f"rebuilt state in {into} DIFFERS from {live}:"] + [f"  {f}" for f in found])
        )
    click.echo(f"rebuilt state in {into} matches {live}: every state table is equal")


@click.command("panel-secret")
@click.option("--site", required=True)
@click.option("--rotate", is_flag=True, help="a second secret; the old one stays valid too")
@click.option("--retire-old", is_flag=True, help="after a rotation: only the newest is valid")
def panel_secret(site: str, rotate: bool, retire_old: bool) -> None:
    """Make the webhook secret of SITE's alarm panel (printed once), rotate or retire it."""
    if rotate and retire_old:
        fail("error: --rotate and --retire-old are two steps: rotate first.")
    if retire_old:
        retired = run(site, "retire_old_alarm_panel_secrets", {})["retired"]
        click.echo(f"Retired {len(retired)} old secret(s); the newest alone is valid now.")
        return
    result = run(site, "add_alarm_panel_secret", {"rotate": rotate})
    click.echo(f"Alarm panel secret of {site} ({result['valid']} valid now); shown only once:")
    click.echo(result["secret"])


@click.command("seed-demo")
def seed_demo() -> None:
    """Create the demo site (when the database is empty) and print enrollment links."""
    if not demo.is_empty(services()):
        fail("The database is not empty; the demo site was not created.")
    made = demo.seed(services())
    # The links as the command line makes them (see new_enrollment_link).
    base, warning = link_base(services().settings)
    if warning:
        click.echo(f"note: {warning}", err=True)
    home = len(services().settings.base_url)
    print_links([(person, base + url[home:]) for person, url in made])


def print_links(links) -> None:
    click.echo("Enrollment links (single use):")
    for person, url in links:
        click.echo(f"  {person['name']:<16} {person['role']:<13} {url}")


COMMANDS = (
    create_token,
    enrollment_link,
    enroll_qr,
    site_import,
    site_export,
    erase_person,
    erase_expired,
    verify_log,
    check_database,
    log_key,
    backup_database,
    rebuild_state,
    panel_secret,
    seed_demo,
)


def register_cli(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
