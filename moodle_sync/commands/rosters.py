"""`moodle-sync roster import`: a county's staff list into Moodle (the plan, confirmed, then applied)."""

from __future__ import annotations

import sys
from typing import Any

import click

from moodle_sync.commands.exits import handle_errors
from moodle_sync.commands.options import connection_options, hold_sync_lock, scope_for, settings_from, specs_option
from moodle_sync.console import Console
from moodle_sync.errors import PlanError
from moodle_sync.jobs.roster_import import import_roster, plan_roster_import, read_roster_file
from moodle_sync.jobs.site import connect_from_settings, load, open_store


@click.group()
def roster() -> None:
    """County rosters: the staff lists regional hubs keep (CSV or XLSX)."""


@roster.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
@click.option("--county", metavar="CODE", help="The county the roster is for (W, AB, 20, Dalarna …); with --hub, "
                                                "the hub's county.")
@click.option("--hub", metavar="NAME", help="Act as this regional hub (from [hubs.NAME] in moodle-sync.toml): "
                                             "only its county may be touched (rows naming people it may not use "
                                             "are refused: an administrator can import them without --hub).")
@click.option("--sheet", metavar="NAME", help="The worksheet of an XLSX workbook that holds the list "
                                              "(default: the first visible one).")
@click.option("--mode", type=click.Choice(["replace", "add"]), default="replace", show_default=True,
              help="replace: the file is the complete list for the target groups it names (people missing from "
                   "it leave those cohorts); add: only add.")
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows and skip invalid ones (listed).")
@click.option("--allow-mass-removal", is_flag=True, help="Allow an import that removes more than 20% of the "
                                                         "county's members.")
@specs_option
@connection_options
@click.option("--json", "json_mode", is_flag=True, help="The import plan and outcome as one JSON document.")
@handle_errors
def roster_import(file: str, county: str | None, hub: str | None, sheet: str | None, mode: str, dry_run: bool,
                  yes: bool, skip_invalid: bool, allow_mass_removal: bool, specs: str | None, json_mode: bool,
                  **kwargs: Any) -> None:
    """Import a county's staff list: create and update people, set cohort members, enrol by the rules.

    Every row is checked before anything is written; all problems are listed with row numbers.
    People who leave the file leave their cohorts and their enrolments are suspended, never removed;
    members someone added in Moodle are kept, and existing accounts the file names are adopted.

    Rows refused before anything is sent for them (a person of another county with --hub, an account
    Moodle would refuse) exit 1 once the rest is done, each row named with what to fix: running the
    import again would refuse them again. Exit 3 is for failures a rerun may fix (lost answers, Moodle errors).

    Example: moodle-sync roster import --county W dalarna.csv --dry-run
    """
    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    if county is None and not hub:
        raise click.UsageError("name the county with --county CODE (or act as a hub with --hub NAME)")
    scope = scope_for(settings, hub, county)
    code = scope.one_county()
    spec_set = load(settings.specs)
    roster_file = read_roster_file(spec_set, file, sheet=sheet)  # before the lock: no other sync waits for it
    hold_sync_lock(settings, f"roster import {code}")
    api = connect_from_settings(settings, scope=scope)
    store = open_store(settings, api)

    from moodle_sync.explainer import render_roster_plan

    shown: list[bool] = []

    def confirm(plan: Any) -> bool:
        console.say(render_roster_plan(plan))
        shown.append(True)  # the plan is printed once: the outcome below does not repeat it
        if yes:
            return True
        if not sys.stdin.isatty():
            raise PlanError("the import needs confirmation; pass --yes to apply without asking (or --dry-run)")
        return click.confirm("Apply this roster to Moodle?", default=False, err=True)

    options: dict[str, Any] = dict(scope=scope, mode=mode, sheet=sheet, skip_invalid=skip_invalid,
                                   allow_mass_removal=allow_mass_removal, auth=settings.auth, console=console,
                                   workers=settings.workers, roles=settings.roles)
    if dry_run:  # the plan, printed through the Explainer: nothing is written to Moodle
        report = plan_roster_import(api, spec_set, store, roster_file, **options)
    else:
        report = import_roster(api, spec_set, store, roster_file, confirm=confirm, **options)
    from moodle_sync.reconcile.words import count_words

    lines = [] if shown else [render_roster_plan(report.plan)]
    if report.outcome:
        o = report.outcome
        done = (f"Done: {count_words(o.created, 'person', 'people')} created, {o.updated} updated, "
                f"{count_words(o.added, 'cohort membership')} added, {o.removed} removed.")
        if report.enrolments:
            s = report.enrolments.summary()
            done += (f" Enrolments brought in step in {count_words(s['done'], 'course')}"
                     + (f", {s['failed']} failed." if s["failed"] else "."))
        lines.append(done)
    elif dry_run:
        lines.append("(dry run: nothing was written)")
    console.result(report.to_dict(), "\n".join(lines))
