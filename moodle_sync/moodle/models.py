"""Typed models of what Moodle answers and of what moodle-sync writes.

Answers ignore keys they do not name (Moodle adds fields between versions) and read null as the
field's empty value: Moodle declares nearly every returned value nullable (``allownull`` in
ws-signatures-4.3.json) and a real site answers null where a fresh object would hold "" (the
installer's default category has ``"idnumber": null``). Write requests forbid unknown keys, because
Moodle rejects the whole call for one ("Unexpected keys … detected").
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.fields import FieldInfo

#: what null means for a required field without a default, by its type: the type's empty value
_EMPTY_BY_TYPE: dict[Any, Any] = {str: "", bool: False, list: [], dict: {}}


def _accepts_none(annotation: Any) -> bool:
    if annotation is None or annotation is type(None) or annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(_accepts_none(arg) for arg in typing.get_args(annotation))
    return False


def _empty_value(field: FieldInfo) -> tuple[bool, Any]:
    """(True, value) when null can stand for this field's empty value; (False, None) when it cannot."""
    if field.default_factory is not None:
        return True, field.default_factory()  # type: ignore[call-arg]
    if not field.is_required():
        return True, field.default
    base = typing.get_origin(field.annotation) or field.annotation
    if base in _EMPTY_BY_TYPE:
        return True, type(_EMPTY_BY_TYPE[base])()
    return False, None  # an id, a number Moodle must give: null there is an answer the tool cannot read


class Answer(BaseModel):
    """Base of every model read from a Moodle answer: extra keys ignored, null read as "not set"."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_not_set(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        nulls = [name for name, value in data.items() if value is None and name in cls.model_fields]
        if not nulls:
            return data
        data = dict(data)
        for name in nulls:
            field = cls.model_fields[name]
            if _accepts_none(field.annotation):
                continue
            known, empty = _empty_value(field)
            if known:
                data[name] = empty
        return data


class Request(BaseModel):
    """Base of every write request: unknown keys are a bug caught before sending."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_params(self) -> dict[str, Any]:
        """The request as Moodle parameters: unset (None) fields are omitted, never sent empty."""
        return self.model_dump(exclude_none=True)


# --- site ---------------------------------------------------------------------------------------

class FunctionInfo(Answer):
    name: str
    version: str = ""


class SiteFeature(Answer):
    """One of site info's ``advancedfeatures``: a $CFG switch such as enablecompletion or messaging."""

    name: str
    value: int = 0


class SiteInfo(Answer):
    sitename: str = ""
    siteurl: str = ""
    username: str = ""
    userid: int = 0
    release: str = ""
    version: str = ""
    userissiteadmin: bool = False
    functions: list[FunctionInfo] = []

    #: $CFG switches (webservice/externallib.php get_site_info())
    advancedfeatures: list[SiteFeature] = []

    def function_names(self) -> set[str]:
        return {f.name for f in self.functions}

    def features(self) -> dict[str, int]:
        return {f.name: f.value for f in self.advancedfeatures}


# --- categories ---------------------------------------------------------------------------------

class Category(Answer):
    id: int
    name: str
    idnumber: str = ""
    description: str = ""
    descriptionformat: int = 1
    parent: int = 0
    coursecount: int = 0
    visible: int = 1
    depth: int = 1
    path: str = ""


class NewCategory(Request):
    """Calls: core_course_create_categories (one item)."""

    name: str
    parent: int = 0
    idnumber: str
    description: str | None = None
    descriptionformat: int = 1


class CategoryUpdate(Request):
    """Calls: core_course_update_categories (one item)."""

    id: int
    name: str | None = None
    #: set only by `adopt`, which marks a category as the tool's (cat:<key>)
    idnumber: str | None = None
    parent: int | None = None
    description: str | None = None
    descriptionformat: int | None = None


class Created(Answer):
    """What create calls answer: the new id and a name (``name`` or ``shortname``)."""

    id: int
    name: str = ""
    shortname: str = ""


