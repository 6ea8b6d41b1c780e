"""Personal data: `purge` (retention), `person show` (a person's own records) and `person forget` (erasure).

Administrators only: a hub (``--hub``) is refused. They read the state store and the portal's database, never
Moodle, whose own data about a person is erased with Moodle's privacy tools.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from moodle_sync.commands.exits import handle_errors
from moodle_sync.commands.options import (
    connection_options,
    hold_sync_lock,
    settings_from,
    site_option,
    specs_option,
    store_for_reading,
)
from moodle_sync.config import Settings
from moodle_sync.console import Console
from moodle_sync.errors import ScopeError
from moodle_sync.jobs.site import load

hub_option = click.option("--hub", metavar="NAME", help="Refused: only an administrator may do this.")


def _admin_only(hub: str | None, what: str) -> None:
    if hub:
        raise ScopeError(f"{what} is for administrators only: hub {hub!r} may not use it",
                         hint="ask an administrator of moodle-sync, who runs it without --hub")


def _portal(settings: Settings, config_path: str | None) -> tuple[Any, Path | None]:
    """The portal's database and directory, when the portal has one (never made here)."""
    from moodle_sync.portal.config import data_dir, load_portal_config
    from moodle_sync.portal.db import PortalDB

    directory = data_dir(settings, load_portal_config(config_path)[0])
    if not (directory / "portal.db").exists():
        return None, None
    return PortalDB(directory / "portal.db"), directory


@click.command()
@specs_option
@connection_options
@click.option("--yes", is_flag=True, help="Remove them (without it: only say how many would go).")
@click.option("--json", "json_mode", is_flag=True, help="The outcome as one JSON document on stdout.")
@hub_option
@site_option
@handle_errors
def purge(specs: str | None, yes: bool, json_mode: bool, hub: str | None, site: str | None, **kwargs: Any) -> None:
    """Remove the people past retention from the state store and the portal (a dry run without --yes).

    A person is past retention `retention_months` (moodle-sync.toml, default 36) after they left every roster
    and have no active enrolment the tool manages. Reports keep counting them, as anonymous facts: every report
    for an earlier period gives the same numbers after a purge. The portal runs it every night.

    Example: moodle-sync purge --yes
    """
    from moodle_sync.privacy.purge import purge as do_purge

    _admin_only(hub, "purge")
    config_path = kwargs.get("config_path")
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    if yes:
        hold_sync_lock(settings, "purge")
    spec_set = load(settings.specs)
    store = store_for_reading(settings, site)
    portal, _ = _portal(settings, config_path)
    run_id = store.start_run("purge") if yes else 0
    result = do_purge(spec_set, store, portal, months=settings.retention_months, yes=yes)
    if yes:
        store.finish_run(run_id, "done", result.to_dict())
    Console(json_mode=json_mode).result(result.to_dict(), result.text())


@click.group()
def person() -> None:
    """A person's own records: show them (registerutdrag) or erase them (administrators only)."""


@person.command("show")
@specs_option
@connection_options
@click.option("--email", required=True, metavar="ADDRESS", help="The person's e-mail address.")
@click.option("--json", "json_mode", is_flag=True, help="The records as one JSON document on stdout.")
@hub_option
@site_option
@handle_errors
def person_show(specs: str | None, email: str, json_mode: bool, hub: str | None, site: str | None,
                **kwargs: Any) -> None:
    """Everything the state store and the portal hold about one person, for a subject access request.

    The headings are Swedish (a registerutdrag to hand over). Every look-up is logged among the personal-data
    exports. Moodle's own data about the person is listed by Moodle's privacy tools.

    Example: moodle-sync person show --email anna.andersson@falun.se --json
    """
    from moodle_sync.privacy.person import MOODLE_ERASURE, collect
    from moodle_sync.store.completions import CompletionStore

    _admin_only(hub, "person show")
    config_path = kwargs.get("config_path")
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    store = store_for_reading(settings, site)
    portal, directory = _portal(settings, config_path)
    records = collect(store, portal, email, portal_dir=directory)
    CompletionStore(store).log_personal_export(scope="all counties", what=f"registerutdrag (person show) {email}",
                                               rows=records.count)
    Console(json_mode=json_mode).result(records.to_dict(), records.text() + "\n\n" + MOODLE_ERASURE)


@person.command("forget")
@specs_option
@connection_options
@click.option("--email", required=True, metavar="ADDRESS", help="The person's e-mail address.")
@click.option("--json", "json_mode", is_flag=True, help="The outcome as one JSON document on stdout.")
@hub_option
@site_option
@handle_errors
def person_forget(specs: str | None, email: str, json_mode: bool, hub: str | None, site: str | None,
                  **kwargs: Any) -> None:
    """Erase one person from the state store and the portal (reports keep counting them, anonymously).

    Everything `person show` lists goes: their rows, the log lines and kept files that name them. The log says
    that a person was erased, never who. Moodle's own data is not erased by this tool: use Moodle's privacy
    tools. A roster that names the person again brings them back: take them off their county's list first.

    Example: moodle-sync person forget --email anna.andersson@falun.se
    """
    from moodle_sync.privacy.person import MOODLE_ERASURE, forget

    _admin_only(hub, "person forget")
    config_path = kwargs.get("config_path")
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    hold_sync_lock(settings, "person forget")
    spec_set = load(settings.specs)
    store = store_for_reading(settings, site)
    portal, directory = _portal(settings, config_path)
    run_id = store.start_run("person forget")
    records = forget(spec_set, store, portal, email, portal_dir=directory)
    summary = {"people": len(records.userids), "rows": records.count}
    store.finish_run(run_id, "done", summary)
    if portal is not None:
        portal.log("command line", "person-forgotten", detail=f"one person's records erased ({records.count} rows)")
    accounts = records.parts.get("accounts", [])
    text = (f"Erased {records.count} records about the person from the state store and the portal"
            + (" (none found)" if not records.count else "") + "; reports keep counting them anonymously.")
    if accounts:
        text += ("\nA portal account has this address and is kept: disable it with `moodle-sync portal user "
                 "disable`.")
    Console(json_mode=json_mode).result({**summary, "portal_account_kept": bool(accounts)},
                                        text + "\n" + MOODLE_ERASURE)
