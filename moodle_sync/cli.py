"""The command line: thin click commands that call the library (engine.py) and print results.

Exit codes: 0 done / in sync; 1 error; 2 changes pending (only with --detailed-exitcode);
3 apply finished partly (run it again: it converges); 64 usage error (bad option or argument).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from moodle_sync import __version__, engine
from moodle_sync.applier import ApplyResult
from moodle_sync.config import SETTINGS, Settings, load_settings
from moodle_sync.console import Console
from moodle_sync.errors import ApplyError, MoodleSyncError, PlanError, SiteNotReached, SpecError, redact
from moodle_sync.explainer import render_plan
from moodle_sync.logs import configure_logging
from moodle_sync.portal.commands import portal_group, serve
from moodle_sync.reconcile.plan import Plan
from moodle_sync.scope import Scope
from moodle_sync.store.db import StateStore

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2, 3, 64

EXIT_CODES_HELP = """
\b
Exit codes:
  0   done, or Moodle already matches the specs
  1   error (nothing half-done is left: see the message)
  2   changes pending (plan --detailed-exitcode only)
  3   apply, import or pull finished partly; run it again, it converges
  64  usage error (unknown option, missing argument)
"""

F = TypeVar("F", bound=Callable[..., Any])

VERBOSE_HELP = "Log each Moodle call (function, items, time, retries) to stderr."
DEBUG_HELP = "Show tracebacks, and the bodies of Moodle calls (token hidden)."


def _logging_option(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """``-v``/``--debug`` after a subcommand (``plan -v``) work as they do before it."""
    if value:
        root = ctx.find_root()
        root.meta[f"moodle_sync.{param.name}"] = True
        configure_logging(verbose=param.name == "verbose", debug=param.name == "debug")
    return value


def _debugging(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug") or root.meta.get("moodle_sync.debug"))


def _logging_options_everywhere(group: click.Group) -> None:
    """Give every subcommand the group's ``-v`` and ``--debug`` (not passed to the command function)."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _logging_options_everywhere(command)
            continue
        names = {o for p in command.params for o in getattr(p, "opts", [])}
        if "--verbose" not in names:
            command.params.append(click.Option(["-v", "--verbose"], is_flag=True, expose_value=False,
                                               is_eager=True, callback=_logging_option, help=VERBOSE_HELP))
        if "--debug" not in names:
            command.params.append(click.Option(["--debug"], is_flag=True, expose_value=False, is_eager=True,
                                               callback=_logging_option, help=DEBUG_HELP))


#: the options every command that talks to Moodle takes (connection_options); an option whose parameter is
#: named after a Settings field (moodle_sync/config.py) is that setting's flag: settings_from passes it on
CONNECTION_OPTIONS = (
    click.option("--url", metavar="URL", help="Moodle site URL (else MOODLE_URL, else moodle-sync.toml)."),
    click.option("--token", metavar="TOKEN", help="Web-service token (prefer MOODLE_TOKEN or "
                                                  "token_command: a flag shows in the process list)."),
    click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE",
                 help="Config file (default: ./moodle-sync.toml when present)."),
    click.option("--state", "state_path", metavar="FILE",
                 help="SQLite state store (default .moodle-sync/state.db)."),
    click.option("--allow-http", is_flag=True, default=None,
                 help="Allow plain http to a non-loopback host (the token travels unencrypted)."),
    click.option("--max-input-vars", type=int, metavar="N",
                 help="The site's PHP max_input_vars (default 5000); batches stay under it."),
)


def connection_options(func: F) -> F:
    """Options every command that talks to Moodle takes (CONNECTION_OPTIONS, in that order in --help)."""
    for option in reversed(CONNECTION_OPTIONS):
        func = option(func)
    return func


#: ``--specs DIR``: the ``specs`` setting for commands whose argument is something else (a plan, a roster)
specs_option = click.option("--specs", "specs", type=click.Path(), metavar="DIR",
                            help="Specs directory (default course_specs).")


