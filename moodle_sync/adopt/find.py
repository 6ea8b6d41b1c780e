"""The courses an admin names, read from Moodle: by short name (``--course``) and by category (``--category``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from moodle_sync.adopt.keys import close_matches
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import Category, Course

__all__ = ["Found", "find_courses"]

#: the front page is course 1 in every Moodle; it is never a course to adopt
SITE_COURSE_ID = 1


@dataclass
class Found:
    """What was named: the courses (each once, in the order named), every category, and what could not be found."""

    courses: list[Course] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def find_courses(api: MoodleApi, shortnames: Sequence[str], category_names: Sequence[str]) -> Found:
    """Read the named courses; an unknown short name or category is a problem naming the closest ones.

    Calls: core_course_get_categories, core_course_get_courses_by_field (by short name, by category; every
    course only to suggest names when one is unknown).
    """
    found = Found(categories=api.get_all_categories())
    seen: set[int] = set()
    every: list[Course] | None = None

    def add(course: Course) -> None:
        if course.id not in seen and course.id != SITE_COURSE_ID:
            seen.add(course.id)
            found.courses.append(course)

    for shortname in shortnames:
        course = api.course_by_shortname(shortname.strip())
        if course is not None:
            add(course)
            continue
        if every is None:
            every = [c for c in api.courses_by_field("", "") if c.id != SITE_COURSE_ID]
        near = close_matches(shortname, [c.shortname for c in every])
        found.problems.append(f"--course {shortname}: no course in Moodle has that short name"
                              + (f"; close: {', '.join(near)}" if near else "")
                              + " (short names are matched exactly, capitals too)")
    for name in category_names:
        named = [c for c in found.categories if c.name == name.strip()] \
            or [c for c in found.categories if c.name.casefold() == name.strip().casefold()]
        if not named:
            near = close_matches(name, [c.name for c in found.categories])
            found.problems.append(f"--category {name}: no category in Moodle has that name"
                                  + (f"; close: {', '.join(near)}" if near else ""))
            continue
        if len(named) > 1:
            found.problems.append(f"--category {name}: {len(named)} categories have that name (ids "
                                  f"{', '.join(str(c.id) for c in named)}); name their courses with --course instead")
            continue
        courses = sorted(api.courses_by_field("category", named[0].id), key=lambda c: c.shortname)
        if not courses:
            found.problems.append(f"--category {name}: the category has no courses of its own (courses in its "
                                  f"subcategories are adopted by naming those)")
        for course in courses:
            add(course)
    return found
