"""The emulated site's tables, their id ranges, the fresh-install rows and derived values (sort orders).

Every table numbers its ids from its own range (below), so that an id of one kind never equals one of another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moodle_sync.emulator.model.records import (
    CONTEXT_COURSE,
    CONTEXT_COURSECAT,
    CONTEXT_SYSTEM,
    CONTEXT_USER,
    Category,
    Cohort,
    CohortMember,
    CompletionCriterion,
    Context,
    Course,
    CourseCompletion,
    CourseField,
    CourseModule,
    CriterionCompletion,
    EnrolInstance,
    Group,
    GroupMember,
    LastAccess,
    Message,
    ModuleCompletion,
    Role,
    RoleAssignment,
    Section,
    User,
    UserEnrolment,
)
from moodle_sync.emulator.model.reportbuilder import Report, ReportColumn, ReportCondition
from moodle_sync.emulator.model.tables import Journal, Table
from moodle_sync.emulator.paramtypes import Environment
from moodle_sync.emulator.versions import DEFAULT_MOODLE, MoodleVersion, moodle_version

# Id layout, like a lived-in site. The contract scorer maps numbers inside messages back to names across
# all kinds ("record already exists: cohort(id=6 id=210)"), so kinds must not share values:
#   categories 100+ (the install's "Category 1" is 1)   courses 1000+ (site course 1)   cohorts 5000+
#   groups 7000+   users 10000+ (guest 1, admin 2)   sections 200000+   course modules 300000+
#   activity instances 400000+   contexts 500000+ (install: 1-5)   enrol instances 600000+
#   custom reports 800000+   report columns 810000+   report conditions 820000+
SITEID = 1
SYSCONTEXTID = 1
GUEST_ID = 1
ADMIN_ID = 2
MAX_COURSES_IN_CATEGORY = 10000  # lib/datalib.php: category sortorder steps

# a stock install's roles (lib/db/install.php, get_default_contextlevels())
STOCK_ROLES = (
    Role(1, "manager", "", 1, "manager", (CONTEXT_SYSTEM, CONTEXT_COURSECAT, CONTEXT_COURSE)),
    Role(2, "coursecreator", "", 2, "coursecreator", (CONTEXT_SYSTEM, CONTEXT_COURSECAT)),
    Role(3, "editingteacher", "", 3, "editingteacher", (CONTEXT_COURSE, 70)),
    Role(4, "teacher", "", 4, "teacher", (CONTEXT_COURSE, 70)),
    Role(5, "student", "", 5, "student", (CONTEXT_COURSE, 70)),
    Role(6, "guest", "", 6, "guest", ()),
    Role(7, "user", "", 7, "user", ()),
    Role(8, "frontpage", "", 8, "frontpage", ()),
)


@dataclass
class SiteConfig:
    sitename: str = "Kompetensportal (emulator)"
    shortname: str = "Kompetensportal"
    moodle: MoodleVersion = field(default_factory=lambda: moodle_version(DEFAULT_MOODLE))  # what it imitates
    release: str = ""  # core_webservice_get_site_info's release and version; "": the imitated version's
    version: str = ""
    theme: str = "boost"
    themerev: int = 1795389189
    lang: str = "en"
    timezone: str = "UTC"  # $CFG->timezone: users with timezone "99" see dates in it (the recorded site's)
    forcetimezone: str = "99"  # $CFG->forcetimezone: "99" lets each user (and moodlewssettingtimezone) choose
    # English's strftimedaydatetime (lang/en/langconfig.php), as an admin may customise it (admin/tool/customlang)
    strftimedaydatetime: str = "%A, %d %B %Y, %I:%M %p"
    env: Environment = field(default_factory=Environment)
    coursecontact: tuple[int, ...] = (3,)  # $CFG->coursecontact: editing teachers are course contacts
    # password policy defaults (admin/settings/security.php)
    minpasswordlength: int = 8
    minpassworddigits: int = 1
    minpasswordlower: int = 1
    minpasswordupper: int = 1
    minpasswordnonalphanum: int = 1
    allowaccountssameemail: bool = False
    # $CFG->enablecompletion and $CFG->messaging (admin/settings/subsystems.php): both on in a new 4.3 site
    enablecompletion: int = 1
    messaging: int = 1
    # $CFG->allowcategorythemes (admin/settings/appearance.php): off, a category theme sent is not stored
    allowcategorythemes: int = 0
    # a new course's format options (format_topics: hiddensections/coursedisplay are PARAM_INT, indentation raw)
    topics_defaults: dict[str, Any] = field(default_factory=lambda: {"hiddensections": 1, "coursedisplay": 0,
                                                                     "indentation": "1"})

    def __post_init__(self) -> None:
        self.release = self.release or self.moodle.release
        self.version = self.version or self.moodle.version


class State:
    """All tables of one emulated site."""

    def __init__(self, now: int, moodle: MoodleVersion | None = None) -> None:
        self.config = SiteConfig(moodle=moodle or moodle_version(DEFAULT_MOODLE))
        self.journal = j = Journal()
        self.contexts: Table[Context] = Table("context", j, first_id=500000,
                                              indexes={"level_instance": lambda r: (r.contextlevel, r.instanceid)})
        self.categories: Table[Category] = Table("course_categories", j, first_id=100, indexes={
            "parent": lambda r: r.parent, "idnumber": lambda r: r.idnumber or None})
        self.courses: Table[Course] = Table("course", j, first_id=1000, indexes={
            "category": lambda r: r.category, "shortname": lambda r: r.shortname,
            "idnumber": lambda r: r.idnumber or None})
        self.sections: Table[Section] = Table("course_sections", j, first_id=200000, indexes={
            "course": lambda r: r.course, "course_section": lambda r: (r.course, r.section)})
        self.modules: Table[CourseModule] = Table("course_modules", j, first_id=300000, indexes={
            "course": lambda r: r.course})
        self.enrol: Table[EnrolInstance] = Table("enrol", j, first_id=600000,
                                                 indexes={"courseid": lambda r: r.courseid})
        self.user_enrolments: Table[UserEnrolment] = Table("user_enrolments", j, indexes={
            "enrolid": lambda r: r.enrolid, "userid": lambda r: r.userid,
            "enrol_user": lambda r: (r.enrolid, r.userid)})
        self.role_assignments: Table[RoleAssignment] = Table("role_assignments", j, indexes={
            "context_user": lambda r: (r.contextid, r.userid), "contextid": lambda r: r.contextid,
            "context_role": lambda r: (r.contextid, r.roleid),
            "userid": lambda r: r.userid})
        self.roles: Table[Role] = Table("role", j)
        self.cohorts: Table[Cohort] = Table("cohort", j, first_id=5000, indexes={
            "idnumber": lambda r: r.idnumber, "contextid": lambda r: r.contextid})  # NULL never matches
        self.cohort_members: Table[CohortMember] = Table("cohort_members", j, indexes={
            "cohortid": lambda r: r.cohortid, "userid": lambda r: r.userid,
            "cohort_user": lambda r: (r.cohortid, r.userid)})
        self.users: Table[User] = Table("user", j, first_id=10000, indexes={
            "username": lambda r: r.username, "email": lambda r: r.email.lower() or None,
            "idnumber": lambda r: r.idnumber or None})
        self.groups: Table[Group] = Table("groups", j, first_id=7000, indexes={
            "courseid": lambda r: r.courseid})
        self.group_members: Table[GroupMember] = Table("groups_members", j, indexes={
            "groupid": lambda r: r.groupid, "userid": lambda r: r.userid,
            "group_user": lambda r: (r.groupid, r.userid)})
        self.criteria: Table[CompletionCriterion] = Table("course_completion_criteria", j, indexes={
            "course": lambda r: r.course})
        self.criteria_completions: Table[CriterionCompletion] = Table("course_completion_crit_compl", j, indexes={
            "user_criterion": lambda r: (r.userid, r.criteriaid), "criteriaid": lambda r: r.criteriaid,
            "course": lambda r: r.course})
        self.course_completions: Table[CourseCompletion] = Table("course_completions", j, indexes={
            "user_course": lambda r: (r.userid, r.course), "course": lambda r: r.course})
        self.module_completions: Table[ModuleCompletion] = Table("course_modules_completion", j, indexes={
            "cm_user": lambda r: (r.coursemoduleid, r.userid), "coursemoduleid": lambda r: r.coursemoduleid})
        self.lastaccess: Table[LastAccess] = Table("user_lastaccess", j, indexes={
            "user_course": lambda r: (r.userid, r.courseid), "courseid": lambda r: r.courseid})
        self.messages: Table[Message] = Table("messages", j, indexes={"conversationid": lambda r: r.conversationid})
        self.conversations: dict[tuple[int, int], int] = {}
        self.course_fields: Table[CourseField] = Table("customfield_field", j, indexes={
            "shortname": lambda r: r.shortname})
        self.reports: Table[Report] = Table("reportbuilder_report", j, first_id=800000)
        self.report_columns: Table[ReportColumn] = Table("reportbuilder_column", j, first_id=810000, indexes={
            "reportid": lambda r: r.reportid})
        self.report_conditions: Table[ReportCondition] = Table("reportbuilder_filter", j, first_id=820000, indexes={
            "reportid": lambda r: r.reportid})
        self.next_instance = 400000  # one sequence for all activity tables (forum, page, quiz …)
        self.next_sortkey = 0
        self._sortorder_cache: tuple[tuple[int, int], dict[int, int], dict[int, int]] | None = None
        self._install(now)

    # --- fresh install ---------------------------------------------------------------------------
    def _install(self, now: int) -> None:
        for role in STOCK_ROLES:
            self.roles.insert(role)
        self.contexts.insert(Context(SYSCONTEXTID, CONTEXT_SYSTEM, 0))
        self.contexts.insert(Context(2, CONTEXT_COURSE, SITEID))
        self.contexts.insert(Context(3, CONTEXT_COURSECAT, 1))
        self.contexts.insert(Context(4, CONTEXT_USER, GUEST_ID))
        self.contexts.insert(Context(5, CONTEXT_USER, ADMIN_ID))
        # xmldb_main_install(): the default category is inserted with name, descriptionformat HTML, depth,
        # sortorder and timemodified only, so idnumber, description and theme are NULL
        self.categories.insert(Category(1, "Category 1", None, None, 1, 0, 1, 1, 1, now, 1, "/1", None, 3))
        self.courses.insert(Course(
            id=SITEID, category=0, sortkey=0, fullname=self.config.sitename, shortname=self.config.shortname,
            idnumber="", summary=None, summaryformat=0, format="site", showgrades=1, newsitems=3, startdate=0,
            enddate=0, marker=0, maxbytes=0, legacyfiles=0, showreports=0, visible=1, visibleold=1, groupmode=0,
            groupmodeforce=0, defaultgroupingid=0, lang="", calendartype="", theme="", timecreated=now,
            timemodified=now, requested=0, enablecompletion=0, completionnotify=0, cacherev=now,
            showactivitydates=0, showcompletionconditions=None, pdfexportfont=None, contextid=2))
        self.sections.insert(Section(self.sections.new_id(), SITEID, 0, None, "", 1, 1))
        self.sections.insert(Section(self.sections.new_id(), SITEID, 1, None, "", 1, 1))
        base = dict(confirmed=1, deleted=0, suspended=0, password="", idnumber="", maildisplay=2, mailformat=1,
                    phone1="", phone2="", institution="", department="", address="", city="", country="",
                    lang="en", calendartype="gregorian", theme="", timezone="99", firstaccess=0, lastaccess=0,
                    description=None, descriptionformat=1, timecreated=now, timemodified=now, middlename="",
                    alternatename="", firstnamephonetic="", lastnamephonetic="")
        # the guest's description is lang/en/moodle.php guestuserinfo; the admin has none (NULL) and maildisplay 1
        self.users.insert(User(GUEST_ID, "manual", username="guest", firstname="Guest user", lastname=" ",
                               email="root@localhost", contextid=4, **{  # type: ignore[arg-type]
                                   **base, "description": "This user is a special user that allows read-only "
                                                          "access to some courses."}))
        # the recorded site's admin (contract-reportbuilder-4.3.json: a report's "modifiedby")
        self.users.insert(User(ADMIN_ID, "manual", username="admin", firstname="Admin", lastname="User",
                               email="admin@example.se", contextid=5,
                               **{**base, "maildisplay": 1}))  # type: ignore[arg-type]

    # --- ids -------------------------------------------------------------------------------------
    def new_instance_id(self) -> int:
        self.next_instance += 1
        return self.next_instance - 1

    def new_context(self, level: int, instanceid: int) -> int:
        ctx = self.contexts.insert(Context(self.contexts.new_id(), level, instanceid))
        return ctx.id

    def context_of(self, level: int, instanceid: int) -> Context | None:
        return self.contexts.first_by("level_instance", (level, instanceid))

    def first_sortkey(self) -> int:
        """A key that sorts before every course (create_course: 'place at beginning of any category')."""
        self.next_sortkey += 1
        return -self.next_sortkey

    def last_sortkey(self) -> int:
        self.next_sortkey += 1
        return self.next_sortkey

    # --- derived values --------------------------------------------------------------------------
    def _sortorders(self) -> tuple[dict[int, int], dict[int, int]]:
        """fix_course_sortorder(): categories numbered depth-first in steps of 10000, courses after them."""
        key = (self.categories.version, self.courses.version)
        if self._sortorder_cache is not None and self._sortorder_cache[0] == key:
            return self._sortorder_cache[1], self._sortorder_cache[2]
        cats: dict[int, int] = {}

        def walk(parent: int) -> None:
            for cat in sorted(self.categories.by("parent", parent), key=lambda c: (c.sortkey, c.id)):
                cats[cat.id] = (len(cats) + 1) * MAX_COURSES_IN_CATEGORY
                walk(cat.id)

        walk(0)
        courses: dict[int, int] = {SITEID: 0}
        for catid, base in cats.items():
            for rank, course in enumerate(sorted(self.courses.by("category", catid), key=lambda c: (c.sortkey, c.id))):
                courses[course.id] = base + rank + 1
        self._sortorder_cache = (key, cats, courses)
        return cats, courses

    def category_sortorder(self, catid: int) -> int:
        return self._sortorders()[0].get(catid, 0)

    def course_sortorder(self, courseid: int) -> int:
        return self._sortorders()[1].get(courseid, 0)

    def is_siteadmin(self, userid: int) -> bool:
        return userid == ADMIN_ID

    def user_fullname(self, user: User) -> str:
        # $CFG->fullnamedisplay = 'language': "firstname lastname" in English
        return f"{user.firstname} {user.lastname}"

    # --- snapshots -------------------------------------------------------------------------------
    def tables(self) -> dict[str, Table[Any]]:
        return {t.name: t for t in vars(self).values() if isinstance(t, Table)}

    def snapshot(self) -> dict[str, Any]:
        """Every table as plain data (lists of dicts by id), plus derived sort orders."""
        out: dict[str, Any] = {name: table.dump() for name, table in self.tables().items()}
        cats, courses = self._sortorders()
        out["derived_sortorder"] = {"categories": dict(cats), "courses": dict(courses)}
        return out