def site_option(func: F) -> F:
    """``--site`` for commands that read the state store without Moodle."""
    return click.option("--site", metavar="URL", help="The site whose records to read, when the state store "
                                                      "holds more than one (its URL).")(func)


def store_for_reading(settings: Settings, site: str | None) -> StateStore:
    """The state store for a command that needs no Moodle: the one site it holds, or the one ``--site`` names
    (else the configured URL, when the store holds several)."""
    from moodle_sync.store.sites import open_for_reading

    if site is None and settings.url:
        try:  # MOODLE_URL set for other commands picks the site, if the store has it under that address
            return open_for_reading(settings.state_path, settings.url)
        except MoodleSyncError:
            pass
    return open_for_reading(settings.state_path, site)


def settings_from(kwargs: dict[str, Any], **extra: Any) -> Settings:
    """The settings of a command: its connection options (taken out of ``kwargs``) and ``extra`` as flags."""
    flags = {name: kwargs.pop(name) for name in SETTINGS if name in kwargs} | extra
    settings = load_settings({k: v for k, v in flags.items() if v is not None},
                             config_path=kwargs.pop("config_path", None))
    from moodle_sync.store.gitcheck import committable_store_warning

    if warning := committable_store_warning(settings.state_path):
        Console().warn(warning)
    return settings


def hold_sync_lock(settings: Settings, what: str) -> None:
    """Take the one sync lock (shared with the portal's scheduler) until the command ends; busy → exit 1."""
    from moodle_sync.synclock import acquire

    click.get_current_context().call_on_close(acquire(settings.state_path, what).release)


def handle_errors(func: F) -> F:
    """Turn library errors into 'Error: …' on stderr and the documented exit codes."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return func(*args, **kwargs)
        except MoodleSyncError as e:
            if _debugging(ctx):
                raise
            Console().error(str(e))
            code = EXIT_PARTIAL if isinstance(e, ApplyError) and e.partial else EXIT_ERROR
            ctx.exit(code)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as e:  # a bug of ours: one clear line, never a traceback (--debug shows it)
            if _debugging(ctx):
                raise
            Console().error(unexpected(e))
            ctx.exit(EXIT_ERROR)
    return wrapper  # type: ignore[return-value]


def unexpected(error: BaseException) -> str:
    """What a person reads about an error moodle-sync did not foresee (the token redacted)."""
    detail = redact(str(error)).strip().splitlines()[0][:200] if str(error).strip() else "no details"
    return (f"moodle-sync stopped on a problem it did not foresee ({detail}).\n"
            f"  hint: what was done before it is kept (run the same command again to converge); run it with "
            f"--debug to see where it happened, and report that output to the moodle-sync maintainers")


@click.group(help=f"""Keep a Moodle site in step with versioned course specs in git.

