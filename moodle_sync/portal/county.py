"""A county's figures, downloads, overdue list and session places, through the library's own functions
(completions/report.make_report, completions/facts.build_facts, sessions.plan_placement applied through the
one Applier), always within the scope of one county.
"""

from __future__ import annotations

import datetime
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moodle_sync import clock, engine
from moodle_sync.completions.facts import build_facts
from moodle_sync.completions.report import make_report
from moodle_sync.portal.db import Account
from moodle_sync.portal.names import Names
from moodle_sync.portal.site import Site
from moodle_sync.run_plan import place_people
from moodle_sync.scope import Scope
from moodle_sync.sessions import AssignResult, plan_placement

#: download name → (make_report format, media type, file suffix)
FORMATS = {
    "csv": ("csv", "text/csv; charset=utf-8", "csv"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "html": ("html", "text/html; charset=utf-8", "html"),
}


def county_scope(account: Account, county: str) -> Scope:
    """The scope of one county's pages: a hub's own; an admin looking at one county sees that county only."""
    return Scope(name=account.hub or account.email, county=county)


def report_bytes(site: Site, account: Account, county: str, fmt: str, period: str | None,
                 personal_data: bool = False) -> bytes:
    """The uppföljning report of ``county`` (or its person rows) rendered by the CLI's make_report."""
    kind = "csv" if personal_data else FORMATS[fmt][0]
    with tempfile.TemporaryDirectory(prefix="moodle-sync-portal-") as tmp:
        out = Path(tmp) / f"report.{kind}"
        store = site.store()
        try:
            make_report(site.specs(), store, scope=county_scope(account, county), preset=None if personal_data
                        else "uppfoljning", dimensions=["county", "target_group"], period=period, fmt=kind,
                        out=str(out), personal_data=personal_data, threshold=site.settings.report_threshold,
                        minimum_threshold=site.settings.report_threshold)
        finally:
            store.close()
        return out.read_bytes()


@dataclass(frozen=True)
class Overdue:
    email: str
    organisation: str
    course: str
    deadline: datetime.date
    days_late: int


def overdue(site: Site, account: Account, county: str, today: datetime.date | None = None) -> list[Overdue]:
    """People of ``county`` past their deadline who have not completed (active enrolments, tracked courses)."""
    today = today or clock.today()
    specs = site.specs()
    store = site.store()
    try:
        facts = build_facts(specs, store, county_scope(account, county))
        persons = store.persons()
    finally:
        store.close()
    names = Names(specs=specs)
    rows = [Overdue(email=persons[f.person].email if f.person in persons else "",
                    organisation=f.organisation, course=names.course(f.course_key, f.major),
                    deadline=f.deadline, days_late=(today - f.deadline).days)
            for f in facts if f.county == county and f.tracked and f.status == "active" and f.completed_on is None
            and f.deadline is not None and f.deadline < today]
    return sorted(rows, key=lambda r: (-r.days_late, r.email, r.course))


@dataclass(frozen=True)
class SessionRow:
    course_key: str
    course_title: str
    key: str
    date: str
    time: str
    place: str
    capacity: int


def sessions(site: Site, county: str, today: datetime.date | None = None) -> list[SessionRow]:
    """The county's sessions still to come (from today, Swedish time): a past one is offered to nobody."""
    specs = site.specs()
    today = today or clock.today()
    return sorted((SessionRow(course_key=c.key, course_title=c.title, key=s.key, date=str(s.date), time=s.time or "",
                              place=s.place, capacity=s.capacity)
                   for c in specs.courses.values() for s in c.sessions if s.county == county and s.date >= today),
                  key=lambda r: (r.date, r.course_key, r.key))


def place(site: Site, account: Account, county: str, *, course_key: str, session_key: str, emails: list[str],
          check_only: bool) -> AssignResult:
    """`session assign` for one county's session, as this account (a hub: its own county's people only): the
    plan, and unless ``check_only`` that same plan applied."""
    specs = site.specs()
    spec = specs.courses.get(course_key)
    session = next((s for s in spec.sessions if s.key == session_key), None) if spec else None
    if session is not None:
        county_scope(account, county).require(session.county)
    api = site.api(account)
    store = engine.open_store(site.settings, api)
    try:
        plan = plan_placement(api, specs, course_key=course_key, session_key=session_key, emails=emails,
                              scope=site.scope(account) if not account.is_admin else Scope(), store=store)
        return AssignResult.of(plan) if check_only else place_people(api, store, plan)
    finally:
        store.close()


def summary(result: AssignResult) -> dict[str, Any]:
    return result.to_dict()
