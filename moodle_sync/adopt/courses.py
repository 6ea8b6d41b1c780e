"""A Moodle course and its categories as spec data; what the spec cannot say, and what apply would still change.

The data is what the shipped specs hold (course_specs/courses/*.yaml, categories.yaml), read from the course as
Moodle has it: names, category, summary, format, sections, dates (whole days in the timezone whose midnight they
are), visibility, completion, a forced language. What Moodle does not know (provider, delivery, target groups)
comes from the command line or a stated default, and the YAML says so.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from moodle_sync.adopt.keys import slug
from moodle_sync.identity import category_key, course_idnumber, parse_course_idnumber
from moodle_sync.moodle.models import Category, Course, Section
from moodle_sync.reconcile.diff import desired_course_fields
from moodle_sync.specs.fields import (
    COURSE_FORMATS,
    STOCKHOLM_NAME,
    SUMMARY_FORMATS,
    VERSIONED_SHORTNAME_RE,
    midnight_in,
)
from moodle_sync.specs.models import CategorySpec, CourseSpec

__all__ = ["CategoryAdoption", "CourseAdoption", "category_chain", "category_data", "check_category", "course_data",
           "course_problems", "day_zone", "left_in_moodle", "owned_key", "what_apply_changes", "zone_problem"]

#: the timezones tried, after the one asked for, for dates that are not midnight in Sweden
OTHER_ZONES = ("Europe/London", "UTC", "Europe/Helsinki", "Europe/Berlin")
#: what every adopted course keeps in Moodle and the spec never says (the activities are counted per course)
ALWAYS_LEFT = ("completion criteria and activity completion settings",
               "enrolment methods and everyone enrolled, with their completions",
               "groups, blocks, course image, custom fields, format options, activity dates and completion conditions "
               "shown, role overrides and the other course settings")


@dataclass
class CategoryAdoption:
    """A category the adopted courses are in (or above them): its spec data, and whether it needs marking."""

    category: Category
    key: str
    data: dict[str, Any]
    #: its ID number is set to cat:<key> (it is not the tool's yet)
    mark: bool
    #: its entry is added to categories.yaml (the specs do not have it yet)
    write: bool


@dataclass
class CourseAdoption:
    """One course taken over: its key, its spec data (YAML order), what stays in Moodle, what apply would change."""

    course: Course
    key: str
    data: dict[str, Any]
    left: list[str] = field(default_factory=list)
    will_change: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def idnumber(self) -> str:
        return course_idnumber(self.key, 1)


def day_zone(course: Course, asked: str | None) -> str | None:
    """The timezone in which the course's start (and end) is midnight: the one asked for, Sweden's, or a few
    common others; None when its dates are at another time of day in all of them."""
    zones = [z for z in (asked, STOCKHOLM_NAME, *OTHER_ZONES) if z]
    for zone in dict.fromkeys(zones):
        if all(midnight_in(_day(t, zone), zone) == t for t in (course.startdate, course.enddate) if t):
            return zone
    return None


def _day(t: int, zone: str) -> datetime.date:
    return datetime.datetime.fromtimestamp(t, ZoneInfo(zone)).date()


def _shown(t: int, zone: str) -> str:
    return datetime.datetime.fromtimestamp(t, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def category_chain(category_id: int, by_id: dict[int, Category]) -> list[Category]:
    """The category and its parents, the top one first."""
    chain: list[Category] = []
    current = by_id.get(category_id)
    while current is not None and current not in chain:
        chain.insert(0, current)
        current = by_id.get(current.parent) if current.parent else None
    return chain


def category_data(category: Category, parent_key: str | None) -> tuple[str, dict[str, Any]]:
    """The category's key (its own when it is already the tool's) and its spec data."""
    key = category_key(category.idnumber) or slug(category.name)
    data: dict[str, Any] = {"key": key, "name": category.name}
    if parent_key:
        data["parent"] = parent_key
    if category.description:
        data["description"] = category.description
    return key, data


def check_category(data: dict[str, Any]) -> str | None:
    """None when the data is a valid category spec; else what is wrong, in one line."""
    try:
        CategorySpec.model_validate(data)
    except ValidationError as e:
        return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
    return None


def course_data(course: Course, key: str, category_key_: str, provider: str, target_groups: Sequence[str],
                language: str, sections: list[Section], zone: str) -> dict[str, Any]:
    """The course's spec data in the order the shipped specs use."""
    shortname = course.shortname.strip()
    base = shortname[:-3] if shortname.endswith("-v1") else shortname
    data: dict[str, Any] = {
        "key": key, "version": "1.0.0", "title": course.fullname, "shortname": base,
    }
    if base == shortname:
        data["adopted_shortname"] = shortname
        if VERSIONED_SHORTNAME_RE.search(shortname):  # e.g. "ABC-v2": the spec's shortname may not end so
            data["shortname"] = VERSIONED_SHORTNAME_RE.sub("", shortname) or key
    data.update({
        "category": category_key_, "provider": provider, "delivery": "web", "fee_sek": 0,
        "summary": course.summary,
    })
    if course.summaryformat != SUMMARY_FORMATS["html"]:
        data["summary_format"] = next((n for n, v in SUMMARY_FORMATS.items() if v == course.summaryformat),
                                      course.summaryformat)  # an unknown number is refused by the model
    data.update({
        "format": course.format,
        "sections": sum(1 for s in sections if s.section > 0),
        "start_date": _day(course.startdate, zone),
    })
    if course.enddate:
        data["end_date"] = _day(course.enddate, zone)
    if course.format == "weeks" and course.automaticenddate:
        data["automatic_end_date"] = True
    if zone != STOCKHOLM_NAME:
        data["timezone"] = zone
    data.update({"visible": bool(course.visible), "language": course.lang or language})
    if course.lang:
        data["force_language"] = True
    data.update({"target_groups": list(target_groups), "completion": bool(course.enablecompletion)})
    return data


