"""The vocabulary spec keys are written in: sectors, course formats, counties, and the value types of keys.

Keys (``Slug``), names Moodle keeps as they are (``Text``), ISO dates, strict booleans, semantic versions,
and the calendar arithmetic on course dates (midnight in Sweden, whole months). The models in
:mod:`.models` are built from these; the regular expressions are also used by the loader's checks.
"""

from __future__ import annotations

import datetime
import re
from calendar import monthrange
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Strict, StringConstraints

from moodle_sync.formulas import starts_like_formula
from moodle_sync.invisible_text import describe_invisible

__all__ = [
    "COUNTIES",
    "COUNTY_LIST",
    "COURSE_FORMATS",
    "DELIVERIES",
    "ISO_DATE_RE",
    "LANGUAGE_RE",
    "PREVIOUS_VERSIONS",
    "REQUIREMENTS",
    "ROLE_RE",
    "SECTORS",
    "SECTOR_NAMES",
    "SEMVER_RE",
    "SLUG_RE",
    "STOCKHOLM",
    "SUMMARY_FORMATS",
    "STOCKHOLM_NAME",
    "TIME_RANGE_RE",
    "VERSIONED_SHORTNAME_RE",
    "CourseFormat",
    "Delivery",
    "IsoDate",
    "PreviousVersions",
    "Requirement",
    "Sector",
    "Slug",
    "StrictBool",
    "SummaryFormat",
    "Text",
    "add_months",
    "known_timezone",
    "midnight_in",
    "midnight_stockholm",
    "parse_semver",
    "plain_text",
    "unique_keys",
]

#: course dates are calendar days in Sweden; Moodle stores them as Unix time
STOCKHOLM_NAME = "Europe/Stockholm"
STOCKHOLM = ZoneInfo(STOCKHOLM_NAME)

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Moodle language pack names: sv, en, sv_fi, pt_br, en_us_k12 …
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(_[a-z0-9]+)*$")
#: a spec shortname must not carry a version: ``-v<major>`` is appended for Moodle
VERSIONED_SHORTNAME_RE = re.compile(r"-v\d+$", re.IGNORECASE)
#: Moodle role shortnames: student, editingteacher, a site's own roles (lowercase, digits, underscore)
ROLE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: a session's hours, 24-hour clock: 09:00-16:00
TIME_RANGE_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")

Sector = Literal["halso-och-sjukvard", "socialtjanst", "bada", "skola", "ideell", "ovrigt"]
CourseFormat = Literal["topics", "weeks", "singleactivity", "social"]
#: how Moodle reads a summary: html (1, what the tool writes), moodle (0, "Moodle auto-format": a CSV upload's
#: default), plain (2), markdown (4)
SummaryFormat = Literal["html", "moodle", "plain", "markdown"]
SUMMARY_FORMATS: dict[str, int] = {"moodle": 0, "html": 1, "plain": 2, "markdown": 4}
Delivery = Literal["web", "blended"]
Requirement = Literal["required", "recommended"]
#: what becomes of the tool's enrolments in older major versions when the rules enrol people in the newest one
PreviousVersions = Literal["move", "keep"]

SECTORS: tuple[str, ...] = get_args(Sector)
COURSE_FORMATS: tuple[str, ...] = get_args(CourseFormat)
DELIVERIES: tuple[str, ...] = get_args(Delivery)
REQUIREMENTS: tuple[str, ...] = get_args(Requirement)
PREVIOUS_VERSIONS: tuple[str, ...] = get_args(PreviousVersions)

#: Sweden's 21 counties (län) by letter code (länsbokstav). Written out here rather than imported from
#: the roster layer, so that specs stand on their own.
COUNTIES: dict[str, str] = {
    "AB": "Stockholm", "C": "Uppsala", "D": "Södermanland", "E": "Östergötland", "F": "Jönköping",
    "G": "Kronoberg", "H": "Kalmar", "I": "Gotland", "K": "Blekinge", "M": "Skåne", "N": "Halland",
    "O": "Västra Götaland", "S": "Värmland", "T": "Örebro", "U": "Västmanland", "W": "Dalarna",
    "X": "Gävleborg", "Y": "Västernorrland", "Z": "Jämtland", "AC": "Västerbotten", "BD": "Norrbotten",
}
COUNTY_LIST = ", ".join(f"{code} ({name})" for code, name in COUNTIES.items())

#: how each sector reads in Swedish (reports, README)
SECTOR_NAMES: dict[str, str] = {
    "halso-och-sjukvard": "Hälso- och sjukvården",
    "socialtjanst": "Socialtjänsten",
    "bada": "Både hälso- och sjukvården och socialtjänsten",
    "skola": "Skolan",
    "ideell": "Ideella organisationer",
    "ovrigt": "Övriga",
}


