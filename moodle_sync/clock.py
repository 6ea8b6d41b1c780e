"""The one clock: the moment now, and the day it is in Sweden. Nothing else in the tool asks the machine for the
time (a meta test holds that), so the report, the plan, the reminders and the portal never disagree about what
day it is: servers run in UTC, while the programme's day is Sweden's (between 23:00 and 24:00 UTC it is already
tomorrow in Stockholm). Times people read are shown in Swedish local time (:func:`shown`).

The built-in Moodle emulator keeps its time by this clock too. ``MOODLE_SYNC_CLOCK_AT`` (an ISO time with an
offset, e.g. ``2026-12-07T23:30:00+00:00``) starts the clock at that moment instead of the machine's, for the
whole process, so that the test suite can be run at any hour of the day.
"""

from __future__ import annotations

import datetime
import os
import time

from moodle_sync.specs.fields import STOCKHOLM

__all__ = ["STOCKHOLM", "epoch", "file_time", "now", "shown", "stamp", "today"]


def _offset() -> float:
    at = os.environ.get("MOODLE_SYNC_CLOCK_AT", "").strip()
    if not at:
        return 0.0
    moment = datetime.datetime.fromisoformat(at)
    if moment.tzinfo is None:
        raise ValueError(f"MOODLE_SYNC_CLOCK_AT={at!r} needs an offset, e.g. {at}+00:00")
    return moment.timestamp() - time.time()


#: seconds the clock runs ahead of the machine's (0 unless MOODLE_SYNC_CLOCK_AT is set)
OFFSET = _offset()


def now() -> datetime.datetime:
    """The moment now, in UTC."""
    return datetime.datetime.fromtimestamp(time.time() + OFFSET, datetime.UTC)


def epoch() -> int:
    """The moment now as Unix time (Moodle's times are these)."""
    return int(time.time() + OFFSET)


def file_time(moment: datetime.datetime) -> float:
    """``moment`` of this clock as the machine stamps files (``st_mtime``): they differ by :data:`OFFSET`."""
    return moment.timestamp() - OFFSET


def today() -> datetime.date:
    """The calendar day it is in Sweden."""
    return now().astimezone(STOCKHOLM).date()


def stamp() -> str:
    """The moment now as stored: ISO 8601 in UTC, to the second."""
    return now().isoformat(timespec="seconds")


def shown(moment: str | datetime.datetime | None) -> str:
    """A stored moment as people in Sweden read it: ``2026-12-07 00:04`` (Stockholm time); "" for none."""
    if not moment:
        return ""
    value = datetime.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
