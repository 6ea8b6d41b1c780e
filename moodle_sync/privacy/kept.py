"""The anonymous facts the state store keeps of people whose records were purged or erased (table ``kept_facts``).

A fact holds what reports count (county, target groups, organisation, course version, the enrolment,
completion, deadline and refresher days, the deadline's kind, the enrolment's status) and Moodle's user number,
which counts a person once and keys the rounding (reports/groups.py), so that every report for a period before
a purge gives the same numbers after it. No name, e-mail address, unit, employee id or employment date.
The course's current version and whether Moodle tracks its completion are read from the specs and the store
when a report is made, as for everyone else.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Literal

from moodle_sync import clock
from moodle_sync.identity import course_idnumber, parse_course_idnumber
from moodle_sync.reports import CompletionFact
from moodle_sync.scope import Scope
from moodle_sync.store.db import StateStore


def keep(store: StateStore, facts: Iterable[CompletionFact]) -> int:
    """Keep ``facts`` (built from the store before their people's rows go); a person and course version
    already kept keeps its first fact. Returns how many were new."""
    rows = [(store.moodle_url, f.person, course_idnumber(f.course_key, f.major), f.county,
             json.dumps(list(f.target_groups)), f.organisation, _iso(f.enrolled_since), _iso(f.completed_on),
             f.completed_source, f.status,
             _iso(f.deadline), f.deadline_kind, _iso(f.refresher_due), clock.stamp()) for f in facts]
    with store._lock:
        before = store._db.total_changes
        store._db.executemany(
            "INSERT OR IGNORE INTO kept_facts (moodle_url, person, course_idnumber, county, target_groups,"
            " organisation, enrolled_since, completed_on, completed_source, status, deadline, deadline_kind,"
            " refresher_due, kept_on)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        return store._db.total_changes - before


def kept_pairs(store: StateStore) -> set[tuple[int, str]]:
    """(user number, course version idnumber) of every kept fact: a pull that sees such a person again in that
    course version does not make them count twice."""
    return {(r[0], r[1]) for r in store._db.execute(
        "SELECT person, course_idnumber FROM kept_facts WHERE moodle_url=?", (store.moodle_url,))}


def kept_facts(store: StateStore, current: dict[str, int], tracked: dict[str, bool],
               scope: Scope | None = None) -> list[CompletionFact]:
    """The kept facts of courses the specs still name (``current``: course key → its current major), within
    ``scope`` when given; ``tracked``: course version idnumber → whether Moodle tracks its completion."""
    facts: list[CompletionFact] = []
    for r in store._db.execute("SELECT * FROM kept_facts WHERE moodle_url=? ORDER BY person, course_idnumber",
                               (store.moodle_url,)):
        parsed = parse_course_idnumber(r["course_idnumber"])
        if parsed is None or parsed[0] not in current or (scope is not None and not scope.covers(r["county"])):
            continue
        facts.append(CompletionFact(
            person=r["person"], county=r["county"], target_groups=tuple(json.loads(r["target_groups"])),
            organisation=r["organisation"], course_key=parsed[0], major=parsed[1], current_major=current[parsed[0]],
            enrolled_since=_day(r["enrolled_since"]), completed_on=_day(r["completed_on"]),
            completed_source=_source(r["completed_source"]), status=_status(r["status"]),
            deadline=_day(r["deadline"]), refresher_due=_day(r["refresher_due"]),
            tracked=tracked.get(r["course_idnumber"], True), deadline_kind=r["deadline_kind"]))
    return facts


def _iso(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def _day(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def _source(text: str | None) -> Literal["report", "criteria", "first_seen"] | None:
    if text == "report":
        return "report"
    if text == "criteria":
        return "criteria"
    return "first_seen" if text == "first_seen" else None


def _status(text: str) -> Literal["active", "suspended"]:
    return "active" if text == "active" else "suspended"