\b
The usual round:
  moodle-sync validate course_specs/           check the specs (file:line for every problem)
  moodle-sync plan --out plan.json             see what would change in Moodle
  moodle-sync apply plan.json                  apply exactly that plan
  moodle-sync demo                             all of it against a built-in Moodle emulator
{EXIT_CODES_HELP}""", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="moodle-sync")
@click.option("--debug", is_flag=True, help=DEBUG_HELP)
@click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
def cli(debug: bool, verbose: bool) -> None:
    configure_logging(verbose=verbose, debug=debug)


# --- validate ------------------------------------------------------------------------------------

@cli.command()
@click.argument("specs", required=False, type=click.Path(), metavar="[SPECS_DIR]")
@click.option("--json", "json_mode", is_flag=True, help="One JSON document on stdout.")
@handle_errors
def validate(specs: str | None, json_mode: bool) -> None:
    """Check the course specs without talking to Moodle; report every problem with file and line.

    Exits 1 when there is any problem.

    Example: moodle-sync validate course_specs/
    """
    console = Console(json_mode=json_mode)
    path = specs or load_settings({}).specs
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

@cli.command()
@click.argument("specs", required=False, type=click.Path(), metavar="[SPECS_DIR]")
@connection_options
@click.option("--out", "out_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Save the plan for `moodle-sync apply FILE`.")
@click.option("--json", "json_mode", is_flag=True, help="The plan as one JSON document on stdout.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when in sync, 2 when changes are pending.")
@click.option("--hide-removed", is_flag=True, help="Plan to hide courses whose spec was removed.")
@handle_errors
def plan(specs: str | None, out_path: str | None, json_mode: bool, detailed_exitcode: bool,
         hide_removed: bool, **kwargs: Any) -> None:
    """Read Moodle and show what apply would change. Changes nothing.

    Example: moodle-sync plan course_specs/ --out plan.json --detailed-exitcode
    """
    console = Console(json_mode=json_mode)
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

@cli.command()
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


# --- roster ---------------------------------------------------------------------------------------

@cli.group()
def roster() -> None:
    """County rosters: the staff lists regional hubs keep (CSV or XLSX)."""


@roster.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
@click.option("--county", metavar="CODE", help="The county the roster is for (W, AB, 20, Dalarna …); with --hub, "
                                                "the hub's county.")
@click.option("--hub", metavar="NAME", help="Act as this regional hub (from [hubs.NAME] in moodle-sync.toml): "
                                             "only its county may be touched.")
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

    Example: moodle-sync roster import --county W dalarna.csv --dry-run
    """
    from moodle_sync.counties import resolve_county
    from moodle_sync.errors import ConfigError

    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    scope = scope_for(settings, hub)
    if county is None and scope.county is None:
        raise click.UsageError("name the county with --county CODE (or act as a hub with --hub NAME)")
    try:
        code = resolve_county(county).code if county is not None else str(scope.county)
    except ValueError as e:
        raise ConfigError(str(e), key="--county") from e
    hold_sync_lock(settings, f"roster import {code}")
    scope.require(code)
    spec_set = engine.load(settings.specs)
    api = engine.connect_from_settings(settings)
    store = engine.open_store(settings, api)

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

    options: dict[str, Any] = dict(county=code, scope=scope, mode=mode, sheet=sheet, skip_invalid=skip_invalid,
                                   allow_mass_removal=allow_mass_removal, auth=settings.auth, console=console,
                                   workers=settings.workers)
    if dry_run:  # the plan, printed through the Explainer: nothing is written to Moodle
        report = engine.plan_roster_import(api, spec_set, store, file, **options)
    else:
        report = engine.import_roster(api, spec_set, store, file, confirm=confirm, roles=settings.roles, **options)
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


# --- sessions -------------------------------------------------------------------------------------

@cli.group()
def session() -> None:
    """Teacher-led sessions (lärarledda utbildningstillfällen) of blended courses."""