def zone_problem(course: Course, asked: str | None) -> str:
    """The course's dates are at a time of day in every timezone tried: what to do about it."""
    zone = asked or STOCKHOLM_NAME
    zones = ", ".join(dict.fromkeys((zone, STOCKHOLM_NAME, *OTHER_ZONES)))
    return (f"course {course.shortname!r} (id {course.id}) starts {_shown(course.startdate, zone)}"
            + (f" and ends {_shown(course.enddate, zone)}" if course.enddate else "")
            + f" ({zone}), not at midnight in any of {zones}; a spec says whole days: pass --timezone with the "
              f"site's timezone (Site administration > General > Location > Location settings), or set the "
              f"course's dates to whole days in Moodle first")


def course_problems(course: Course, data: dict[str, Any]) -> list[str]:
    """Why the course cannot be written as a spec (empty when it can)."""
    name = f"course {course.shortname!r} (id {course.id})"
    if course.format not in COURSE_FORMATS:
        return [f"{name} has the course format {course.format!r}; specs know {', '.join(COURSE_FORMATS)}"]
    try:
        CourseSpec.model_validate(data)
    except ValidationError as e:
        return [f"{name}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
    return []


def what_apply_changes(course: Course, data: dict[str, Any]) -> list[str]:
    """What `apply` would still change on the course once the spec is written (the spec cannot say the value
    Moodle has); empty when the spec reproduces the course."""
    spec = CourseSpec.model_validate(data)
    out = []
    for name, value in desired_course_fields(spec).items():
        have = getattr(course, name)
        if have != value:
            out.append(f"{name} {have!r} → {value!r}")
    return out


def left_in_moodle(sections: list[Section]) -> list[str]:
    """What stays in Moodle, untouched and unread by the tool: the activities by kind, then the rest."""
    kinds = Counter(m.modname for s in sections for m in s.modules)
    total = sum(kinds.values())
    activities = (f"{total} activit{'y' if total == 1 else 'ies'} ("
                  + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) + ")") if kinds else "no activities"
    return [activities, *ALWAYS_LEFT]


def owned_key(course: Course) -> str | None:
    """The spec key of a course that is already the tool's (idnumber ``<key>@<major>``), else None."""
    parsed = parse_course_idnumber(course.idnumber)
    return parsed[0] if parsed else None
