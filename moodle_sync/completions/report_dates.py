"""Reading the dates report builder formats, only where that is certain.

Moodle formats a report's dates with userdate() (reportbuilder/classes/local/helpers/format.php) in the language,
calendar and timezone of the call. The tool asks for English (``moodlewssettinglang=en``: webservice/lib.php puts it
in $SESSION->lang, which current_language() puts before the user's own language and the site's) and
Europe/Stockholm (``moodlewssettingtimezone``), which webservice/lib.php honours unless the site forces a timezone
($CFG->forcetimezone: core_date::get_user_timezone() then uses that for every user). English's
strftimedaydatetime (lang/en/langconfig.php) is '%A, %d %B %Y, %I:%M %p' with userdate()'s fixday/fixhour:
``Wednesday, 31 December 2025, 11:00 PM``, to the minute.

A date is read as the wall-clock minute it shows (:func:`parse_shown`) and turned into a time only by a
:class:`Calibration`, made from times Moodle also gives as numbers (anchors): each managed course's start and end
date, which the report shows beside what core_course_get_courses_by_field answers, and the times the tool itself
sent for its enrolments (or, without a start, when it made them: the report then shows the enrolment's creation
time), and the completions the store holds with Moodle's time (read by an earlier pull: the report shows them again;
completions/report_setup.py leaves the course dates out once there are enough of these). When they agree with
Europe/Stockholm, the site honoured the timezone asked for. When they do not, the site
forces one: every timezone that agrees with them is a candidate, and a date is read where all candidates read it
alike (one forced zone, or any zone with the same times as it). A date no candidate settles, a site whose dates
are not English (a customised language string, another calendar) or one with no anchor gives no time: the caller
asks Moodle another way.
"""

from __future__ import annotations

import datetime
import functools
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from moodle_sync.specs.fields import STOCKHOLM

_MONTHS = {m: i for i, m in enumerate(("January", "February", "March", "April", "May", "June", "July", "August",
                                        "September", "October", "November", "December"), start=1)}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DATE = re.compile(r"^(\w+), (\d{1,2}) (\w+) (\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2}) (AM|PM)$")

#: an enrolment's creation time and the time the store recorded it differ by the length of the enrol call
CREATED_SLACK = 600

#: share of the enrolment and completion anchors that must agree: a few enrolments changed in the UI or completions
#: reset and redone (drift) do not make dates
#: uncertain. Course dates are read from Moodle in the same pull as the report, so every one must agree
AGREE = 0.9

_SECOND = datetime.timedelta(seconds=1)

#: enrolment anchors a candidate timezone is checked against when the site forces one (an even sample)
SAMPLE = 1000


def parse_shown(text: str | None) -> int | None:
    """The wall-clock minute an English userdate() shows, as seconds since 1970 of that wall clock read as UTC;
    None for '' or anything else. The weekday must match the date."""
    date, comma, time = (text or "").strip().rpartition(", ")
    if not comma:
        return None
    day, minute = _shown_day(date), _shown_minute(time)
    return None if day is None or minute is None else day + minute


def parse_shown_end(text: str) -> int | None:
    """An end date as shown: 0 when none is set (empty), else as :func:`parse_shown` (None when unreadable)."""
    return 0 if text == "" else parse_shown(text)


# a page shows tens of thousands of dates, on a few hundred days: each day and each minute is read once
@functools.lru_cache(maxsize=1 << 14)
def _shown_day(text: str) -> int | None:
    """'Wednesday, 31 December 2025' as seconds since 1970 of its midnight read as UTC."""
    m = _DATE.match(text)
    if not m:
        return None
    weekday, day, month, year = m.groups()
    if month not in _MONTHS:
        return None
    try:
        moment = datetime.datetime(int(year), _MONTHS[month], int(day), tzinfo=datetime.UTC)
    except ValueError:
        return None
    return int(moment.timestamp()) if _DAYS[moment.weekday()] == weekday else None


@functools.lru_cache(maxsize=1 << 12)
def _shown_minute(text: str) -> int | None:
    """'11:00 PM' as seconds since midnight."""
    m = _TIME.match(text)
    if not m:
        return None
    hour, minute, half = m.groups()
    if not 1 <= int(hour) <= 12 or not 0 <= int(minute) <= 59:
        return None
    return (int(hour) % 12 + (12 if half == "PM" else 0)) * 3600 + int(minute) * 60


def to_minute(ts: int) -> int:
    return ts - ts % 60


