"""The session placement's actions and plan context: people added to a session's group, within its capacity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from moodle_sync.reconcile.plan import Action, ChangeKind, PlanContext


@dataclass(frozen=True)
class GroupMember:
    """One person to place: the Moodle user and the e-mail they were named by."""

    userid: int
    email: str


@dataclass(frozen=True)
class AddGroupMembers(Action):
    """Put enrolled people into a teacher-led session's group (core_group_add_group_members), never past the
    session's capacity: the applier reads the group again and places nobody if they no longer fit."""

    kind: ClassVar[ChangeKind] = ChangeKind.CREATE
    #: the group's idnumber, ``<course>@<major>:<session>``
    idnumber: str
    group_id: int
    course_idnumber: str
    session: str
    capacity: int
    members: tuple[GroupMember, ...]

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        if "members" in values:
            values["members"] = tuple(GroupMember(**m) for m in values["members"])
        return values


@dataclass(frozen=True)
class SessionPlacement(PlanContext):
    """What a placement plan was made from: the session, its capacity, who was in its group then, and which of
    the people named were there already (nothing to do for them)."""

    course_key: str
    session: str
    group: str
    capacity: int
    members_before: int
    already: tuple[str, ...] = ()

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        values["already"] = tuple(values.get("already", ()))
        return values
