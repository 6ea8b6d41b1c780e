"""One typed method per Moodle web-service function; the only code that calls ``MoodleClient.call``.

Each method's docstring names the function it calls (``Calls: <wsfunction>``); a meta-test checks
that every name exists in Moodle 4.3's declared signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from moodle_sync.moodle.answers import read_list, read_one
from moodle_sync.moodle.client import MoodleClient
from moodle_sync.moodle.models import (
    Category,
    CategoryUpdate,
    Cohort,
    CohortMembers,
    CohortUpdate,
    ColumnSorting,
    CompletionStatus,
    Course,
    CourseUpdate,
    Created,
    EnrolledUser,
    Enrolment,
    Group,
    GroupMembers,
    InstantMessage,
    ItemWarning,
    NewCategory,
    NewCohort,
    NewCourse,
    NewGroup,
    NewUser,
    ReportDetails,
    Request,
    RetrievedReport,
    Section,
    SentMessage,
    SiteInfo,
    User,
    UserUpdate,
)

T = TypeVar("T")

#: values per get_users_by_field call (each is one form variable; the SQL IN list stays modest)
USERS_PER_LOOKUP = 500

#: get_courses_by_field(ids=…) takes a comma list; keep it well inside URL/DB limits
IDS_PER_LOOKUP = 100


#: what a pull costs without the report builder functions (doctor and pull say it)
REPORT_COST = ("`pull` cannot read completions in bulk through the completion report and asks Moodle one "
               "person at a time instead (about 23 ms a person on a 2-core site: an hour for 150 000 enrolments), "
               "and completions made without a visit wait for the weekly sweep")


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
        "core_cohort_get_cohort_members",
        "core_cohort_add_cohort_members",
        "core_cohort_delete_cohort_members",
        "core_user_get_users_by_field",
        "core_user_create_users",
        "core_user_update_users",
        "core_enrol_get_enrolled_users",
        "enrol_manual_enrol_users",
        "core_group_get_course_groups",
        "core_group_create_groups",
        "core_group_get_group_members",
        "core_group_add_group_members",
        "core_completion_get_course_completion_status",
        "core_message_send_instant_messages",
    )

    #: used when the token's service has them, else their check is skipped (and doctor says what that costs)
    OPTIONAL_FUNCTIONS: dict[str, str] = {
        "core_user_get_users": "roster imports cannot see an account whose e-mail differs only in capitals before "
                               "creating (Moodle then refuses that row, and the rest of its batch is sent one by one)",
        **{name: REPORT_COST for name in (
            "core_reportbuilder_list_reports", "core_reportbuilder_retrieve_report",
            "core_reportbuilder_columns_add", "core_reportbuilder_columns_sort_toggle")},
    }

    #: the functions the bulk completion pull needs (completions/report_setup.py)
    REPORT_FUNCTIONS: tuple[str, ...] = ("core_reportbuilder_list_reports", "core_reportbuilder_retrieve_report",
                                         "core_reportbuilder_columns_add", "core_reportbuilder_columns_sort_toggle")

    def __init__(self, client: MoodleClient) -> None:
        self.client = client
        self._functions: set[str] | None = None
        self._siteurl: str | None = None

    # --- site -----------------------------------------------------------------------------------

    def site_info(self) -> SiteInfo:
        """Calls: core_webservice_get_site_info."""
        return read_one("core_webservice_get_site_info", self.client.call("core_webservice_get_site_info"), SiteInfo)

    def has_function(self, name: str) -> bool:
        """Whether the token's service offers ``name`` (site info is read once per API object)."""
        if self._functions is None:
            self._remember(self.site_info())
        assert self._functions is not None
        return name in self._functions

    def siteurl(self) -> str:
        """The site's own address (site info's ``siteurl``, its ``$CFG->wwwroot``), read once per API object.

        Moodle answers its wwwroot whatever address it was reached at (webservice/externallib.php
        get_site_info); it redirects a request for another host to it (lib/setuplib.php initialise_fullme).
        """
        if self._siteurl is None:
            self._remember(self.site_info())
        assert self._siteurl is not None
        return self._siteurl

    def _remember(self, info: SiteInfo) -> None:
        self._functions = info.function_names()
        self._siteurl = info.siteurl or self.client.transport.base_url

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
            found = read_list("core_cohort_search_cohorts", answer, Cohort)
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
        return read_list("core_cohort_get_cohorts", answer, Cohort)

    def create_cohorts(self, items: Sequence[NewCohort]) -> list[Created]:
        """Create cohorts in ONE call: all-or-nothing in Moodle (a duplicate idnumber fails it all).

        Calls: core_cohort_create_cohorts.
        """
        answer = self.client.call("core_cohort_create_cohorts",
                                  {"cohorts": [i.to_params() for i in items]}, items=list(items))
        return read_list("core_cohort_create_cohorts", answer, Created)

    def update_cohorts(self, items: Sequence[CohortUpdate]) -> None:
        """Update cohorts in one call (all-or-nothing; Moodle answers null).

        Calls: core_cohort_update_cohorts.
        """
        self.client.call("core_cohort_update_cohorts", {"cohorts": [i.to_params() for i in items]},
                         items=list(items))

    def cohort_members(self, cohort_ids: Iterable[int]) -> dict[int, set[int]]:
        """Member user ids of each cohort (an unknown cohort id fails the whole call).

        Calls: core_cohort_get_cohort_members.
        """
        ids = sorted(set(cohort_ids))
        out: dict[int, set[int]] = {i: set() for i in ids}
        for start in range(0, len(ids), 100):
            answer = self.client.call("core_cohort_get_cohort_members", {"cohortids": ids[start:start + 100]})
            for members in read_list("core_cohort_get_cohort_members", answer, CohortMembers):
                out[members.cohortid] = set(members.userids)
        return out

    def add_cohort_members(self, pairs: Sequence[tuple[int, int]]) -> list[ItemWarning]:
        """Add (cohort id, user id) pairs; already-members come back as warning code 3, not errors.

        Calls: core_cohort_add_cohort_members.
        """
        members = [{"cohorttype": {"type": "id", "value": str(c)}, "usertype": {"type": "id", "value": str(u)}}
                   for c, u in pairs]
        answer = self.client.call("core_cohort_add_cohort_members", {"members": members}, items=list(pairs))
        return read_list("core_cohort_add_cohort_members", answer, ItemWarning)

    def delete_cohort_members(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Remove (cohort id, user id) pairs; removing a non-member is a silent no-op in Moodle.

        Calls: core_cohort_delete_cohort_members.
        """
        self.client.call("core_cohort_delete_cohort_members",
                         {"members": [{"cohortid": c, "userid": u} for c, u in pairs]}, items=list(pairs))

    # --- users ----------------------------------------------------------------------------------

    def users_by_field(self, field: str, values: Iterable[str]) -> list[User]:
        """Users whose ``field`` (id, idnumber, username, email) equals one of ``values``, batched.

        Calls: core_user_get_users_by_field.
        """
        values = sorted(set(values))
        out: list[User] = []
        for start in range(0, len(values), USERS_PER_LOOKUP):
            answer = self.client.call("core_user_get_users_by_field",
                                      {"field": field, "values": values[start:start + USERS_PER_LOOKUP]})
            out.extend(read_list("core_user_get_users_by_field", answer, User))
        return out

    def users_with_email_like(self, pattern: str) -> list[User]:
        """Users whose email matches ``pattern`` in SQL LIKE, ignoring case (``%`` and ``_`` are wildcards).

        The only lookup that ignores case as create_users' duplicate check does (get_users_by_field
        compares exactly). Deleted users are left out.

        Calls: core_user_get_users.
        """
        answer = self.client.call("core_user_get_users", {"criteria": [{"key": "email", "value": pattern}]})
        return read_list("core_user_get_users", answer, User)

    def create_users(self, items: Sequence[NewUser]) -> list[Created]:
        """Create users in ONE call: all-or-nothing, and a bad item is only "invalidparameter".

        Calls: core_user_create_users.
        """
        answer = self.client.call("core_user_create_users", {"users": [i.to_params() for i in items]},
                                  items=list(items))
        return read_list("core_user_create_users", answer, Created)

    def update_users(self, items: Sequence[UserUpdate]) -> list[ItemWarning]:
        """Update users: ONE bad value refuses the whole call; otherwise a user's failure is a warning.

        Calls: core_user_update_users.
        """
        answer = self.client.call("core_user_update_users", {"users": [i.to_params() for i in items]},
                                  items=list(items))
        return read_list("core_user_update_users", answer, ItemWarning)

    # --- enrolments -----------------------------------------------------------------------------

    def enrolled_users(self, courseid: int, *, only_active: bool, fields: str = "id",
                       page_size: int = 5000) -> list[EnrolledUser]:
        """Everyone enrolled in a course (``only_active``: without suspended ones), paged by id.

        No core function returns an enrolment's status or dates: comparing ``only_active`` with
        the full list is the only way to see who is suspended.

        Calls: core_enrol_get_enrolled_users.
        """
        out: list[EnrolledUser] = []
        offset = 0
        while True:
            answer = self.client.call("core_enrol_get_enrolled_users", {"courseid": courseid, "options": [
                {"name": "userfields", "value": fields},
                {"name": "onlyactive", "value": "1" if only_active else "0"},
                {"name": "limitfrom", "value": str(offset)},
                {"name": "limitnumber", "value": str(page_size)},
                {"name": "sortby", "value": "id"},
            ]})
            page = read_list("core_enrol_get_enrolled_users", answer, EnrolledUser)
            out.extend(page)
            if len(page) < page_size:
                return out
            offset += page_size

    def enrol(self, items: Sequence[Enrolment]) -> None:
        """Enrol, suspend or reactivate in one all-or-nothing call (Moodle answers null).

        Calls: enrol_manual_enrol_users.
        """
        self.client.call("enrol_manual_enrol_users", {"enrolments": [i.to_params() for i in items]},
                         items=list(items))

    # --- groups ---------------------------------------------------------------------------------

    def course_groups(self, courseid: int) -> list[Group]:
        """Calls: core_group_get_course_groups."""
        answer = self.client.call("core_group_get_course_groups", {"courseid": courseid})
        return read_list("core_group_get_course_groups", answer, Group)

    def create_groups(self, items: Sequence[NewGroup]) -> list[Group]:
        """Create groups in one all-or-nothing call.

        Calls: core_group_create_groups.
        """
        answer = self.client.call("core_group_create_groups", {"groups": [i.to_params() for i in items]},
                                  items=list(items))
        return read_list("core_group_create_groups", answer, Group)

    def group_members(self, group_ids: Iterable[int]) -> dict[int, set[int]]:
        """Calls: core_group_get_group_members."""
        ids = sorted(set(group_ids))
        if not ids:
            return {}
        answer = self.client.call("core_group_get_group_members", {"groupids": ids})
        return {m.groupid: set(m.userids) for m in read_list("core_group_get_group_members", answer, GroupMembers)}

    def add_group_members(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Add (group id, user id) pairs; only enrolled users may join (else the call fails).

        Calls: core_group_add_group_members.
        """
        self.client.call("core_group_add_group_members",
                         {"members": [{"groupid": g, "userid": u} for g, u in pairs]}, items=list(pairs))

    # --- completion and messages -------------------------------------------------------------

    def completion_status(self, courseid: int, userid: int) -> CompletionStatus:
        """One user's completion in one course (one user per call on core web services).

        Moodle 4.3 checks, in order: the user is active (``userdeleted``), the web-service user may enter
        the course (``requireloginerror``), completion is on for the site and the course and may be viewed
        (``cannotviewreport``, also the answer when completion is off), separate groups (``accessdenied``),
        the user is tracked – an active enrolment with moodle/course:isincompletionreports, so teachers are
        not – (``usernotenroled``), and the course has criteria (``nocriteriaset``). CompletionError is
        raised for ``nocriteriaset``, ``usernotenroled`` and ``cannotviewreport``.

        Calls: core_completion_get_course_completion_status.
        """
        answer = self.client.call("core_completion_get_course_completion_status",
                                  {"courseid": courseid, "userid": userid})
        return read_one("core_completion_get_course_completion_status", answer, CompletionStatus)

    # --- report builder (Moodle 4.1+) --------------------------------------------------------------

    def list_reports(self, *, per_page: int = 50) -> list[ReportDetails]:
        """Every custom report the token's user may see, page by page.

        Calls: core_reportbuilder_list_reports.
        """
        out: list[ReportDetails] = []
        page = 0
        while True:
            answer = self.client.call("core_reportbuilder_list_reports", {"page": page, "perpage": per_page})
            got = read_list("core_reportbuilder_list_reports", answer, ReportDetails)
            out += got
            if len(got) < per_page:
                return out
            page += 1

    def retrieve_report(self, reportid: int, page: int, per_page: int, *, lang: str = "en",
                        timezone: str = "Europe/Stockholm") -> RetrievedReport:
        """One page of a custom report, its values formatted in ``lang`` and ``timezone`` (sent as the request's
        moodlewssettinglang/-timezone; Moodle ignores the timezone when the site forces one).

        Calls: core_reportbuilder_retrieve_report.
        """
        answer = self.client.call("core_reportbuilder_retrieve_report",
                                  {"reportid": reportid, "page": page, "perpage": per_page},
                                  settings={"lang": lang, "timezone": timezone})
        return read_one("core_reportbuilder_retrieve_report", answer, RetrievedReport)

    def add_report_column(self, reportid: int, uniqueidentifier: str) -> ColumnSorting:
        """Add one column (e.g. ``course:idnumber``) at the end of a custom report: not idempotent (a second call
        adds a second column).

        Calls: core_reportbuilder_columns_add.
        """
        answer = self.client.call("core_reportbuilder_columns_add",
                                  {"reportid": reportid, "uniqueidentifier": uniqueidentifier})
        return read_one("core_reportbuilder_columns_add", answer, ColumnSorting)

    def sort_report_column(self, reportid: int, columnid: int, *, enabled: bool, direction: int = 4) -> ColumnSorting:
        """Turn a column's initial sorting on or off (direction 4 = ascending).

        Calls: core_reportbuilder_columns_sort_toggle.
        """
        answer = self.client.call("core_reportbuilder_columns_sort_toggle",
                                  {"reportid": reportid, "columnid": columnid, "enabled": int(enabled),
                                   "direction": direction})
        return read_one("core_reportbuilder_columns_sort_toggle", answer, ColumnSorting)

    def send_messages(self, items: Sequence[InstantMessage]) -> list[SentMessage]:
        """Send Moodle messages from the web-service user; failures per message come back as errormessage.

        Calls: core_message_send_instant_messages.
        """
        answer = self.client.call("core_message_send_instant_messages",
                                  {"messages": [i.to_params() for i in items]}, items=list(items))
        return read_list("core_message_send_instant_messages", answer, SentMessage)

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