def _iso_date(value: object) -> object:
    """YAML gives ``date`` for ``2024-09-01`` and ``str`` when quoted; accept exactly those two forms."""
    if isinstance(value, datetime.datetime):
        raise ValueError(f"{value.isoformat(sep=' ')!r} has a time of day; write only the date, YYYY-MM-DD")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and ISO_DATE_RE.match(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a real calendar date") from None
    raise ValueError(f"{value!r} is not a date in the form YYYY-MM-DD")


Slug = Annotated[str, StringConstraints(pattern=SLUG_RE.pattern, max_length=60)]
#: what PHP's strip_tags() takes for a tag: "<" followed by anything but whitespace (PARAM_TEXT strips it)
_TAG_START = re.compile(r"<(?=[^\s])")
#: line breaks a YAML value can carry into a one-line name (the other ones are controls, which the guard refuses
#: in every value: moodle_sync.specs.guard)
_BREAKS = "\t\n\r\u2028\u2029"


def plain_text(value: str) -> str:
    """Names go to Moodle as PARAM_TEXT, which strips tags – and a value cleaning would change is
    refused as invalidparameter, failing the whole batch it is in. A name or title is one line (no line
    break, tab, U+2028 or U+2029 inside it) and does not start like a spreadsheet formula (it comes back
    out of Moodle into exports and other people's spreadsheets: :mod:`moodle_sync.formulas`)."""
    if _TAG_START.search(value):
        raise ValueError(f"{value!r} has '<' right before a character, which Moodle strips as an HTML tag; "
                         "put a space after '<' or write it out (e.g. 'under 18')")
    if (at := next((i for i, ch in enumerate(value) if ch in _BREAKS), None)) is not None:
        raise ValueError(f"{value!r} {describe_invisible(value, at)}; Moodle shows a name or title on one line, "
                         "so write it on one line (a YAML value folded over lines with '>' or a plain value is "
                         "joined with spaces)")
    if starts_like_formula(value):
        raise ValueError(f"{value!r} starts like a spreadsheet formula (=, +, - or @), which a spreadsheet "
                         "program runs when the name comes back out of Moodle in an export; begin with a word")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
                 AfterValidator(plain_text)]
IsoDate = Annotated[datetime.date, BeforeValidator(_iso_date)]
StrictBool = Annotated[bool, Strict()]


def parse_semver(version: str) -> tuple[int, int, int]:
    """``"2.1.0"`` → ``(2, 1, 0)``.

    Raises:
        ValueError: ``version`` is not ``MAJOR.MINOR.PATCH`` (no leading zeros, no suffix).
    """
    match = SEMVER_RE.match(version)
    if not match:
        raise ValueError(f"{version!r} is not a semantic version")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def midnight_stockholm(day: datetime.date) -> int:
    """Unix time of 00:00 on ``day`` in Sweden (CET/CEST; midnight always exists there)."""
    return int(datetime.datetime.combine(day, datetime.time(0), tzinfo=STOCKHOLM).timestamp())


def known_timezone(name: str) -> str:
    """``name`` itself when it is an IANA timezone (Europe/London, UTC); ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        raise ValueError(f"{name!r} is not a timezone name such as Europe/Stockholm or Europe/London") from None
    return name


def midnight_in(day: datetime.date, zone: str) -> int:
    """Unix time of 00:00 on ``day`` in the timezone ``zone`` (the first moment of the day where DST skips it)."""
    if zone == STOCKHOLM_NAME:
        return midnight_stockholm(day)
    tz = ZoneInfo(zone)
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=tz)
    # a zone whose DST starts at midnight has no 00:00 that day; fold=0 gives the time before the jump, which
    # is the day before: step forward to the first moment that is on the day
    as_utc = start.astimezone(datetime.UTC)
    if as_utc.astimezone(tz).date() != day:
        as_utc += datetime.timedelta(hours=1)
    return int(as_utc.timestamp())


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus whole calendar months; the 31st becomes the last day of a shorter month."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return day.replace(year=year, month=month, day=min(day.day, monthrange(year, month)[1]))


def unique_keys(value: tuple[str, ...], what: str) -> tuple[str, ...]:
    """``value`` itself, or ValueError naming the first ``what`` listed twice."""
    seen: set[str] = set()
    for item in value:
        if item in seen:
            raise ValueError(f"{what} {item!r} is listed twice")
        seen.add(item)
    return value
