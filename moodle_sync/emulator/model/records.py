"""Row types of the emulated site's tables, named after Moodle's own tables (course, cohort_members, …).

Rows are frozen: every change goes through Table.update so indexes and the undo journal stay right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# context levels (lib/accesslib.php)
CONTEXT_SYSTEM = 10
CONTEXT_USER = 30
CONTEXT_COURSECAT = 40
CONTEXT_COURSE = 50
CONTEXT_MODULE = 70


@dataclass(frozen=True, slots=True)
class Context:
    id: int
    contextlevel: int
    instanceid: int


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    name: str
    idnumber: str | None  # NULL for the installer's "Category 1" and for categories created without one
    description: str | None
    descriptionformat: int
    parent: int
    sortkey: int  # order among siblings; course_categories.sortorder is derived from it (fix_course_sortorder)
    visible: int
    visibleold: int
    timemodified: int
    depth: int
    path: str
    theme: str | None
    contextid: int


@dataclass(frozen=True, slots=True)
class Course:
    id: int
    category: int
    sortkey: int  # order inside the category; course.sortorder is derived from it
    fullname: str
    shortname: str
    idnumber: str
    summary: str | None  # NULL on the site course (lib/db/install.php)
    summaryformat: int
    format: str
    showgrades: int
    newsitems: int
    startdate: int
    enddate: int
    marker: int
    maxbytes: int
    legacyfiles: int
    showreports: int
    visible: int
    visibleold: int
    groupmode: int
    groupmodeforce: int
    defaultgroupingid: int
    lang: str
    calendartype: str
    theme: str
    timecreated: int
    timemodified: int
    requested: int
    enablecompletion: int
    completionnotify: int
    cacherev: int
    showactivitydates: int
    showcompletionconditions: int | None  # NULL on the site course: the installer leaves it unset
    pdfexportfont: str | None
    contextid: int
    formatoptions: dict[str, Any] = field(default_factory=dict)
    customfields: dict[str, str] = field(default_factory=dict)
    completionaggregation: int = 1  # course_completion_aggr_methd: 1 all, 2 any


@dataclass(frozen=True, slots=True)
class Section:
    id: int
    course: int
    section: int
    name: str | None
    summary: str
    summaryformat: int
    visible: int
    sequence: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CourseModule:
    id: int
    course: int
    modname: str
    instance: int
    section: int  # course_sections.id
    idnumber: str
    name: str
    intro: str
    visible: int
    visibleoncoursepage: int
    completion: int  # 0 none, 1 manual, 2 automatic
    completionview: int
    completionexpected: int
    completionpassgrade: int
    completiongradeitemnumber: int | None
    groupmode: int
    indent: int
    added: int
    contextid: int


@dataclass(frozen=True, slots=True)
class EnrolInstance:
    id: int
    enrol: str
    courseid: int
    status: int  # 0 enabled, 1 disabled
    roleid: int
    sortorder: int
    name: str | None = None
    password: str = ""
    customint1: int | None = None


@dataclass(frozen=True, slots=True)
class UserEnrolment:
    id: int
    enrolid: int
    userid: int
    status: int  # 0 active, 1 suspended
    timestart: int
    timeend: int
    timecreated: int
    timemodified: int
    modifierid: int


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    id: int
    roleid: int
    contextid: int
    userid: int
    component: str
    itemid: int
    timemodified: int
    modifierid: int


@dataclass(frozen=True, slots=True)
class Role:
    id: int
    shortname: str
    name: str
    sortorder: int
    archetype: str
    contextlevels: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Cohort:
    id: int
    contextid: int
    name: str
    idnumber: str | None  # cohort_add_cohort(): NULL when none is given (the UI, CSV uploads)
    description: str
    descriptionformat: int
    visible: int
    component: str
    timecreated: int
    timemodified: int
    theme: str


@dataclass(frozen=True, slots=True)
class CohortMember:
    id: int
    cohortid: int
    userid: int
    timeadded: int


@dataclass(frozen=True, slots=True)
class User:
    id: int
    auth: str
    confirmed: int
    deleted: int
    suspended: int
    username: str
    password: str
    idnumber: str
    firstname: str
    lastname: str
    email: str
    maildisplay: int
    mailformat: int
    phone1: str
    phone2: str
    institution: str
    department: str
    address: str
    city: str
    country: str
    lang: str
    calendartype: str
    theme: str
    timezone: str
    firstaccess: int
    lastaccess: int
    description: str | None
    descriptionformat: int
    timecreated: int
    timemodified: int
    middlename: str
    alternatename: str
    firstnamephonetic: str
    lastnamephonetic: str
    contextid: int
    interests: str = ""
    customfields: dict[str, str] = field(default_factory=dict)
    preferences: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    courseid: int
    idnumber: str
    name: str
    description: str
    descriptionformat: int
    enrolmentkey: str | None
    visibility: int
    participation: int
    timecreated: int
    timemodified: int


@dataclass(frozen=True, slots=True)
class GroupMember:
    id: int
    groupid: int
    userid: int
    timeadded: int


@dataclass(frozen=True, slots=True)
class CompletionCriterion:
    """course_completion_criteria: type 1 self, 4 activity (moduleinstance = course_modules.id)."""

    id: int
    course: int
    criteriatype: int
    module: str | None = None
    moduleinstance: int | None = None


@dataclass(frozen=True, slots=True)
class CriterionCompletion:
    id: int
    userid: int
    course: int
    criteriaid: int
    timecompleted: int | None


@dataclass(frozen=True, slots=True)
class CourseCompletion:
    id: int
    userid: int
    course: int
    timeenrolled: int
    timestarted: int
    timecompleted: int | None
    reaggregate: int = 0


@dataclass(frozen=True, slots=True)
class ModuleCompletion:
    id: int
    coursemoduleid: int
    userid: int
    completionstate: int  # 0 incomplete, 1 complete, 2 pass, 3 fail
    viewed: int
    overrideby: int | None
    timemodified: int


@dataclass(frozen=True, slots=True)
class LastAccess:
    id: int
    userid: int
    courseid: int
    timeaccess: int


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    useridfrom: int
    useridto: int
    conversationid: int
    text: str
    textformat: int
    timecreated: int
    clientmsgid: str | None = None


@dataclass(frozen=True, slots=True)
class CourseField:
    """A course custom field definition (customfield_field, area course)."""

    id: int
    shortname: str
    name: str
    type: str  # text, textarea, checkbox, date, select
    options: tuple[str, ...] = ()
    visibility: int = 2  # 0 nobody, 1 teachers, 2 everyone
    defaultvalue: str = ""