@session.command("assign")
@click.option("--course", "course_key", required=True, metavar="KEY", help="The course key, e.g. hrv-socialtjanst.")
@click.option("--session", "session_key", required=True, metavar="KEY", help="The session key in the course spec.")
@click.option("--email", "emails", multiple=True, metavar="EMAIL", help="A person to place (repeatable).")
@click.option("--file", "email_file", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="A text file with one email per line.")
@click.option("--hub", metavar="NAME", help="Act as this regional hub (sessions in its county only).")
@click.option("--dry-run", is_flag=True, help="Only check; place nobody.")
@specs_option
@connection_options
@click.option("--json", "json_mode", is_flag=True, help="The outcome as one JSON document on stdout.")
@handle_errors
def session_assign(course_key: str, session_key: str, emails: tuple[str, ...], email_file: str | None,
                   hub: str | None, dry_run: bool, specs: str | None, json_mode: bool, **kwargs: Any) -> None:
    """Put enrolled people into a session's group; refuses past the session's capacity.

    Example: moodle-sync session assign --course hrv-socialtjanst --session falun-2026-03 --email anna@falun.se
    """
    from moodle_sync.explainer import Explainer
    from moodle_sync.run_plan import place_people
    from moodle_sync.sessions import AssignResult, plan_placement

    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    scope = scope_for(settings, hub)
    people = list(emails) + (Path(email_file).read_text(encoding="utf-8").split() if email_file else [])
    if not people:
        raise PlanError("name at least one person with --email or --file")
    spec_set = engine.load(settings.specs)
    api = engine.connect_from_settings(settings)
    # a hub's scope reads the store (rosters' counties); a real run journals its outcome there
    store = engine.open_store(settings, api) if scope.county or not dry_run else None
    plan = plan_placement(api, spec_set, course_key=course_key, session_key=session_key, emails=people, scope=scope,
                          store=store)
    result = AssignResult.of(plan) if dry_run or store is None else place_people(api, store, plan)
    lines = [line for a in plan.actions for line in Explainer().describe(a)] if dry_run else []
    console.result({**result.to_dict(), "plan": plan.to_dict()},
                   f"{'Would place' if dry_run else 'Placed'} {len(result.added)} in "
                   f"{result.group}; {len(result.already)} already there; "
                   f"{result.capacity - result.members_after} places left."
                   + "".join(f"\n  {line}" for line in lines))


# --- completions ----------------------------------------------------------------------------------

def scope_for(settings: Settings, hub: str | None) -> Scope:
    """The caller's scope: a configured hub (one county, maybe its own token) or an admin (all)."""
    from moodle_sync.counties import resolve_county
    from moodle_sync.errors import ConfigError

    if not hub:
        return Scope()
    if hub not in settings.hubs or "county" not in settings.hubs[hub]:
        import difflib

        close = difflib.get_close_matches(hub, [h for h in settings.hubs if "county" in settings.hubs[h]], n=1,
                                          cutoff=0.6)
        if close:
            raise ConfigError(f"unknown hub {hub!r}; did you mean {close[0]!r}?", key="--hub",
                              hint=f"the hubs in moodle-sync.toml: {', '.join(sorted(settings.hubs))}")
        raise ConfigError(f"unknown hub {hub!r}", key="hubs", hint=f'add [hubs.{hub}] with county = "W" to '
                                                                   f'moodle-sync.toml')
    if settings.hubs[hub].get("token_command") and settings.sources.get("token") == "default":
        settings.token_command = settings.hubs[hub]["token_command"]
    return Scope.hub(hub, resolve_county(settings.hubs[hub]["county"]).code)


@cli.command()
@specs_option
@connection_options
@click.option("--sweep-days", type=int, default=7, show_default=True,
              help="Ask about every open enrolment not checked for this many days (completions made without a "
                   "visit: marked by a teacher, by date).")
@click.option("--workers", type=int, help="Parallel requests (default 4).")
@click.option("--completion-report", "completion_report", metavar="NAME",
              help='The custom report to read completions from in bulk (default "moodle-sync"; "" for none).')