# --- courses ------------------------------------------------------------------------------------

class Course(Answer):
    id: int
    fullname: str
    shortname: str
    categoryid: int = 0
    idnumber: str = ""
    summary: str = ""
    summaryformat: int = 1
    format: str = "topics"
    startdate: int = 0
    enddate: int = 0
    visible: int = 1
    enablecompletion: int = 0
    lang: str = ""
    #: [{name, value}]; only returned by some functions (get_courses_by_field does)
    courseformatoptions: list[dict[str, Any]] = []

    @property
    def automaticenddate(self) -> int | None:
        """format_weeks' option that makes Moodle overwrite enddate; None when not a weeks course or not read."""
        for option in self.courseformatoptions:
            if option.get("name") == "automaticenddate":
                return int(option.get("value") or 0)
        return None


class _FormatOptions(Request):
    """Course format options travel as ``courseformatoptions[i][name|value]``, not as fields."""

    #: format_weeks: 1 (Moodle's default) makes Moodle set enddate from the sections, ignoring ours
    automaticenddate: int | None = None

    def to_params(self) -> dict[str, Any]:
        params = self.model_dump(exclude_none=True, exclude={"automaticenddate"})
        if self.automaticenddate is not None:
            params["courseformatoptions"] = [{"name": "automaticenddate", "value": str(self.automaticenddate)}]
        return params


class NewCourse(_FormatOptions):
    """Calls: core_course_create_courses (one item)."""

    fullname: str
    shortname: str
    categoryid: int
    idnumber: str
    summary: str | None = None
    summaryformat: int = 1
    format: str | None = None
    startdate: int | None = None
    enddate: int | None = None
    numsections: int | None = None
    visible: int | None = None
    enablecompletion: int | None = None
    lang: str | None = None


class CourseUpdate(_FormatOptions):
    """Calls: core_course_update_courses (one item). Only the fields that change are set."""

    id: int
    fullname: str | None = None
    shortname: str | None = None
    #: set only by `adopt`, which marks a course as the tool's (<key>@1)
    idnumber: str | None = None
    categoryid: int | None = None
    summary: str | None = None
    summaryformat: int | None = None
    format: str | None = None
    startdate: int | None = None
    enddate: int | None = None
    visible: int | None = None
    enablecompletion: int | None = None
    lang: str | None = None


class ItemWarning(Answer):
    """A warning of a partially successful call (update_courses, add_cohort_members …)."""

    item: str = ""
    itemid: int = 0
    warningcode: str = ""
    message: str = ""


class Module(Answer):
    id: int
    name: str = ""
    modname: str = ""


class Section(Answer):
    id: int
    name: str = ""
    section: int = 0
    modules: list[Module] = []


# --- cohorts ------------------------------------------------------------------------------------

class Cohort(Answer):
    id: int
    name: str
    idnumber: str = ""
    description: str = ""
    descriptionformat: int = 1
    visible: bool = True


class CategoryType(Request):
    """Where a cohort lives: ``system`` (value ignored), or a category by ``id``/``idnumber``."""

    type: str = "system"
    value: str = ""


class NewCohort(Request):
    """Calls: core_cohort_create_cohorts (one item)."""

    categorytype: CategoryType = CategoryType()
    name: str
    idnumber: str
    description: str | None = None
    descriptionformat: int = 1
    visible: int | None = None


class CohortUpdate(Request):
    """Calls: core_cohort_update_cohorts (one item). Moodle requires name, idnumber and context every time."""

    id: int
    categorytype: CategoryType = CategoryType()
    name: str
    idnumber: str
    description: str | None = None
    descriptionformat: int = 1
    visible: int | None = None


# --- users --------------------------------------------------------------------------------------

class User(Answer):
    id: int
    username: str = ""
    firstname: str = ""
    lastname: str = ""
    email: str = ""
    idnumber: str = ""
    institution: str = ""
    department: str = ""
    auth: str = ""
    suspended: bool = False


