"""`moodle-sync serve` and `moodle-sync portal user …`: the portal's commands (registered in moodle_sync/cli.py)."""

from __future__ import annotations

import sys
from typing import Any

import click

from moodle_sync.commands.options import config_option
from moodle_sync.config import Settings, load_settings
from moodle_sync.errors import ConfigError
from moodle_sync.portal.config import load_portal_config

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _settings(config_path: str | None, state_path: str | None) -> Settings:
    flags = {"state_path": state_path} if state_path else {}
    return load_settings(flags, config_path=config_path)


def _db(settings: Settings, config_path: str | None) -> Any:
    from moodle_sync.portal.config import data_dir
    from moodle_sync.portal.db import PortalDB

    portal, _ = load_portal_config(config_path)
    return PortalDB(data_dir(settings, portal) / "portal.db")


state_option = click.option("--state", "state_path", metavar="FILE",
                            help="SQLite state store (default .moodle-sync/state.db); the portal keeps its own "
                                 "database in portal/ beside it.")


@click.command()
@config_option
@state_option
@click.option("--host", metavar="ADDRESS", help="Address to listen on (default [portal] host, 127.0.0.1).")
@click.option("--port", type=int, metavar="PORT", help="Port (default [portal] port, 8080).")
@click.option("--no-scheduler", is_flag=True, help="Serve the pages only; run no scheduled apply or pull.")
def serve(config_path: str | None, state_path: str | None, host: str | None, port: int | None,
          no_scheduler: bool) -> None:
    """Serve the county hubs' web portal and run the scheduled sync (apply, pull) in one process.

    Listens on loopback by default: in production put a reverse proxy with TLS in front (README).
    Accounts are made with `moodle-sync portal user add`. GET /healthz answers without login.

    Example: moodle-sync serve --port 8080
    """
    import uvicorn

    from moodle_sync.portal.app import create_app

    settings = _settings(config_path, state_path)
    settings.require_moodle()  # fail now, not on the first page: the URL and token must be there
    portal, schedule = load_portal_config(config_path)
    bind = host or portal.host
    if bind not in LOOPBACK:
        click.echo(f"Warning: listening on {bind}, not loopback: serve it only behind a reverse proxy with TLS "
                   "and set secure_cookies = true and trusted_proxies = [the proxy's address] under [portal]",
                   err=True)
    app = create_app(settings, portal, schedule, scheduler=not no_scheduler)
    click.echo(f"moodle-sync portal on http://{bind}:{port or portal.port}/ (Ctrl-C stops)", err=True)
    # X-Forwarded-For is the app's to read, from [portal] trusted_proxies only (portal/forwarded.py): uvicorn's own
    # reading would believe any local caller (its default forwarded_allow_ips is 127.0.0.1)
    uvicorn.run(app, host=bind, port=port if port is not None else portal.port, log_level="warning",
                proxy_headers=False, server_header=False)


@click.group("portal")
def portal_group() -> None:
    """The web portal's accounts (county hubs and admins)."""


@portal_group.group("user")
def user() -> None:
    """Add, list, disable portal accounts and give them new passwords."""


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set and whether it is a one-time one (to be changed at the first login)."""
    from moodle_sync.portal.auth import one_time_password, password_problem

    if not from_stdin:
        return one_time_password(), True
    password = sys.stdin.readline().rstrip("\r\n")
    if problem := password_problem(password):
        raise click.ClickException(problem)
    return password, False


@user.command("add")
@click.option("--email", required=True, metavar="EMAIL", help="The person's e-mail: their login name.")
@click.option("--name", "person_name", default="", metavar="NAME",
              help="The person's name, as the county's history names who uploaded a list (default: the e-mail).")
@click.option("--hub", metavar="NAME", help="A county hub configured as [hubs.NAME]: sees and changes its county only.")
@click.option("--admin", is_flag=True, help="An admin account: every county, the status page and the log.")
@click.option("--personal-data", is_flag=True, help="May see and download person-level lists (always logged).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of making a "
                                                     "one-time password.")
@config_option
@state_option
def user_add(email: str, person_name: str, hub: str | None, admin: bool, personal_data: bool,
             password_stdin: bool, config_path: str | None, state_path: str | None) -> None:
    """Add an account. Without --password-stdin a one-time password is printed; it must be changed at login.

    Example: moodle-sync portal user add --hub dalarna --email anna.berg@lansstyrelsen.se --name "Anna Berg"
    """
    from moodle_sync.portal.auth import hash_password
    from moodle_sync.portal.site import Site

    if bool(hub) == admin:
        raise click.UsageError("give either --hub NAME or --admin")
    if "@" not in email or email.strip() != email:
        raise click.UsageError(f"{email!r} is not an e-mail address")
    settings = _settings(config_path, state_path)
    county = Site(settings).hub_county(hub) if hub else ""
    password, one_time = _password(password_stdin)
    db = _db(settings, config_path)
    db.add_account(email=email.lower(), password_hash=hash_password(password), role="admin" if admin else "hub",
                   hub=hub or "", county=county, personal_data=personal_data, must_change=one_time,
                   name=person_name.strip())
    db.log("command line", "account-added", county=county, detail=f"{email.lower()} ({'admin' if admin else hub})")
    who = "admin" if admin else f"hub {hub} ({county})"
    click.echo(f"Added {email.lower()} as {who}" + (", may see person-level lists" if personal_data else "") + ".")
    if one_time:
        click.echo(f"One-time password (give it to them another way than e-mail; it must be changed at the first "
                   f"login): {password}")


@user.command("list")
@config_option
@state_option
def user_list(config_path: str | None, state_path: str | None) -> None:
    """List the accounts."""
    db = _db(_settings(config_path, state_path), config_path)
    for a in db.accounts():
        role = "admin" if a.is_admin else f"hub {a.hub} ({a.county})"
        flags = [f for f, on in (("personal data", a.personal_data), ("must change password", a.must_change),
                                 ("disabled", a.disabled)) if on]
        click.echo(f"{a.email}" + (f" ({a.name})" if a.name else "") + f": {role}"
                   + (f" [{', '.join(flags)}]" if flags else ""))


@user.command("disable")
@click.option("--email", required=True, metavar="EMAIL")
@config_option
@state_option
def user_disable(email: str, config_path: str | None, state_path: str | None) -> None:
    """Disable an account and end its sessions at once."""
    db = _db(_settings(config_path, state_path), config_path)
    account = db.account(email=email.lower())
    if account is None:
        raise ConfigError(f"no portal account {email}")
    db.set_disabled(account.id, True)
    db.log("command line", "account-disabled", county=account.county, detail=email.lower())
    click.echo(f"Disabled {email.lower()}; its sessions have ended.")


@user.command("password")
@click.option("--email", required=True, metavar="EMAIL")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@config_option
@state_option
def user_password(email: str, password_stdin: bool, config_path: str | None, state_path: str | None) -> None:
    """Give an account a new (one-time) password; its sessions end."""
    from moodle_sync.portal.auth import hash_password

    db = _db(_settings(config_path, state_path), config_path)
    account = db.account(email=email.lower())
    if account is None:
        raise ConfigError(f"no portal account {email}")
    password, one_time = _password(password_stdin)
    db.set_password(account.id, hash_password(password), must_change=one_time)
    db.log("command line", "password-reset", county=account.county, detail=email.lower())
    click.echo(f"New password set for {email.lower()}." + (f" One-time password: {password}" if one_time else ""))