def wall(ts: int, zone: datetime.tzinfo) -> int:
    """The wall-clock minute ``zone`` shows at Unix time ``ts`` (as :func:`parse_shown` gives it)."""
    offset = _hour_offset(zone, ts // _HOUR)
    shown = ts + (offset if offset is not None else _offset(ts, zone))  # the wall clock read as UTC, to the second
    return shown - shown % 60


def unix(shown: int, zone: datetime.tzinfo) -> int | None:
    """The Unix time at which ``zone`` shows the wall-clock minute ``shown``; None when its clocks skip that minute.
    In the hour the clocks go back, the earlier of the two moments is taken: the calendar day is the same."""
    if shown % 60:
        return None  # not a minute: no wall clock shows it
    first = _wall_hour(zone, shown // _HOUR)
    return first + shown % _HOUR if first is not None else _unix(shown, zone)


# A pull reads tens of thousands of dates: each is turned into a time by its hour's offset, looked up once per hour
# and zone. An hour whose first and last moment have different offsets (the clocks change in it) is read date by
# date. Timezones change their offset at most once an hour (tz data: months apart), so the offset at both ends of
# an hour is its offset throughout.
_HOUR = 3600


def _offset(ts: int, zone: datetime.tzinfo) -> int:
    offset = datetime.datetime.fromtimestamp(ts, zone).utcoffset()
    return offset // _SECOND if offset is not None else 0


@functools.lru_cache(maxsize=1 << 16)
def _hour_offset(zone: datetime.tzinfo, hour: int) -> int | None:
    """The offset ``zone`` has throughout the UTC hour ``hour`` (Unix time // 3600); None when it changes in it."""
    first = _offset(hour * _HOUR, zone)
    return first if first == _offset(hour * _HOUR + _HOUR - 1, zone) else None


def _unix(shown: int, zone: datetime.tzinfo) -> int | None:
    moment = datetime.datetime.fromtimestamp(shown, datetime.UTC).replace(tzinfo=zone)
    ts = int(moment.timestamp())
    return ts if wall(ts, zone) == shown else None


@functools.lru_cache(maxsize=1 << 16)
def _wall_hour(zone: datetime.tzinfo, hour: int) -> int | None:
    """The Unix time of the wall-clock hour ``hour`` (wall clock read as UTC, // 3600) in ``zone`` when every minute
    of it is one moment an hour long after it; None when the clocks change in it (read minute by minute)."""
    first, last = _unix(hour * _HOUR, zone), _unix(hour * _HOUR + _HOUR - 60, zone)
    return first if first is not None and last == first + _HOUR - 60 else None


@dataclass(frozen=True)
class Anchor:
    """A date the report shows (None: unreadable) of a time the tool knows as a number; ``slack`` seconds apart
    for an enrolment's creation time against when the store recorded it, else to the minute."""

    shown: int | None
    true: int
    slack: int = 0

    def agrees(self, zone: datetime.tzinfo) -> bool:
        if self.shown is None:
            return False
        if not self.slack:
            return self.shown == wall(to_minute(self.true), zone)
        at = unix(self.shown, zone)
        return at is not None and abs(at - self.true) <= self.slack


@dataclass
class Calibration:
    """How the report's dates are read: in ``zones`` (empty: not at all)."""

    zones: list[datetime.tzinfo]
    anchors: int
    agree: int
    forced: bool = False
    _cache: dict[int, int | None] = field(default_factory=dict, repr=False)

    @property
    def certain(self) -> bool:
        return bool(self.zones)

    def zone_names(self) -> str:
        names = sorted(str(z) for z in self.zones)
        if len(names) <= 3:
            return " or ".join(names)
        return f"{', '.join(names[:3])} or one of {len(names) - 3} more with the same times"

    def unix(self, shown: int | None) -> int | None:
        """The Unix time of a shown date; None when it cannot be read with certainty."""
        if shown is None or not self.zones:
            return None
        if shown not in self._cache:
            times = {unix(shown, z) for z in self.zones}
            self._cache[shown] = times.pop() if len(times) == 1 else None
        return self._cache[shown]


def calibrate(courses: Iterable[Anchor], enrolments: Iterable[Anchor]) -> Calibration:
    """Find the timezone the report's dates are shown in, from course dates (all must agree) and enrolment and
    completion times (:data:`AGREE` of them)."""
    exact, loose = list(courses), list(enrolments)
    total = len(exact) + len(loose)
    if not total:
        return Calibration([], 0, 0)

    def fits(zone: datetime.tzinfo, checked: list[Anchor]) -> bool:
        return all(a.agrees(zone) for a in exact) and sum(a.agrees(zone) for a in checked) >= AGREE * len(checked)

    # each anchor is checked against Europe/Stockholm once (a routine pull has tens of thousands)
    exact_agree = [a.agrees(STOCKHOLM) for a in exact]
    loose_agree = sum(a.agrees(STOCKHOLM) for a in loose)
    agree = sum(exact_agree) + loose_agree
    if all(exact_agree) and loose_agree >= AGREE * len(loose):
        return Calibration([STOCKHOLM], total, agree)
    sample = loose[::max(1, -(-len(loose) // SAMPLE))]
    fitting: list[datetime.tzinfo] = [z for name in sorted(zoneinfo.available_timezones())
                                      if fits(z := zoneinfo.ZoneInfo(name), sample)]
    if fitting:
        agree = sum(a.agrees(fitting[0]) for a in exact + loose)
    return Calibration(fitting, total, agree, forced=bool(fitting))
