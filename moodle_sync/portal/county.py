"""A county's figures, downloads, overdue list and session places, through the jobs the commands call
(jobs/report.py, jobs/sessions.py), always within the scope of one county (web.county_for).
"""

from __future__ import annotations

import datetime
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moodle_sync import clock
from moodle_sync.jobs.report import facts, make_report
from moodle_sync.jobs.sessions import AssignResult, assign
from moodle_sync.jobs.site import open_store
from moodle_sync.portal.names import Names
from moodle_sync.portal.site import Site
from moodle_sync.scope import Scope

#: download name → (make_report format, media type, file suffix)
FORMATS = {
    "csv": ("csv", "text/csv; charset=utf-8", "csv"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "html": ("html", "text/html; charset=utf-8", "html"),
}


def report_bytes(site: Site, scope: Scope, fmt: str, period: str | None, personal_data: bool = False) -> bytes:
    """The uppföljning report of ``scope``'s county (or its person rows) rendered by the CLI's make_report."""
    kind = "csv" if personal_data else FORMATS[fmt][0]
    with tempfile.TemporaryDirectory(prefix="moodle-sync-portal-") as tmp:
        out = Path(tmp) / f"report.{kind}"
        store = site.store()
        try:
            make_report(site.specs(), store, scope=scope, preset=None if personal_data
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


def overdue(site: Site, scope: Scope, today: datetime.date | None = None) -> list[Overdue]:
    """People of ``scope``'s county past their deadline who have not completed (active enrolments, tracked
    courses)."""
    today = today or clock.today()
    specs = site.specs()
    store = site.store()
    try:
        found = facts(specs, store, scope)
        persons = store.persons()
    finally:
        store.close()
    names = Names(specs=specs)
    rows = [Overdue(email=persons[f.person].email if f.person in persons else "",
                    organisation=f.organisation, course=names.course(f.course_key, f.major),
                    deadline=f.deadline, days_late=(today - f.deadline).days)
            for f in found if f.tracked and f.status == "active" and f.completed_on is None
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


def sessions(site: Site, scope: Scope, today: datetime.date | None = None) -> list[SessionRow]:
    """``scope``'s county's sessions still to come (from today, Swedish time): a past one is offered to nobody."""
    specs = site.specs()
    today = today or clock.today()
    return sorted((SessionRow(course_key=c.key, course_title=c.title, key=s.key, date=str(s.date), time=s.time or "",
                              place=s.place, capacity=s.capacity)
                   for c in specs.courses.values() for s in c.sessions if scope.covers(s.county) and s.date >= today),
                  key=lambda r: (r.date, r.course_key, r.key))


def place(site: Site, scope: Scope, *, course_key: str, session_key: str, emails: list[str],
          check_only: bool) -> AssignResult:
    """`session assign` for one county's session as ``scope`` (a hub: its own county's people only): the plan,
    and unless ``check_only`` that same plan applied."""
    api = site.api(scope)
    store = open_store(site.settings, api)
    try:
        return assign(api, site.specs(), store, course_key=course_key, session_key=session_key, emails=emails,
                      scope=scope, check_only=check_only)[1]
    finally:
        store.close()


def summary(result: AssignResult) -> dict[str, Any]:
    return result.to_dict()
