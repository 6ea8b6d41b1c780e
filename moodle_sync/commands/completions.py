"""Completions: pull them from Moodle, report them (from the state store only), remind who has not completed."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from moodle_sync.commands.exits import EXIT_PARTIAL, handle_errors
from moodle_sync.commands.options import (
    connection_options,
    hold_sync_lock,
    scope_for,
    settings_from,
    site_option,
    specs_option,
    store_for_reading,
)
from moodle_sync.console import Console
from moodle_sync.jobs.site import connect_from_settings, load, open_store


@click.command()
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
    from moodle_sync.jobs.pull import bulk_text
    from moodle_sync.jobs.pull import pull as do_pull

    console = Console(json_mode=json_mode)
    extra = {"specs": specs} if specs else {}
    if completion_report is not None:
        extra["completion_report"] = completion_report
    settings = settings_from(kwargs, **extra)
    hold_sync_lock(settings, "pull")
    spec_set = load(settings.specs)
    api = connect_from_settings(settings)
    store = open_store(settings, api)
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


@click.command()
@specs_option
@connection_options
@click.option("--preset", type=click.Choice(["redovisning", "uppfoljning"]), help="A ready-made report.")
@click.option("--by", "dimensions", default="county,target_group", show_default=True,
              help="Dimensions: county, target_group, organisation, course, period (comma-separated).")
@click.option("--period", metavar="YEAR|QUARTER|MONTH", help="2026, 2026-Q2 or 2026-06 (calendar periods only).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx", "html"]),
              help="Output format (csv/xlsx/html need --out); default: the --out file's suffix (.csv, .xlsx, .html, "
                   ".txt for the table), else table.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), metavar="FILE", help="Write the report here.")
@click.option("--threshold", type=int, metavar="N",
              help="Counts below N are shown as <N (default report_threshold, 5; a hub cannot go lower).")
@click.option("--hub", metavar="NAME", help="Report as this regional hub: its own county only.")
@click.option("--personal-data", is_flag=True, help="Person-level rows (within your scope; every export is logged).")
@site_option
@handle_errors
def report(specs: str | None, preset: str | None, dimensions: str, period: str | None, fmt: str | None,
           out_path: str | None, threshold: int | None, hub: str | None, personal_data: bool, site: str | None,
           **kwargs: Any) -> None:
    """Report completions by county, target group, organisation, course version and calendar period.

    A person counts once per course version. Every count is the sum of small groups (organisation, target
    groups, course version, month), each randomly rounded to a multiple of 3 (the same people always give the
    same number); sums below 5 are shown as <5. Months add up to the year and rows to their total, and no
    combination of reports reveals a small count.
    Reads the state store only (run `moodle-sync pull` first): no Moodle URL or token is needed.

    Example: moodle-sync report --preset redovisning --period 2026 --format html --out redovisning.html
    """
    from moodle_sync.jobs.report import make_report

    fmt = report_format(fmt, out_path)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    scope = scope_for(settings, hub)
    spec_set = load(settings.specs)
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


#: the format each file suffix stands for
SUFFIX_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".html": "html", ".htm": "html", ".txt": "table"}


def report_format(fmt: str | None, out_path: str | None) -> str:
    """The report's format: ``--format``, else the ``--out`` file's suffix, else table; a suffix that disagrees
    with ``--format`` is a usage error (an .xlsx file holding a text table opens as a broken workbook).

    Raises:
        click.UsageError: the suffix and ``--format`` disagree, or the suffix names no format.
    """
    if out_path is None:
        return fmt or "table"
    suffix = Path(out_path).suffix.lower()
    implied = SUFFIX_FORMATS.get(suffix)
    if fmt is None and implied is None:
        raise click.UsageError(f"--out {out_path}: the suffix {suffix or '(none)'} names no report format; end the "
                               f"file name in {', '.join(SUFFIX_FORMATS)} or pass --format")
    if fmt is not None and implied is not None and implied != fmt:
        raise click.UsageError(f"--format {fmt} but --out {out_path} ends in {suffix} (a {implied} file); make them "
                               f"agree, or leave out --format to take it from the file name")
    return fmt or str(implied)


@click.command()
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

    from moodle_sync.errors import ConfigError
    from moodle_sync.explainer import Explainer
    from moodle_sync.jobs.reminders import remind as remind_job

    def days(text: str, key: str) -> dt.timedelta:
        if not text.endswith("d") or not text[:-1].isdigit():
            raise ConfigError(f"{text!r} is not a number of days like 14d", key=key)
        return dt.timedelta(days=int(text[:-1]))

    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    scope = scope_for(settings, hub)
    spec_set = load(settings.specs)
    api = connect_from_settings(settings, scope=scope)
    store = open_store(settings, api)
    plan, result = remind_job(api, spec_set, store, before=days(before, "--before-deadline"),
                              interval=days(interval, "--interval"), scope=scope, overdue=overdue,
                              max_reminders=max_reminders, dry_run=dry_run)
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