class NewUser(Request):
    """Calls: core_user_create_users (one item). Usernames must be lower-case (Moodle rejects others)."""

    username: str
    auth: str = "manual"
    createpassword: int | None = None
    password: str | None = None
    firstname: str
    lastname: str
    email: str
    idnumber: str | None = None
    institution: str | None = None
    department: str | None = None


class UserUpdate(Request):
    """Calls: core_user_update_users (one item). Only what changes is set; nothing is ever blanked."""

    id: int
    firstname: str | None = None
    lastname: str | None = None
    idnumber: str | None = None
    institution: str | None = None
    department: str | None = None
    email: str | None = None


class CohortMembers(Answer):
    cohortid: int
    userids: list[int] = []


# --- enrolments and groups ----------------------------------------------------------------------

class Enrolment(Request):
    """Calls: enrol_manual_enrol_users (one item).

    Moodle overwrites an existing enrolment: omitted ``timestart``/``timeend`` become 0 and an
    omitted ``suspend`` means active, so every call states all three.
    """

    roleid: int
    userid: int
    courseid: int
    timestart: int
    timeend: int
    suspend: int


class RoleRef(Answer):
    roleid: int
    shortname: str = ""


class EnrolledUser(Answer):
    id: int
    username: str = ""
    fullname: str = ""
    lastcourseaccess: int | None = None
    roles: list[RoleRef] = []


class Group(Answer):
    id: int
    courseid: int
    name: str
    idnumber: str = ""


class NewGroup(Request):
    """Calls: core_group_create_groups (one item)."""

    courseid: int
    name: str
    description: str = ""
    idnumber: str


class GroupMembers(Answer):
    groupid: int
    userids: list[int] = []


# --- completion and messages --------------------------------------------------------------------

class CriterionStatus(Answer):
    type: int = 0
    title: str = ""
    complete: bool = False
    timecompleted: int | None = None


class CompletionStatus(Answer):
    """One user's completion of one course. Moodle does not return the course-level completion time."""

    completed: bool
    aggregation: int = 1  # 1 = all criteria, 2 = any
    completions: list[CriterionStatus] = []


class InstantMessage(Request):
    """Calls: core_message_send_instant_messages (one item)."""

    touserid: int
    text: str
    textformat: int = 0
    clientmsgid: str | None = None


class SentMessage(Answer):
    msgid: int
    clientmsgid: str | None = None
    errormessage: str | None = None


# --- report builder (Moodle 4.1+) ------------------------------------------------------------------

class ReportDetails(Answer):
    """A custom report's record (reportbuilder/classes/external/custom_report_details_exporter.php)."""

    id: int
    name: str = ""
    source: str = ""
    type: int = 0
    sourcename: str = ""
    conditiondata: str = ""


#: one row of a report: its cells, formatted for the caller (language, timezone); null for an enrolment status without
#: an enrolment
ReportRow = list[str | None]


class ReportData(Answer):
    headers: list[str] = []
    #: each row's cells (Moodle sends ``{"columns": [...]}`` per row: a page holds tens of thousands, so they are read
    #: as plain lists, not as a model each)
    rows: list[ReportRow] = []
    totalrowcount: int = 0

    @model_validator(mode="before")
    @classmethod
    def _cells(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(rows := data.get("rows"), list):
            return data
        return {**data, "rows": [(row.get("columns") or []) if isinstance(row, dict) else row for row in rows]}


class RetrievedReport(Answer):
    """core_reportbuilder_retrieve_report: one page of a custom report."""

    details: ReportDetails
    data: ReportData = ReportData()


class SortableColumn(Answer):
    id: int
    title: str = ""
    heading: str = ""
    sortdirection: int = 4  # SORT_ASC
    sortenabled: bool = False
    sortorder: int = 0


class ColumnSorting(Answer):
    """core_reportbuilder_columns_add / _columns_sort_toggle: the report's sortable columns after the change."""

    hassortablecolumns: bool = False
    sortablecolumns: list[SortableColumn] = []
