"""The round against Moodle: validate, plan, apply (and applied_text, its summary), doctor, runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from moodle_sync import clock
from moodle_sync.commands.exits import EXIT_CHANGES, EXIT_ERROR, handle_errors
from moodle_sync.commands.options import (
    connection_options,
    hold_sync_lock,
    settings_from,
    site_option,
    specs_option,
    store_for_reading,
)
from moodle_sync.config import load_settings
from moodle_sync.console import Console
from moodle_sync.errors import PlanError, SpecError
from moodle_sync.explainer import render_plan
from moodle_sync.jobs import sync as sync_job
from moodle_sync.jobs.doctor import TESTED_RELEASES, check_site
from moodle_sync.jobs.site import connect_from_settings, load, open_store
from moodle_sync.reconcile.apply import ApplyResult
from moodle_sync.reconcile.plan import Plan


def one_specs_dir(positional: str | None, option: str | None) -> str | None:
    """``plan DIR`` and ``plan --specs DIR`` (as every other command takes it) are the same; both, differing, are
    a usage error."""
    if positional and option and Path(positional) != Path(option):
        raise click.UsageError(f"two specs directories given ({positional} and --specs {option}): give one")
    return positional or option


# --- validate ------------------------------------------------------------------------------------

@click.command()
@click.argument("specs_dir", required=False, type=click.Path(), metavar="[SPECS_DIR]")
@specs_option
@click.option("--json", "json_mode", is_flag=True, help="One JSON document on stdout.")
@handle_errors
def validate(specs_dir: str | None, specs: str | None, json_mode: bool) -> None:
    """Check the course specs without talking to Moodle; report every problem with file and line.

    Exits 1 when there is any problem.

    Example: moodle-sync validate course_specs/
    """
    console = Console(json_mode=json_mode)
    path = one_specs_dir(specs_dir, specs) or load_settings({}).specs
    try:
        spec_set = load(path)
    except SpecError as e:
        console.result({"valid": False, "problems": [p.as_dict() for p in e.problems]})
        if not json_mode:
            console.error(str(e))
        sys.exit(EXIT_ERROR)
    summary = {"valid": True, "categories": len(spec_set.categories), "courses": len(spec_set.courses),
               "target_groups": len(spec_set.target_groups), "digest": spec_set.digest}
    console.result(summary, f"OK: {len(spec_set.courses)} courses, {len(spec_set.categories)} categories, "
                            f"{len(spec_set.target_groups)} target groups in {path}")


# --- plan ----------------------------------------------------------------------------------------

@click.command()
@click.argument("specs_dir", required=False, type=click.Path(), metavar="[SPECS_DIR]")
@specs_option
@connection_options
@click.option("--out", "out_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Save the plan for `moodle-sync apply FILE`.")
@click.option("--json", "json_mode", is_flag=True, help="The plan as one JSON document on stdout.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when in sync, 2 when changes are pending.")
@click.option("--hide-removed", is_flag=True, help="Plan to hide courses whose spec was removed.")
@handle_errors
def plan(specs_dir: str | None, specs: str | None, out_path: str | None, json_mode: bool, detailed_exitcode: bool,
         hide_removed: bool, **kwargs: Any) -> None:
    """Read Moodle and show what apply would change. Changes nothing.

    Example: moodle-sync plan course_specs/ --out plan.json --detailed-exitcode
    """
    console = Console(json_mode=json_mode)
    specs = one_specs_dir(specs_dir, specs)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    spec_set = load(settings.specs)
    api = connect_from_settings(settings)
    store = open_store(settings, api)
    the_plan, _ = sync_job.make_plan(api, spec_set, store, hide_removed=hide_removed, console=console,
                                   roles=settings.roles)
    sync_job.record_plan(store, spec_set, the_plan)
    if out_path:
        Path(out_path).write_text(the_plan.to_json() + "\n", encoding="utf-8")
    console.result(the_plan.to_dict(), render_plan(the_plan))
    if out_path:
        console.say(f"Plan saved to {out_path}; apply it with: moodle-sync apply {out_path}")
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(EXIT_CHANGES)


# --- apply ---------------------------------------------------------------------------------------

@click.command()
@click.argument("plan_file", required=False, type=click.Path(exists=True), metavar="[PLAN_FILE]")
@specs_option
@connection_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "json_mode", is_flag=True, help="The outcome as one JSON document on stdout.")
@click.option("--hide-removed", is_flag=True, help="Hide courses whose spec was removed.")
@handle_errors
def apply(plan_file: str | None, specs: str | None, yes: bool, json_mode: bool, hide_removed: bool,
          **kwargs: Any) -> None:
    """Apply the specs to Moodle: show the plan, ask, then apply it in batches.

    With PLAN_FILE, applies exactly that saved plan and refuses it if the specs or Moodle changed
    since it was made. Safe to run again after an interruption: it converges without duplicates.

    Example: moodle-sync apply plan.json --yes
    """
    if plan_file and Path(plan_file).is_dir():  # `apply course_specs/`, as one would write `plan course_specs/`
        raise click.BadParameter(f"{plan_file} is a directory: apply takes a plan file saved by `plan --out`; "
                                 f"to apply the specs in {plan_file}, run `moodle-sync apply --specs {plan_file}`",
                                 param_hint="PLAN_FILE")
    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    hold_sync_lock(settings, "apply")
    spec_set = load(settings.specs)
    api = connect_from_settings(settings)
    store = open_store(settings, api)
    saved = None
    if plan_file:
        try:
            saved = Plan.from_dict(json.loads(Path(plan_file).read_text(encoding="utf-8")), source=plan_file)
        except json.JSONDecodeError as e:
            raise PlanError(f"{plan_file}: not JSON ({e})") from e

    def confirm(p: Plan) -> bool:
        console.say(render_plan(p))
        if yes:
            return True
        if not sys.stdin.isatty():
            raise PlanError("apply needs confirmation; pass --yes to apply without asking")
        return click.confirm("Apply these changes to Moodle?", default=False, err=True)

    report = sync_job.apply(api, spec_set, store, plan=saved, plan_source=plan_file or "the plan",
                          hide_removed=hide_removed, console=console, confirm=confirm, roles=settings.roles,
                          workers=settings.workers)
    if not report.plan.actions:
        console.result(report.to_dict(), "No changes. Moodle matches the specs.")
        return
    console.result(report.to_dict(), applied_text(report.result, report.run_id))


def applied_text(result: ApplyResult, run_id: int | None = None) -> str:
    """``Applied: 5 categories created, 240 cohorts created …`` (and what failed or was skipped)."""
    from moodle_sync.reconcile.words import summary_by_kind

    text = f"Applied: {summary_by_kind(result.done) or 'nothing'}"
    if result.failed:
        text += f"; failed: {summary_by_kind(result.failed)}"
    if result.skipped:
        text += f"; skipped: {summary_by_kind(result.skipped)}"
    return text + (f" (run {run_id})." if run_id is not None else ".")


# --- doctor --------------------------------------------------------------------------------------

@click.command()
@connection_options
@click.option("--json", "json_mode", is_flag=True, help="The report as one JSON document on stdout.")
@handle_errors
def doctor(json_mode: bool, **kwargs: Any) -> None:
    """Check the connection, Moodle's version and that the token may call every function used.

    Example: MOODLE_URL=https://moodle.example.se MOODLE_TOKEN=… moodle-sync doctor
    """
    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs)
    api = connect_from_settings(settings)
    report, completion_report = check_site(api, specs_path=settings.specs, roles=settings.roles,
                                           completion_report=settings.completion_report)
    lines = [f"Moodle {report.release} ({report.version}) at {report.url}, as {report.username}"
             + (" (site admin)" if report.site_admin else "")
             + f"; the tool is tested on Moodle {' and '.join(TESTED_RELEASES)}"]
    if completion_report:
        lines.append(completion_report)
    if report.missing_functions:
        lines.append("Missing from the token's service: " + ", ".join(report.missing_functions))
        lines.append("  add them under Site administration > Server > Web services > External services")
    if report.new_accounts:
        lines.append(report.new_accounts)
    if report.roles_seen:
        lines.append("Roles seen in the managed courses: "
                     + ", ".join(f"{k}={v}" for k, v in sorted(report.roles_seen.items())))
    lines += [f"Problem: {p}" for p in report.problems]
    lines += [f"Warning: {w}" for w in report.warnings]
    lines.append("OK" if report.ok else "NOT OK")
    console.result(report.to_dict(), "\n".join(lines))
    if not report.ok:
        sys.exit(EXIT_ERROR)


# --- runs ----------------------------------------------------------------------------------------

@click.command()
@connection_options
@click.option("--limit", default=10, show_default=True, help="How many runs to show.")
@click.option("--json", "json_mode", is_flag=True, help="One JSON document on stdout.")
@site_option
@handle_errors
def runs(limit: int, json_mode: bool, site: str | None, **kwargs: Any) -> None:
    """Show the latest runs recorded in the state store (who, when, commit, outcome). Needs no Moodle.

    Example: moodle-sync runs --limit 5
    """
    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs)
    store = store_for_reading(settings, site)
    rows = store.runs(limit)
    for row in rows:
        row.pop("plan_json", None)
    text = "\n".join(f"#{r['id']} {clock.shown(r['started_at'])} {r['command']} by {r['user']}@{r['host']} "
                     f"commit {(r['specs_commit'] or '-')[:10]}: {r['status']}" for r in rows) or "No runs yet."
    console.result(rows, text)
