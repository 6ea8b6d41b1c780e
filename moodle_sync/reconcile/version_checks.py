"""Spec edits that cannot do what they say, on a course version already in Moodle.

- A version that goes backwards (1.2.0 after 1.3.0 was applied, or 1.x while ``key@2`` exists) is
  refused: the store and Moodle would tell two stories about which content people completed.
- ``sections`` of an existing course version: Moodle makes sections only when it creates a course.
  core_course_update_courses takes ``numsections`` only as a deprecated field that update_course()
  hands to the course format, and format_topics/format_weeks of Moodle 4.3 have no such option
  (course/format/topics/lib.php ``course_format_options``), so a change would never reach Moodle.
"""

from __future__ import annotations

from moodle_sync.identity import parse_course_idnumber
from moodle_sync.moodle.models import Course
from moodle_sync.specs.fields import parse_semver
from moodle_sync.specs.models import CourseSpec

__all__ = ["backwards_problem", "fingerprint", "remembered_sections", "sections_warning", "with_sections"]


def with_sections(spec_fingerprint: str, sections: int) -> str:
    """The hash the store keeps: the spec's fingerprint and the sections Moodle made (``ab12…:s8``)."""
    return f"{spec_fingerprint}:s{sections}"


def fingerprint(stored: str) -> str:
    """The fingerprint part of a stored hash (stores from before the sections suffix have only that)."""
    return stored.split(":", 1)[0]


def remembered_sections(stored: str) -> int | None:
    """The sections recorded with a stored hash; None when the store does not know them."""
    _, _, tail = stored.partition(":s")
    return int(tail) if tail.isdigit() else None


def backwards_problem(spec: CourseSpec, remembered_version: str, courses: dict[str, Course], where: str) -> str | None:
    """Why ``spec.version`` goes backwards on what Moodle already has, or None."""
    later = sorted(major for idn in courses if (parsed := parse_course_idnumber(idn))
                   and parsed[0] == spec.key and (major := parsed[1]) > spec.major)
    if later:
        return (f"{where}: version {spec.version} of {spec.key} goes backwards: {spec.key}@{later[-1]} (major "
                f"version {later[-1]}) already exists in Moodle; give the spec a version of major {later[-1]} or "
                f"higher (a new major version is a new course; the old one keeps its completions)")
    try:
        before = parse_semver(remembered_version) if remembered_version else None
    except ValueError:
        before = None
    if before is not None and parse_semver(spec.version) < before:
        return (f"{where}: version {spec.version} of {spec.key} goes backwards: {spec.idnumber} in Moodle was "
                f"applied as {remembered_version}; give the spec a version above {remembered_version} (to undo a "
                f"change, make it again with a higher version)")
    return None


def sections_warning(spec: CourseSpec, stored_hash: str, where: str) -> str | None:
    """A warning when ``sections`` changed on a course version that exists: Moodle will not get it."""
    before = remembered_sections(stored_hash)
    if before is None or before == spec.sections:
        return None
    return (f"{where}: sections changed from {before} to {spec.sections} on {spec.idnumber}, which already exists "
            f"in Moodle: Moodle will not get it (it makes sections only when it creates a course); add or remove "
            f"sections in the course by hand, or make a new major version")
