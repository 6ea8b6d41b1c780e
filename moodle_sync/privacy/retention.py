"""How long the state store keeps a person: ``retention_months`` (moodle-sync.toml, default 36) after they left.

A person has left when no roster names them any more and they have no active enrolment the tool manages. The
retention is counted from the last sign of them: the last roster import that named them, the last pull that saw
them in one of the tool's cohorts, the last change the tool made to their enrolments, their last reminder, their
last enrol call, the day a pull first saw them enrolled. Someone with an active enrolment (as the tool last set
it, as a pull last saw it in Moodle, or an enrol call whose answer is not known yet) is never past retention.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from moodle_sync import clock
from moodle_sync.specs.fields import STOCKHOLM, add_months
from moodle_sync.store.db import StateStore

#: the tables that hold one row or more per person (user id), and the column of each that says when
PERSON_TABLES: dict[str, str] = {
    "persons": "updated_at", "enrolments": "updated_at", "enrol_intents": "at", "course_people": "enrolled_since",
    "cohort_places": "seen_at", "reminders": "sent_at",
}


@dataclass(frozen=True)
class Held:
    """One person the store holds: the last sign of them (a Swedish calendar day) and whether they are active."""

    userid: int
    last_seen: datetime.date | None
    active: bool


def cutoff(months: int, today: datetime.date | None = None) -> datetime.date:
    """The first day someone last seen may still be kept: ``months`` before today (Sweden's day)."""
    return add_months(today or clock.today(), -months)


def people_held(store: StateStore) -> dict[int, Held]:
    """Everyone the store holds a row about, with the last sign of them."""
    seen: dict[int, datetime.date | None] = {}
    for table, column in PERSON_TABLES.items():
        for uid, when in store._db.execute(f"SELECT userid, MAX({column}) FROM {table} WHERE moodle_url=? "  # noqa: S608
                                           "GROUP BY userid", (store.moodle_url,)):
            day = _day(when)
            old = seen.get(uid)
            seen[uid] = day if old is None else max(old, day) if day else old
    active = _active(store)
    return {uid: Held(uid, day, uid in active) for uid, day in sorted(seen.items())}


def past_retention(store: StateStore, months: int, today: datetime.date | None = None) -> list[Held]:
    """The people whose last sign is before :func:`cutoff` and who have no active enrolment."""
    first_kept = cutoff(months, today)
    return [h for h in people_held(store).values()
            if not h.active and (h.last_seen is None or h.last_seen < first_kept)]


def _active(store: StateStore) -> set[int]:
    url, now = store.moodle_url, clock.epoch()
    sql = ("SELECT userid FROM enrolments WHERE moodle_url=:url AND suspended=0 AND (timeend=0 OR timeend>:now)"
           " UNION SELECT userid FROM course_people WHERE moodle_url=:url AND status='active'"
           " UNION SELECT userid FROM enrol_intents WHERE moodle_url=:url AND status='pending'")
    return {r[0] for r in store._db.execute(sql, {"url": url, "now": now})}


def _day(text: str | None) -> datetime.date | None:
    """The Swedish day of a stored time (ISO, UTC) or a bare date."""
    if not text:
        return None
    moment = datetime.datetime.fromisoformat(text)
    return moment.astimezone(STOCKHOLM).date() if moment.tzinfo else moment.date()
