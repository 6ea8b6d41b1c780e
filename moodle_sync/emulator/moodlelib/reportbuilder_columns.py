"""The "Course participants" report source's columns: what each shows, for whom, and at which join depth.

core_course\\reportbuilder\\datasource\\participants (course/classes/reportbuilder/datasource/participants.php)
joins course → LEFT JOIN enrol → LEFT JOIN user_enrolments → LEFT JOIN user (deleted = 0) → LEFT JOIN
course_completions. A report only joins what its columns and conditions need, so a report of course columns
has one row per course, one with an enrolment method column one per course × method, and one with any
enrolment, user or completion column one per course × method × user enrolment (a method without enrolments
still gives one row, with empty user columns). Titles are Moodle 4.3's English strings (lang/en/moodle.php,
enrol.php, completion.php, admin.php; enrol/*/lang/en). Formatting follows the entities
(reportbuilder/classes/local/entities/{course,user}.php, course/classes/reportbuilder/local/entities/
{enrolment,completion}.php, enrol/classes/reportbuilder/local/entities/enrol.php) and
reportbuilder/classes/local/helpers/format.php: dates by userdate() ('' for 0 or null), booleans 'Yes'/'No'
('' for null), text through s() ('' for null); an enrolment status is null when there is no enrolment.

Only these entities are emulated: course, enrol, enrolment, user, completion (not course category, role,
group, course access, custom fields or the deprecated columns); of the user's full-name columns, the plain one
and the one linked to the profile (``user:fullnamewithlink``, whose link carries the user's id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from moodle_sync.emulator.model.records import Course, CourseCompletion, EnrolInstance, User, UserEnrolment
from moodle_sync.emulator.model.state import State
from moodle_sync.emulator.moodlelib.userdate import s, userdate
from moodle_sync.emulator.paramtypes import strip_tags

PARTICIPANTS = "core_course\\reportbuilder\\datasource\\participants"
PARTICIPANTS_NAME = "Course participants"  # lang/en/course.php courseparticipants

# join depth a column needs
COURSE = 0
ENROL = 1
USER_ENROLMENT = 2

# core_user\output\status_field (user/classes/output/status_field.php) and their lang/en/enrol.php names
STATUS_ACTIVE = 0
STATUS_SUSPENDED = 1
STATUS_NOT_CURRENT = 2
STATUS_NAMES = {STATUS_ACTIVE: "Active", STATUS_SUSPENDED: "Suspended", STATUS_NOT_CURRENT: "Not current"}

# enrol/<plugin>/lang/en/enrol_<plugin>.php pluginname
PLUGIN_NAMES = {"manual": "Manual enrolments", "guest": "Guest access", "self": "Self enrolment",
                "cohort": "Cohort sync", "meta": "Course meta link"}
# role_get_name() of the stock roles (no custom names): lang/en/role.php archetype names
ROLE_NAMES = {1: "Manager", 2: "Course creator", 3: "Teacher", 4: "Non-editing teacher", 5: "Student",
              6: "Guest", 7: "Authenticated user", 8: "Authenticated user on site home"}


@dataclass(frozen=True)
class Joined:
    """One row of the joined tables; None where a LEFT JOIN found nothing (user None also for a deleted user)."""

    course: Course
    enrol: EnrolInstance | None = None
    ue: UserEnrolment | None = None
    user: User | None = None
    completion: CourseCompletion | None = None


@dataclass(frozen=True)
class Viewer:
    """Whoever retrieves the report: values are formatted for them (timezone) at this time."""

    state: State
    now: int
    tz: ZoneInfo
    site_url: str = ""


Field = Callable[[Joined, Viewer], Any]
Show = Callable[[Any, Joined, Viewer], str | None]


@dataclass(frozen=True)
class ColumnDef:
    uniqueidentifier: str
    title: str
    depth: int
    field: Field  # the value the database selects (None for NULL); sorting uses it
    show: Show  # the formatted value retrieve_report answers
    text: bool = False  # a plain text field: usable in a text condition


def _text(value: Any, row: Joined, viewer: Viewer) -> str:
    return s(value)


def _date(value: Any, row: Joined, viewer: Viewer) -> str:
    return userdate(int(value), viewer.tz, viewer.state.config.strftimedaydatetime) if value else ""


def _yes_no(value: Any, row: Joined, viewer: Viewer) -> str:
    if value is None:
        return ""
    return "Yes" if value else "No"


def _course_columns() -> list[ColumnDef]:
    def field(name: str) -> Field:
        return lambda row, viewer: getattr(row.course, name)

    def name_text(value: Any, row: Joined, viewer: Viewer) -> str:
        return strip_tags(str(value))  # format_string(…, ['escape' => false])

    return [
        ColumnDef("course:fullname", "Course full name", COURSE, field("fullname"), name_text, True),
        ColumnDef("course:shortname", "Course short name", COURSE, field("shortname"), name_text, True),
        ColumnDef("course:idnumber", "Course ID number", COURSE, field("idnumber"), _text, True),
        ColumnDef("course:startdate", "Course start date", COURSE, field("startdate"), _date),
        ColumnDef("course:enddate", "Course end date", COURSE, field("enddate"), _date),
        ColumnDef("course:visible", "Course visibility", COURSE, field("visible"), _yes_no),
        ColumnDef("course:enablecompletion", "Enable completion tracking", COURSE, field("enablecompletion"), _yes_no),
    ]


def instance_name(instance: EnrolInstance | None) -> str:
    """enrol_plugin::get_instance_name(); self enrolment names its role when the instance has no name."""
    if instance is None or instance.enrol not in PLUGIN_NAMES:
        return ""
    if instance.name:
        return strip_tags(instance.name)
    role = f" ({ROLE_NAMES[instance.roleid]})" if instance.enrol == "self" and instance.roleid in ROLE_NAMES else ""
    return PLUGIN_NAMES[instance.enrol] + role


def _enrol_columns() -> list[ColumnDef]:
    def code(row: Joined, viewer: Viewer) -> str | None:
        return row.enrol.enrol if row.enrol else None

    def enabled(row: Joined, viewer: Viewer) -> int | None:
        return row.enrol.status ^ 1 if row.enrol else None

    return [
        ColumnDef("enrol:plugin", "Plugin", ENROL, code, lambda v, row, viewer: PLUGIN_NAMES.get(v or "", "")),
        ColumnDef("enrol:name", "Name", ENROL, code, lambda v, row, viewer: instance_name(row.enrol)),
        ColumnDef("enrol:enabled", "Enabled", ENROL, enabled, _yes_no),
    ]


def enrolment_status(row: Joined, now: int) -> int | None:
    """The enrolment entity's status field: active, or not current outside its dates or in a disabled
    method; a suspended enrolment shows its own status; null without an enrolment."""
    ue, enrol = row.ue, row.enrol
    if ue is None or enrol is None:
        return None
    if ue.status != 0:
        return ue.status
    if ue.timestart > now or 0 < ue.timeend < now or enrol.status == 1:
        return STATUS_NOT_CURRENT
    return STATUS_ACTIVE


def _enrolment_columns() -> list[ColumnDef]:
    def started(row: Joined, viewer: Viewer) -> int | None:
        # "Time started" is the enrolment's creation time when no start was set
        return None if row.ue is None else (row.ue.timestart or row.ue.timecreated)

    return [
        ColumnDef("enrolment:timecreated", "Time created", USER_ENROLMENT,
                  lambda row, viewer: row.ue.timecreated if row.ue else None, _date),
        ColumnDef("enrolment:timestarted", "Time started", USER_ENROLMENT, started, _date),
        ColumnDef("enrolment:timeended", "Time ended", USER_ENROLMENT,
                  lambda row, viewer: row.ue.timeend if row.ue else None, _date),
        ColumnDef("enrolment:status", "Status", USER_ENROLMENT, lambda row, viewer: enrolment_status(row, viewer.now),
                  lambda v, row, viewer: None if v is None else STATUS_NAMES.get(v)),
    ]


# user fields, their titles and kinds (reportbuilder/classes/local/entities/user.php get_user_fields())
_USER_TEXT = (("firstname", "First name"), ("lastname", "Last name"), ("email", "Email address"),
              ("city", "City/town"), ("firstnamephonetic", "First name - phonetic"),
              ("lastnamephonetic", "Last name - phonetic"), ("middlename", "Middle name"),
              ("alternatename", "Alternate name"), ("idnumber", "ID number"), ("institution", "Institution"),
              ("department", "Department"), ("phone1", "Phone"), ("phone2", "Mobile phone"), ("address", "Address"),
              ("username", "Username"))
_USER_OTHER = (("lastaccess", "Last access", _date), ("suspended", "Suspended", _yes_no),
               ("confirmed", "Confirmed", _yes_no), ("timecreated", "Time created", _date))


def _user_columns() -> list[ColumnDef]:
    def field(name: str) -> Field:
        return lambda row, viewer: getattr(row.user, name) if row.user else None

    def fullname(value: Any, row: Joined, viewer: Viewer) -> str:
        return viewer.state.user_fullname(row.user) if row.user else ""

    def fullname_with_link(value: Any, row: Joined, viewer: Viewer) -> str:
        # html_writer::link(new moodle_url('/user/profile.php', ['id' => $row->id]), fullname($row))
        if row.user is None:
            return ""
        return f'<a href="{viewer.site_url}/user/profile.php?id={row.user.id}">{fullname(value, row, viewer)}</a>'

    depth = USER_ENROLMENT
    columns = [ColumnDef("user:fullname", "Full name", depth, field("firstname"), fullname),
               # lang/en/reportbuilder.php userfullnamewithlink
               ColumnDef("user:fullnamewithlink", "Full name with link", depth, field("firstname"), fullname_with_link)]
    columns += [ColumnDef(f"user:{name}", title, depth, field(name), _text, True) for name, title in _USER_TEXT]
    columns += [ColumnDef(f"user:{name}", title, depth, field(name), show) for name, title, show in _USER_OTHER]
    return columns


def _completion_columns() -> list[ColumnDef]:
    def completed(row: Joined, viewer: Viewer) -> int:
        return 1 if row.completion is not None and (row.completion.timecompleted or 0) > 0 else 0

    def shown_for_user(value: Any, row: Joined, viewer: Viewer) -> str:
        # 4.5 shows nothing for not completed (MoodleVersion.not_completed_text)
        return "" if row.user is None else ("Yes" if value else viewer.state.config.moodle.not_completed_text)

    def field(name: str) -> Field:
        return lambda row, viewer: getattr(row.completion, name) if row.completion else None

    return [
        ColumnDef("completion:completed", "Completed", USER_ENROLMENT, completed, shown_for_user),
        ColumnDef("completion:timeenrolled", "Time enrolled", USER_ENROLMENT, field("timeenrolled"), _date),
        ColumnDef("completion:timestarted", "Time started", USER_ENROLMENT, field("timestarted"), _date),
        ColumnDef("completion:timecompleted", "Time completed", USER_ENROLMENT, field("timecompleted"), _date),
        ColumnDef("completion:reaggregate", "Time reaggregated", USER_ENROLMENT, field("reaggregate"), _date),
    ]


COLUMNS: dict[str, ColumnDef] = {c.uniqueidentifier: c for c in (
    _course_columns() + _enrol_columns() + _enrolment_columns() + _user_columns() + _completion_columns())}
