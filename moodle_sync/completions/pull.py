"""Pull course completions from Moodle into the state store, incrementally.

Core web services answer completion one user × one course per call, so a routine pull only asks
about open enrolments whose person entered the course since the last check (``lastcourseaccess`` in
the enrolled-users listing), plus everyone open whose last check is older than the sweep interval
(completions made without a visit: marked by a teacher, completion by date). Results are written as
they come, so an interrupted pull resumes where it stopped.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from moodle_sync.errors import CompletionError
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import CompletionStatus
from moodle_sync.reconcile.actual import parse_course_idnumber, read_actual
from moodle_sync.specs.models import SpecSet
from moodle_sync.store.completions import CompletionStore, CoursePerson
from moodle_sync.store.db import StateStore

#: completion checks written to the store per transaction (what an interruption can lose at most)
SAVE_EVERY = 200


@dataclass
class PullResult:
    courses: int = 0
    people: int = 0
    asked: int = 0
    new_completions: int = 0
    not_tracked: list[str] = field(default_factory=list)
    swept: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"courses": self.courses, "people": self.people, "asked": self.asked,
                "new_completions": self.new_completions, "completion_not_tracked": self.not_tracked,
                "full_sweep": self.swept}


def completion_time(status: CompletionStatus) -> int | None:
    """The course completion time from the criteria: the latest for "all", the earliest met for "any"."""
    times = [c.timecompleted for c in status.completions if c.complete and c.timecompleted]
    if not times:
        return None
    return min(times) if status.aggregation == 2 else max(times)


def _stale(checked: str | None, cutoff: str) -> bool:
    """Checked at or before the cutoff. Checks carry the stamp of the pull that made them (its start), so a
    weekly pull with ``sweep_days=7`` sweeps every week, and ``sweep_days=0`` sweeps everything."""
    return checked is None or checked <= cutoff


def _due(person: CoursePerson, cutoff: str) -> bool:
    visited = person.checked_access is None or person.lastcourseaccess > person.checked_access
    return visited or _stale(person.last_checked, cutoff)


def pull(api: MoodleApi, specs: SpecSet, store: StateStore, *, workers: int = 4, sweep_days: int = 7,
         now: datetime.datetime | None = None, progress: Callable[[str], None] | None = None) -> PullResult:
    """Pull enrolments and completions of every course version the specs manage."""
    say = progress or (lambda _m: None)
    now = now or datetime.datetime.now(datetime.UTC)
    stamp = now.isoformat(timespec="seconds")
    cutoff = (now - datetime.timedelta(days=sweep_days)).isoformat(timespec="seconds")
    completions = CompletionStore(store)
    actual = read_actual(api, specs, store, progress=say)
    result = PullResult()
    for idnumber, course in sorted(actual.courses.items()):
        parsed = parse_course_idnumber(idnumber)
        if parsed is None or parsed[0] not in specs.courses:
            continue
        result.courses += 1
        say(f"reading who is enrolled in {idnumber}")
        everyone = api.enrolled_users(course.id, only_active=False, fields="id,lastcourseaccess")
        active = {u.id for u in api.enrolled_users(course.id, only_active=True, fields="id")}
        completions.save_roster(idnumber, {u.id: ("active" if u.id in active else "suspended",
                                                  u.lastcourseaccess or 0) for u in everyone}, stamp)
        result.people += len(everyone)
        no_criteria, last_sweep = completions.course_state(idnumber)
        if no_criteria and not _stale(last_sweep, cutoff):
            result.not_tracked.append(idnumber)  # known to track no completion; looked again at the next sweep
            continue
        people = completions.people(idnumber)
        todo = [p for p in people.values()
                if p.status == "active" and p.completed_at is None and _due(p, cutoff)]
        if todo:
            # one question first: a course without criteria answers nocriteriaset for everyone, so one
            # answer settles the whole list (and tells, at each sweep, whether criteria were added since)
            probe = _ask(api, completions, course.id, idnumber, todo[:1], workers, now, result, say, todo, stamp)
            result.asked += probe
            if idnumber in result.not_tracked:
                continue
            todo = todo[1:]
        if any(_stale(p.last_checked, cutoff) for p in todo):
            result.swept.append(idnumber)
        result.asked += _ask(api, completions, course.id, idnumber, todo, workers, now, result, say, todo, stamp)
        if idnumber in result.not_tracked:
            continue
        completions.set_course_state(idnumber, no_criteria=False, last_sweep=stamp)
    return result


def _ask(api: MoodleApi, completions: CompletionStore, course_id: int, idnumber: str, todo: list[CoursePerson],
         workers: int, now: datetime.datetime, result: PullResult, say: Callable[[str], None],
         everyone: list[CoursePerson], stamp: str) -> int:
    """Ask Moodle about each person in ``todo`` through a bounded pool; save as answers come.

    ``everyone`` is the course's whole list of people due: a ``nocriteriaset`` answer settles them all.
    """
    asked = 0
    for start in range(0, len(todo), SAVE_EVERY):
        chunk = todo[start:start + SAVE_EVERY]

        def one(person: CoursePerson) -> tuple[CoursePerson, CompletionStatus | CompletionError]:
            try:
                return person, api.completion_status(course_id, person.userid)
            except CompletionError as e:
                return person, e

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            answers = list(pool.map(one, chunk))
        asked += len(answers)
        rows: list[tuple[int, int, int | None, str | None]] = []
        for person, answer in answers:
            if isinstance(answer, CompletionError):
                if answer.errorcode == "nocriteriaset":
                    # one answer is enough: the course tracks no completion (reported once, not per person)
                    completions.set_course_state(idnumber, no_criteria=True, last_sweep=stamp)
                    if idnumber not in result.not_tracked:
                        result.not_tracked.append(idnumber)
                    completions.save_checks(idnumber, [(p.userid, p.lastcourseaccess, None, None) for p in everyone],
                                            checked_at=stamp)
                    return asked
                rows.append((person.userid, person.lastcourseaccess, None, None))  # usernotenroled: keep as is
                continue
            if answer.completed:
                at = completion_time(answer)
                source = "criteria" if at else "first_seen"
                rows.append((person.userid, person.lastcourseaccess, at or int(now.timestamp()), source))
                result.new_completions += 1
            else:
                rows.append((person.userid, person.lastcourseaccess, None, None))
        completions.save_checks(idnumber, rows, checked_at=stamp)
        say(f"{idnumber}: asked {asked}/{len(todo)}")
    return asked
