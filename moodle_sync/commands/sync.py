"""The round against Moodle: validate, plan, apply (and applied_text, its summary), doctor, runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from moodle_sync import clock, engine
from moodle_sync.applier import ApplyResult
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
from moodle_sync.errors import MoodleSyncError, PlanError, SiteNotReached, SpecError
from moodle_sync.explainer import render_plan
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
        spec_set = engine.load(path)
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
    spec_set = engine.load(settings.specs)
    api = engine.connect_from_settings(settings)
    store = engine.open_store(settings, api)
    the_plan, _ = engine.make_plan(api, spec_set, store, hide_removed=hide_removed, console=console,
                                   roles=settings.roles)
    run_id = store.start_run("plan", specs_commit=spec_set.git_commit, specs_dirty=spec_set.git_dirty,
                             spec_digest=spec_set.digest, plan=the_plan.to_dict())
    store.finish_run(run_id, "changes-pending" if the_plan.has_changes else "in-sync", the_plan.counts())
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
    spec_set = engine.load(settings.specs)
    api = engine.connect_from_settings(settings)
    store = engine.open_store(settings, api)
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

    report = engine.apply(api, spec_set, store, plan=saved, plan_source=plan_file or "the plan",
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
    api = engine.connect_from_settings(settings)
    course_ids: list[int] = []
    templates: dict[str, str] = {}
    try:  # the managed courses, to compare the [roles] map with the roles Moodle shows in them
        spec_set = engine.load(settings.specs)
        course_ids = [c.id for s in spec_set.courses.values() if (c := api.course_by_idnumber(s.idnumber))]
        templates = {s.template: s.key for s in spec_set.courses.values() if s.template}
    except SiteNotReached:
        raise
    except MoodleSyncError:
        pass  # doctor also runs without specs
    report = engine.doctor(api, roles=settings.roles, course_ids=course_ids)
    for template, key in sorted(templates.items()):
        if api.course_by_idnumber(template) is None:
            report.problems.append(f"template course {template!r} (named by course spec {key}) does not exist in "
                                   f"Moodle: create it (with its activities and completion criteria) and give it "
                                   f"that ID number, or remove `template` from the spec")
    from moodle_sync.completions.explain import report_doctor

    completion_report = report_doctor(api, settings.completion_report, report)
    lines = [f"Moodle {report.release} ({report.version}) at {report.url}, as {report.username}"
             + (" (site admin)" if report.site_admin else "")
             + f"; the tool is tested on Moodle {' and '.join(engine.TESTED_RELEASES)}"]
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