@click.option("--json", "json_mode", is_flag=True, help="The outcome as one JSON document on stdout.")
@handle_errors
def pull(specs: str | None, sweep_days: int, workers: int | None, completion_report: str | None, json_mode: bool,
         **kwargs: Any) -> None:
    """Pull enrolments and course completions of every managed course version into the state store.

    With the completion report (a custom report an admin creates once; `doctor` says how) every pull reads
    every completion in a few calls; without it, a routine pull only asks about people who entered a course
    since the last check. An interrupted pull resumes where it stopped.

    Example: moodle-sync pull --workers 4
    """
    from moodle_sync.completions.explain import bulk_text
    from moodle_sync.completions.pull import pull as do_pull

    console = Console(json_mode=json_mode)
    extra = {"specs": specs} if specs else {}
    if completion_report is not None:
        extra["completion_report"] = completion_report
    settings = settings_from(kwargs, **extra)
    hold_sync_lock(settings, "pull")
    spec_set = engine.load(settings.specs)
    api = engine.connect_from_settings(settings)
    store = engine.open_store(settings, api)
    result = do_pull(api, spec_set, store, workers=workers or settings.workers, sweep_days=sweep_days,
                     progress=console.progress, report_name=settings.completion_report or None)
    text = (f"Pulled {result.courses} course versions, {result.people} enrolments; asked Moodle about "
            f"{result.asked} people, {result.new_completions} new completions.")
    text += "\n" + bulk_text(result)
    if result.not_tracked:
        text += "\nCompletion not tracked: " + result.not_tracked_text()
    if result.kept:
        kept = sum(result.kept.values())
        text += (f"\nMoodle gave no status for {kept} {'person' if kept == 1 else 'people'} ("
                 + ", ".join(f"{code} {n}" for code, n in sorted(result.kept.items()))
                 + "); their last known state is kept.")
    for idn, problem in sorted(result.not_read.items()):
        text += f"\nNot read: {idn}: {problem.errorcode}: {problem.message}" + (
            f"\n  hint: {problem.hint}" if problem.hint else "")
    console.result(result.to_dict(), text)
    if result.not_read:
        sys.exit(EXIT_PARTIAL)  # a scheduled pull must notice courses it could not read




@cli.command()
@specs_option
@connection_options
@click.option("--preset", type=click.Choice(["redovisning", "uppfoljning"]), help="A ready-made report.")
@click.option("--by", "dimensions", default="county,target_group", show_default=True,
              help="Dimensions: county, target_group, organisation, course, period (comma-separated).")
@click.option("--period", metavar="YEAR|QUARTER|MONTH", help="2026, 2026-Q2 or 2026-06 (calendar periods only).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx", "html"]), default="table",
              show_default=True, help="Output format (csv/xlsx/html need --out).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), metavar="FILE", help="Write the report here.")
@click.option("--threshold", type=int, metavar="N",
              help="Rounded counts below N are shown as <N (default report_threshold, 5; a hub cannot go lower).")
@click.option("--hub", metavar="NAME", help="Report as this regional hub: its own county only.")
@click.option("--personal-data", is_flag=True, help="Person-level rows (within your scope; every export is logged).")
@site_option
@handle_errors
def report(specs: str | None, preset: str | None, dimensions: str, period: str | None, fmt: str,
           out_path: str | None, threshold: int | None, hub: str | None, personal_data: bool, site: str | None,
           **kwargs: Any) -> None:
    """Report completions by county, target group, organisation, course version and calendar period.

    Every count is randomly rounded to a multiple of 3 (the same people always give the same number), and
    rounded counts below 5 are shown as <5, so no report, nor the difference of two, reveals a small count.
    Reads the state store only (run `moodle-sync pull` first): no Moodle URL or token is needed.

    Example: moodle-sync report --preset redovisning --period 2026 --format html --out redovisning.html
    """
    from moodle_sync.completions.report import make_report

    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    scope = scope_for(settings, hub)
    spec_set = engine.load(settings.specs)
    store = store_for_reading(settings, site)
    text = make_report(spec_set, store, scope=scope, preset=preset, dimensions=dimensions.split(","),
                       period=period, fmt=fmt, out=out_path, personal_data=personal_data,
                       threshold=settings.report_threshold if threshold is None else threshold,
                       minimum_threshold=settings.report_threshold,
                       colour=sys.stdout.isatty() and not os.environ.get("NO_COLOR")
                       and os.environ.get("TERM") != "dumb")
    if text is not None:
        click.echo(text)
    if out_path:
        Console().say(f"Report written to {out_path}")


@cli.command()
@specs_option
@connection_options
@click.option("--before-deadline", "before", default="14d", show_default=True, metavar="Nd",
              help="Remind people whose deadline is within this many days.")
