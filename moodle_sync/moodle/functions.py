"""One typed method per Moodle web-service function; the only code that calls ``MoodleClient.call``.

Each method's docstring names the function it calls (``Calls: <wsfunction>``); a meta-test checks
that every name exists in Moodle 4.3's declared signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from moodle_sync.moodle.client import MoodleClient
from moodle_sync.moodle.models import (
    Category,
    CategoryUpdate,
    Cohort,
    CohortUpdate,
    Course,
    CourseUpdate,
    Created,
    ItemWarning,
    NewCategory,
    NewCohort,
    NewCourse,
    Request,
    Section,
    SiteInfo,
)

T = TypeVar("T")

#: get_courses_by_field(ids=…) takes a comma list; keep it well inside URL/DB limits
IDS_PER_LOOKUP = 100


class MoodleApi:
    """Typed access to the web-service functions moodle-sync uses."""

    #: every function this class can call: `doctor` checks that the token's service has them
    FUNCTIONS: tuple[str, ...] = (
        "core_webservice_get_site_info",
        "core_course_get_categories",
        "core_course_create_categories",
        "core_course_update_categories",
        "core_course_get_courses_by_field",
        "core_course_create_courses",
        "core_course_update_courses",
        "core_course_import_course",
        "core_course_get_contents",
        "core_cohort_search_cohorts",
        "core_cohort_get_cohorts",
        "core_cohort_create_cohorts",
        "core_cohort_update_cohorts",
    )

    def __init__(self, client: MoodleClient) -> None:
        self.client = client

    # --- site -----------------------------------------------------------------------------------

    def site_info(self) -> SiteInfo:
        """Calls: core_webservice_get_site_info."""
        return SiteInfo.model_validate(self.client.call("core_webservice_get_site_info"))

    # --- categories -----------------------------------------------------------------------------

    def get_all_categories(self) -> list[Category]:
        """Every category the token may see, in one call.

        Calls: core_course_get_categories.
        """
        answer = self.client.call("core_course_get_categories", {"addsubcategories": 1})
        return [Category.model_validate(c) for c in answer or []]

    def create_categories(self, items: Sequence[NewCategory]) -> list[Created]:
        """Create categories in ONE call: all-or-nothing in Moodle (the caller batches and bisects).

        Calls: core_course_create_categories.
        """
        answer = self.client.call("core_course_create_categories",
                                  {"categories": [i.to_params() for i in items]}, items=list(items))
        return [Created.model_validate(c) for c in answer or []]

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
        return [Course.model_validate(c) for c in (answer or {}).get("courses", [])]

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
        return [Created.model_validate(c) for c in answer or []]

    def update_courses(self, items: Sequence[CourseUpdate]) -> list[ItemWarning]:
        """Update courses; Moodle applies each one on its own and reports failures as warnings.

        Calls: core_course_update_courses.
        """
        answer = self.client.call("core_course_update_courses",
                                  {"courses": [i.to_params() for i in items]}, items=list(items))
        return [ItemWarning.model_validate(w) for w in (answer or {}).get("warnings", [])]

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
        return [Section.model_validate(s) for s in answer or []]

    # --- cohorts --------------------------------------------------------------------------------

    def search_cohorts(self, query: str, *, per_page: int = 200) -> list[Cohort]:
        """Every cohort whose name, idnumber or description contains ``query`` (all contexts), paged.

        Moodle passes ``limitfrom`` on to ``cohort_get_all_cohorts()`` as a PAGE number, not an offset
        (cohort/externallib.php), so pages are counted, not rows.

        Calls: core_cohort_search_cohorts.
        """
        out: list[Cohort] = []
        page = 0
        while True:
            answer = self.client.call("core_cohort_search_cohorts", {
                "query": query, "context": {"contextlevel": "system", "instanceid": 0}, "includes": "all",
                "limitfrom": page, "limitnum": per_page})
            found = [Cohort.model_validate(c) for c in (answer or {}).get("cohorts", [])]
            out.extend(found)
            if len(found) < per_page:
                return out
            page += 1

    def get_cohorts(self, ids: Iterable[int]) -> list[Cohort]:
        """Cohorts by id (an unknown id fails the whole call in Moodle).

        Calls: core_cohort_get_cohorts.
        """
        ids = sorted(set(ids))
        if not ids:
            return []
        answer = self.client.call("core_cohort_get_cohorts", {"cohortids": ids})
        return [Cohort.model_validate(c) for c in answer or []]

    def create_cohorts(self, items: Sequence[NewCohort]) -> list[Created]:
        """Create cohorts in ONE call: all-or-nothing in Moodle (a duplicate idnumber fails it all).

        Calls: core_cohort_create_cohorts.
        """
        answer = self.client.call("core_cohort_create_cohorts",
                                  {"cohorts": [i.to_params() for i in items]}, items=list(items))
        return [Created.model_validate(c) for c in answer or []]

    def update_cohorts(self, items: Sequence[CohortUpdate]) -> None:
        """Update cohorts in one call (all-or-nothing; Moodle answers null).

        Calls: core_cohort_update_cohorts.
        """
        self.client.call("core_cohort_update_cohorts", {"cohorts": [i.to_params() for i in items]},
                         items=list(items))

    def batches(self, wsfunction: str, listkey: str, items: Sequence[T],
                to_request: Callable[[T], Request], *, max_items: int | None = None) -> list[list[T]]:
        """Group ``items`` so that each call of ``wsfunction`` stays under Moodle's ``max_input_vars``.

        Args:
            wsfunction: the function the requests go to.
            listkey: the list parameter they go under (``courses``, ``categories`` …).
            items: anything (e.g. plan actions); ``to_request`` turns one into its request model.
            max_items: at most this many per call.
        """
        params = [to_request(i).to_params() for i in items]
        out: list[list[T]] = []
        pos = 0
        for chunk in self.client.chunk(wsfunction, listkey, params, max_items=max_items):
            out.append(list(items[pos:pos + len(chunk)]))
            pos += len(chunk)
        return out
