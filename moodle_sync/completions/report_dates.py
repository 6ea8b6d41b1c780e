"""Reading the dates report builder formats, only where that is certain.

Moodle formats a report's dates with userdate() (reportbuilder/classes/local/helpers/format.php) in the language
and timezone of the call: the tool asks for English (``moodlewssettinglang=en``; English is always installed) and
Europe/Stockholm (``moodlewssettingtimezone``), which webservice/lib.php honours unless the site forces a timezone
($CFG->forcetimezone). English's strftimedaydatetime (lang/en/langconfig.php) is '%A, %d %B %Y, %I:%M %p' with
userdate()'s fixday/fixhour: ``Wednesday, 31 December 2025, 11:00 PM``, to the minute. Whether the timezone held is
checked against times the tool knows itself (anchors): the start and end it sent for its enrolments, and the time it
made an enrolment without a start (the report then shows the enrolment's creation time).
"""

from __future__ import annotations

import datetime
import re

from moodle_sync.specs.fields import STOCKHOLM

_MONTHS = {m: i for i, m in enumerate(("January", "February", "March", "April", "May", "June", "July", "August",
                                        "September", "October", "November", "December"), start=1)}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PATTERN = re.compile(r"^(\w+), (\d{1,2}) (\w+) (\d{4}), (\d{1,2}):(\d{2}) (AM|PM)$")

#: an enrolment's creation time and the time the store recorded it differ by the length of the enrol call
CREATED_SLACK = 600

#: share of anchors that must agree: a few enrolments changed in the UI (drift) do not make dates uncertain,
#: a site that forces another timezone (all anchors off by its offset) does
AGREE = 0.9


def parse_userdate(text: str | None) -> int | None:
    """Unix time (to the minute) of an English userdate() in Europe/Stockholm; None for '' or anything else.

    The weekday must match the date. In the hour the clocks go back, the earlier of the two moments is taken: the
    calendar day is the same either way.
    """
    m = _PATTERN.match((text or "").strip())
    if not m:
        return None
    weekday, day, month, year, hour, minute, half = m.groups()
    if month not in _MONTHS or not 1 <= int(hour) <= 12:
        return None
    hour24 = int(hour) % 12 + (12 if half == "PM" else 0)
    try:
        moment = datetime.datetime(int(year), _MONTHS[month], int(day), hour24, int(minute), tzinfo=STOCKHOLM)
    except ValueError:
        return None
    if _DAYS[moment.weekday()] != weekday:
        return None
    return int(moment.timestamp())


def to_minute(ts: int) -> int:
    return ts - ts % 60


class Anchors:
    """Counts report dates of times the tool knows; ``certain`` when enough of them agree."""

    def __init__(self, seen: int = 0, agree: int = 0) -> None:
        self.seen, self.agree = seen, agree

    def exact(self, shown: int | None, sent: int) -> None:
        """A start or end the tool sent itself (never 0)."""
        self.seen += 1
        self.agree += shown == to_minute(sent)

    def created(self, shown: int | None, recorded: int) -> None:
        """The creation time of an enrolment the tool made without a start, against when it recorded it."""
        self.seen += 1
        self.agree += shown is not None and abs(shown - recorded) <= CREATED_SLACK

    @property
    def certain(self) -> bool:
        return self.seen > 0 and self.agree >= AGREE * self.seen