@click.option("--overdue", is_flag=True, help="Remind people past their deadline instead (one per --interval, at "
                                             "most --max in all).")
@click.option("--max", "max_reminders", type=click.IntRange(min=1), default=3, show_default=True, metavar="N",
              help="With --overdue: at most this many overdue reminders per person and course.")
@click.option("--interval", default="30d", show_default=True, metavar="Nd",
              help="Never remind the same person about the same course twice within this.")
@click.option("--hub", metavar="NAME", help="Act as this regional hub: its own county only.")
@click.option("--dry-run", is_flag=True, help="Only list who would be reminded.")
@click.option("--json", "json_mode", is_flag=True, help="The outcome as one JSON document on stdout.")
@handle_errors
def remind(specs: str | None, before: str, overdue: bool, max_reminders: int, interval: str, hub: str | None,
           dry_run: bool, json_mode: bool, **kwargs: Any) -> None:
    """Send a Moodle message to enrolled people whose deadline is near and who have not completed.

    With --overdue, to those past their deadline instead. The Swedish texts are
    course_specs/reminders/paminnelse.txt and paminnelse-sen.txt. Every message sent is logged.

    Example: moodle-sync remind --overdue --interval 30d --max 3 --dry-run
    """
    import datetime as dt

    from moodle_sync.completions.remind import RemindResult, plan_reminders
    from moodle_sync.errors import ConfigError
    from moodle_sync.explainer import Explainer
    from moodle_sync.run_plan import send_reminders

    def days(text: str, key: str) -> dt.timedelta:
        if not text.endswith("d") or not text[:-1].isdigit():
            raise ConfigError(f"{text!r} is not a number of days like 14d", key=key)
        return dt.timedelta(days=int(text[:-1]))

    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    scope = scope_for(settings, hub)
    spec_set = engine.load(settings.specs)
    api = engine.connect_from_settings(settings)
    store = engine.open_store(settings, api)
    plan = plan_reminders(api, spec_set, store, before=days(before, "--before-deadline"),
                          interval=days(interval, "--interval"), scope=scope, overdue=overdue,
                          max_reminders=max_reminders)
    result = RemindResult.of(plan) if dry_run else send_reminders(api, store, plan)
    verb = "would remind" if dry_run else "reminded"
    listed = "".join(f"\n  {line}" for a in plan.actions for line in Explainer().describe(a)) if dry_run else ""
    console.result({**result.to_dict(), "plan": plan.to_dict()},
                   f"{verb} {len(result.due) if dry_run else result.sent} "
                   f"{'late ' if overdue else ''}people; "
                   f"{result.skipped_recent} skipped (reminded recently)"
                   + (f"; {result.skipped_max} skipped (had {max_reminders} overdue reminders)"
                      if result.skipped_max else "")
                   + (f"; {len(result.failures)} failed" if result.failures else "") + listed
                   + (f"\n{len(result.maybe_sent)} message(s) may or may not have been delivered (Moodle's answer "
                      f"was lost); not sent again, so that nobody gets one twice: users "
                      + ", ".join(str(u) for u in result.maybe_sent[:20]) if result.maybe_sent else "")
                   + ("\nNo reminders for courses whose completion Moodle does not track (no completion "
                      "criteria, or completion off), since no one there can be seen to have completed: "
                      + ", ".join(result.not_tracked) if result.not_tracked else ""))


# --- doctor --------------------------------------------------------------------------------------

@cli.command()
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
             + (" (site admin)" if report.site_admin else "")]
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

@cli.command()
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
    text = "\n".join(f"#{r['id']} {r['started_at']} {r['command']} by {r['user']}@{r['host']} "
                     f"commit {(r['specs_commit'] or '-')[:10]}: {r['status']}" for r in rows) or "No runs yet."
    console.result(rows, text)


# --- emulator and demo ---------------------------------------------------------------------------

