"""Reading Moodle's answers into typed models, with one clear error for anything unreadable.

``SHAPES`` says, for each function the tool reads an answer of, where in the answer its model sits
(``"[]"`` a list at the top, ``"courses[]"`` a list under a key, ``"completionstatus"`` an object
under a key, ``""`` the answer itself). A test walks this table against Moodle 4.3's declared
signatures, so a null Moodle may send is never a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from moodle_sync.errors import UnreadableAnswer, WriteOutcomeUnknown, redact
from moodle_sync.moodle.models import (
    Answer,
    Category,
    Cohort,
    CohortMembers,
    ColumnSorting,
    CompletionStatus,
    Course,
    Created,
    EnrolledUser,
    Group,
    GroupMembers,
    ItemWarning,
    ReportDetails,
    RetrievedReport,
    Section,
    SentMessage,
    SiteInfo,
    User,
)
from moodle_sync.moodle.write_kinds import is_write

__all__ = ["SHAPES", "Shape", "read_list", "read_one"]

A = TypeVar("A", bound=Answer)


@dataclass(frozen=True)
class Shape:
    """Where a model sits in one function's answer: ``key`` (or "" for the top), and whether a list."""

    model: type[Answer]
    key: str = ""
    many: bool = True

    @property
    def path(self) -> str:
        return f"{self.key}{'[]' if self.many else ''}"


#: every answer the tool reads, by function (the test in tests/meta checks each against the signatures)
SHAPES: dict[str, Shape] = {
    "core_webservice_get_site_info": Shape(SiteInfo, many=False),
    "core_course_get_categories": Shape(Category),
    "core_course_create_categories": Shape(Created),
    "core_course_get_courses_by_field": Shape(Course, "courses"),
    "core_course_create_courses": Shape(Created),
    "core_course_update_courses": Shape(ItemWarning, "warnings"),
    "core_course_get_contents": Shape(Section),
    "core_cohort_search_cohorts": Shape(Cohort, "cohorts"),
    "core_cohort_get_cohorts": Shape(Cohort),
    "core_cohort_create_cohorts": Shape(Created),
    "core_cohort_get_cohort_members": Shape(CohortMembers),
    "core_cohort_add_cohort_members": Shape(ItemWarning, "warnings"),
    "core_user_get_users_by_field": Shape(User),
    "core_user_get_users": Shape(User, "users"),
    "core_user_create_users": Shape(Created),
    "core_user_update_users": Shape(ItemWarning, "warnings"),
    "core_enrol_get_enrolled_users": Shape(EnrolledUser),
    "core_group_get_course_groups": Shape(Group),
    "core_group_create_groups": Shape(Group),
    "core_group_get_group_members": Shape(GroupMembers),
    "core_completion_get_course_completion_status": Shape(CompletionStatus, "completionstatus", many=False),
    "core_message_send_instant_messages": Shape(SentMessage),
    "core_reportbuilder_list_reports": Shape(ReportDetails, "reports"),
    "core_reportbuilder_retrieve_report": Shape(RetrievedReport, many=False),
    "core_reportbuilder_columns_add": Shape(ColumnSorting, many=False),
    "core_reportbuilder_columns_delete": Shape(ColumnSorting, many=False),
    "core_reportbuilder_columns_sort_toggle": Shape(ColumnSorting, many=False),
}


def read_list(wsfunction: str, answer: Any, model: type[A]) -> list[A]:
    """The list of ``model`` in ``wsfunction``'s answer (``null`` or a missing list: empty).

    Raises:
        UnreadableAnswer: the answer is not of the declared shape, or an item cannot be read.
        WriteOutcomeUnknown: the call was a write (it changed Moodle) and its answer cannot be read:
            what it did is unknown, so the caller re-reads Moodle instead of trusting it.
    """
    write = is_write(wsfunction)
    shape = _shape(wsfunction, model, many=True)
    items = _under_key(wsfunction, answer, shape, default=[])
    if not isinstance(items, list):
        raise _unreadable(wsfunction, shape.path or "(the answer)", items, "a list", write=write)
    out: list[A] = []
    for index, item in enumerate(items):
        out.append(_validate(wsfunction, model, item, f"{shape.key}[{index}]", write=write))
    return out


def read_one(wsfunction: str, answer: Any, model: type[A]) -> A:
    """The one ``model`` in ``wsfunction``'s answer.

    Raises:
        UnreadableAnswer: the answer is not of the declared shape, or it cannot be read.
        WriteOutcomeUnknown: the call was a write and its answer cannot be read.
    """
    shape = _shape(wsfunction, model, many=False)
    item = _under_key(wsfunction, answer, shape, default={})
    return _validate(wsfunction, model, item, shape.key, write=is_write(wsfunction))


# --- helpers ----------------------------------------------------------------------------------------

def _shape(wsfunction: str, model: type[Answer], *, many: bool) -> Shape:
    shape = SHAPES.get(wsfunction)
    if shape is None or shape.model is not model or shape.many != many:
        raise TypeError(f"SHAPES has no {'list' if many else 'object'} of {model.__name__} for {wsfunction}")
    return shape


def _under_key(wsfunction: str, answer: Any, shape: Shape, *, default: Any) -> Any:
    if answer is None:
        return default
    if not shape.key:
        return answer
    if not isinstance(answer, dict):
        raise _unreadable(wsfunction, "(the answer)", answer, f"an object with '{shape.key}'",
                          write=is_write(wsfunction))
    value = answer.get(shape.key)
    return default if value is None else value


def _validate(wsfunction: str, model: type[A], item: Any, where: str, *, write: bool) -> A:
    try:
        return model.model_validate(item)
    except ValidationError as e:
        first = e.errors()[0]
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        field = f"{where}{loc}".lstrip(".") or "(the answer)"
        expected = first["msg"][0].lower() + first["msg"][1:] if first["msg"] else "a valid value"
        raise _unreadable(wsfunction, field, first.get("input"), expected, write=write,
                          missing=first["type"] == "missing") from e


def _unreadable(wsfunction: str, field: str, value: Any, expected: str, *, write: bool,
                missing: bool = False) -> UnreadableAnswer | WriteOutcomeUnknown:
    seen = "is missing" if missing else f"is {_show(value)}"
    message = f"Moodle's answer cannot be read: {field} {seen} ({expected})"
    if write:
        return WriteOutcomeUnknown(
            f"{message}, so what this write did is unknown", wsfunction=wsfunction, sent=True,
            hint="re-read Moodle before deciding; running the same command again does this")
    return UnreadableAnswer(message, wsfunction=wsfunction, field=field, value=value)


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = redact(text)
    return text if len(text) <= 80 else f"{text[:77]}..."
