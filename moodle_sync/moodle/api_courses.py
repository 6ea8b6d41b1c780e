"""MoodleApi's calls about course categories and courses: read, create, update, import a template's content.

A part of :class:`.functions.MoodleApi` (the one class that calls ``MoodleClient.call``), kept here by
the Moodle area it talks to; each method's docstring names the function it calls (``Calls: …``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from moodle_sync.moodle.answers import read_list
from moodle_sync.moodle.client import MoodleClient
from moodle_sync.moodle.models import (
    Category,
    CategoryUpdate,
    Course,
    CourseUpdate,
    Created,
    ItemWarning,
    NewCategory,
    NewCourse,
    Section,
)

__all__ = ["CourseCalls"]

#: get_courses_by_field(ids=…) takes a comma list; keep it well inside URL/DB limits
IDS_PER_LOOKUP = 100


class CourseCalls:
    """Categories and courses (core_course_*): a part of MoodleApi."""

    client: MoodleClient

    # --- categories -----------------------------------------------------------------------------

    def get_all_categories(self) -> list[Category]:
        """Every category the token may see, in one call.

        Calls: core_course_get_categories.
        """
        answer = self.client.call("core_course_get_categories", {"addsubcategories": 1})
        return read_list("core_course_get_categories", answer, Category)

    def create_categories(self, items: Sequence[NewCategory]) -> list[Created]:
        """Create categories in ONE call: all-or-nothing in Moodle (the caller batches and bisects).

        Calls: core_course_create_categories.
        """
        answer = self.client.call("core_course_create_categories",
                                  {"categories": [i.to_params() for i in items]}, items=list(items))
        return read_list("core_course_create_categories", answer, Created)

    def update_categories(self, items: Sequence[CategoryUpdate]) -> None:
        """Update categories in one call (all-or-nothing; Moodle answers null).

        Calls: core_course_update_categories.
        """
        self.client.call("core_course_update_categories",
                         {"categories": [i.to_params() for i in items]}, items=list(items))

    # --- courses --------------------------------------------------------------------------------

    def courses_by_field(self, field: str, value: str | int = "") -> list[Course]:
        """Courses whose ``field`` equals ``value`` (idnumber and shortname are exact matches).

        Calls: core_course_get_courses_by_field.
        """
        answer = self.client.call("core_course_get_courses_by_field", {"field": field, "value": value})
        return read_list("core_course_get_courses_by_field", answer, Course)

    def course_by_idnumber(self, idnumber: str) -> Course | None:
        found = [c for c in self.courses_by_field("idnumber", idnumber) if c.idnumber == idnumber]
        return found[0] if found else None

    def course_by_shortname(self, shortname: str) -> Course | None:
        found = [c for c in self.courses_by_field("shortname", shortname) if c.shortname == shortname]
        return found[0] if found else None

    def courses_by_ids(self, ids: Iterable[int]) -> list[Course]:
        """Courses by id, ``IDS_PER_LOOKUP`` per call; unknown ids are left out."""
        ids = sorted(set(ids))
        out: list[Course] = []
        for start in range(0, len(ids), IDS_PER_LOOKUP):
            chunk = ids[start:start + IDS_PER_LOOKUP]
            out.extend(self.courses_by_field("ids", ",".join(str(i) for i in chunk)))
        return out

    def create_courses(self, items: Sequence[NewCourse]) -> list[Created]:
        """Create courses in ONE call: all-or-nothing in Moodle (the caller batches and bisects).

        Calls: core_course_create_courses.
        """
        answer = self.client.call("core_course_create_courses",
                                  {"courses": [i.to_params() for i in items]}, items=list(items))
        return read_list("core_course_create_courses", answer, Created)

    def update_courses(self, items: Sequence[CourseUpdate]) -> list[ItemWarning]:
        """Update courses; Moodle applies each one on its own and reports failures as warnings.

        Calls: core_course_update_courses.
        """
        answer = self.client.call("core_course_update_courses",
                                  {"courses": [i.to_params() for i in items]}, items=list(items))
        return read_list("core_course_update_courses", answer, ItemWarning)

    def import_course(self, importfrom: int, importto: int) -> None:
        """Copy a template course's activities, blocks and filters into a course (no user data).

        Never deletes the target's content (``deletecontent=0``).

        Calls: core_course_import_course.
        """
        self.client.call("core_course_import_course",
                         {"importfrom": importfrom, "importto": importto, "deletecontent": 0},
                         items=[{"importfrom": importfrom, "importto": importto}])

    def course_contents(self, courseid: int) -> list[Section]:
        """Sections and activities of a course (names only, no module contents).

        Calls: core_course_get_contents.
        """
        answer = self.client.call("core_course_get_contents", {
            "courseid": courseid,
            "options": [{"name": "excludecontents", "value": "1"}],
        })
        return read_list("core_course_get_contents", answer, Section)