@cli.command()
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--token", required=True, help="The admin token the emulator accepts.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--site", type=click.Choice(["demo", "empty"]), default="demo", show_default=True,
              help="demo: a stock site with the template courses the specs name, so plan/apply of the specs "
                   "work; empty: a fresh Moodle with nothing in it.")
# not specs_option: the emulator reads no settings; these specs only name the template courses to build
@click.option("--specs", type=click.Path(exists=True, file_okay=False), default=None, metavar="DIR",
              help="With --site demo: the specs whose template courses to create (default: the shipped ones).")
@handle_errors
def emulator(port: int, token: str, host: str, site: str, specs: str | None) -> None:
    """Serve the built-in Moodle 4.3 emulator (REST protocol, in-memory) until interrupted.

    Example: moodle-sync emulator --site demo --port 8765 --token 0123456789abcdef0123456789abcdef
    """
    from moodle_sync.demo import stock_site
    from moodle_sync.emulator import Emulator, run_server

    site_emulator = stock_site(token, specs) if site == "demo" else Emulator(token=token)
    click.echo(f"Moodle emulator ({site} site) on http://{host}:{port}/webservice/rest/server.php (Ctrl-C stops)",
               err=True)
    with contextlib.suppress(KeyboardInterrupt):
        run_server(port, token, host=host, emulator=site_emulator)


@cli.command()
# not specs_option: the demo reads no settings (its own site and store); default: the shipped specs
@click.option("--specs", type=click.Path(exists=True, file_okay=False), default=None,
              help="Specs directory (default: the course_specs/ shipped with the project).")
@click.option("--state", "state_path", metavar="FILE", help="State store (default: a temporary file).")
@click.option("--report-dir", metavar="DIR", help="Where the HTML report goes (default ./moodle-sync-demo).")
@click.option("--serve", "keep_serving", is_flag=True,
              help="Leave the demo's site running afterwards (prints the export lines that point other commands "
                   "at it; Enter lets more learners complete their courses; Ctrl-C stops it).")
@click.option("--port", type=int, default=0, help="With --serve: the port on 127.0.0.1 (default: any free one).")
@handle_errors
def demo(specs: str | None, state_path: str | None, report_dir: str | None, keep_serving: bool, port: int) -> None:
    """Run the whole round against the built-in Moodle emulator.

    validate, plan, apply (categories, courses, cohorts), roster imports for two counties with the
    enrolments that follow, plan again (no changes), then completions pulled back and a report.
    With --serve the site stays up for trying `plan`, `pull` and `report` by hand.

    Example: moodle-sync demo --serve
    """
    from moodle_sync.demo import run_demo

    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(run_demo(specs, state_path, Console(progress=False), report_dir, keep_serving=keep_serving,
                          port=port))
    sys.exit(EXIT_OK)


# --- the portal (moodle_sync/portal/commands.py) ------------------------------------------------------

cli.add_command(serve)
cli.add_command(portal_group)
_logging_options_everywhere(cli)


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    """Entry point: like click's, but usage errors exit 64 so that 2 only ever means 'changes pending'.

    A SIGTERM (a scheduler stopping the job) unwinds like Ctrl-C, so the run record is closed as
    interrupted instead of being left "running".
    """
    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        signal.signal(signal.SIGTERM, _terminated)
    try:
        rv = cli.main(args=argv, prog_name="moodle-sync", standalone_mode=False)
    except click.UsageError as e:
        e.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except MoodleSyncError as e:  # raised outside a command (e.g. while loading settings)
        if "--debug" in (argv if argv is not None else sys.argv[1:]):
            raise
        Console().error(str(e))
        sys.exit(EXIT_ERROR)
    except Exception as e:
        if "--debug" in (argv if argv is not None else sys.argv[1:]):
            raise
        Console().error(unexpected(e))
        sys.exit(EXIT_ERROR)
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)
