"""Enrolments changed in Moodle's UI since the tool set them ("drift"), from what the completion report showed.

The tool remembers what it sent for each enrolment (no core web service returns an enrolment's dates). The
completion report shows each manual enrolment's start, end and status (completions/bulk.py keeps them, to the
minute, when its dates are certain), so a plan compares the two: where Moodle shows something else than the tool
sent, and the report was read after the tool last sent it, Moodle's values count as the enrolment's state, the
plan says so, and the rules then decide as always (re-date, reactivate, suspend).
"""

from __future__ import annotations

import dataclasses
import datetime

from moodle_sync.specs.fields import STOCKHOLM
from moodle_sync.store.db import ManagedEnrolment, StateStore
from moodle_sync.store.report_pull import ReportPullStore, SeenEnrolment


def _day(ts: int) -> str:
    return datetime.datetime.fromtimestamp(ts, STOCKHOLM).strftime("%Y-%m-%d %H:%M") if ts else "none"


def _minute(ts: int) -> int:
    return ts - ts % 60


def drift_of(sent: ManagedEnrolment, seen: SeenEnrolment) -> tuple[ManagedEnrolment, list[str]]:
    """The enrolment as Moodle has it, and what differs from what the tool sent (empty: no drift)."""
    changes: list[str] = []
    now = sent
    if seen.status == "suspended" and not sent.suspended:
        changes.append("suspended in Moodle")
        now = dataclasses.replace(now, suspended=True)
    elif seen.status in ("active", "not current") and sent.suspended:
        changes.append("reactivated in Moodle")
        now = dataclasses.replace(now, suspended=False)
    # with no start sent, the report shows the enrolment's creation time: nothing to compare
    if sent.timestart and seen.start is not None and seen.start != _minute(sent.timestart):
        changes.append(f"start {_day(sent.timestart)} → {_day(seen.start)}")
        now = dataclasses.replace(now, timestart=seen.start)
    if seen.end is not None and seen.end != _minute(sent.timeend):
        changes.append(f"end {_day(sent.timeend)} → {_day(seen.end)}")
        now = dataclasses.replace(now, timeend=seen.end)
    return now, changes


def read_drift(store: StateStore, course_idnumber: str, managed: dict[int, ManagedEnrolment]
               ) -> tuple[dict[int, ManagedEnrolment], dict[int, list[str]]]:
    """The managed enrolments with Moodle's values where the last pull saw them changed after the tool last sent
    them, and the changes per user id."""
    seen = ReportPullStore(store).seen_enrolments(course_idnumber)
    out = dict(managed)
    drift: dict[int, list[str]] = {}
    for uid, sent in managed.items():
        s = seen.get(uid)
        if s is None or not sent.updated_at or s.seen_at <= sent.updated_at:
            continue  # not read since the tool last sent it
        now, changes = drift_of(sent, s)
        if changes:
            out[uid], drift[uid] = now, changes
    return out, drift
