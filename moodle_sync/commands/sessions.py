"""`moodle-sync session assign`: people into a teacher-led session's group, within its capacity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from moodle_sync.commands.exits import handle_errors
from moodle_sync.commands.options import connection_options, scope_for, settings_from, specs_option
from moodle_sync.console import Console
from moodle_sync.errors import PlanError
from moodle_sync.jobs.site import connect_from_settings, load, open_store


@click.group()
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
    from moodle_sync.jobs.sessions import assign

    console = Console(json_mode=json_mode)
    settings = settings_from(kwargs, **({"specs": specs} if specs else {}))
    scope = scope_for(settings, hub)
    people = list(emails) + (Path(email_file).read_text(encoding="utf-8").split() if email_file else [])
    if not people:
        raise PlanError("name at least one person with --email or --file")
    spec_set = load(settings.specs)
    api = connect_from_settings(settings, scope=scope)
    # a hub's scope reads the store (rosters' counties); a real run journals its outcome there
    store = open_store(settings, api) if scope.is_hub or not dry_run else None
    plan, result = assign(api, spec_set, store, course_key=course_key, session_key=session_key, emails=people,
                          scope=scope, check_only=dry_run)
    lines = [line for a in plan.actions for line in Explainer().describe(a)] if dry_run else []
    console.result({**result.to_dict(), "plan": plan.to_dict()},
                   f"{'Would place' if dry_run else 'Placed'} {len(result.added)} in "
                   f"{result.group}; {len(result.already)} already there; "
                   f"{result.capacity - result.members_after} places left."
                   + "".join(f"\n  {line}" for line in lines))
