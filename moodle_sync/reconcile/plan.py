"""The plan: a frozen list of actions that turns Moodle into what the specs say, plus notes.

A plan serialises to JSON (``plan --out plan.json``) and back; ``apply plan.json`` refuses a plan whose
spec or Moodle digest no longer matches what it reads now.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, TypeVar

from moodle_sync import clock
from moodle_sync.errors import PlanError

PLAN_FORMAT = 1


class ChangeKind(IntEnum):
    """How much an action changes, most severe first."""

    NEW_VERSION = 0   # a new Moodle course for a new major version of a spec
    CREATE = 1
    UPDATE = 2
    HIDE = 3
    METADATA = 4      # only the local state store changes


def visitor_name(action_type: type[Action]) -> str:
    """``SyncEnrolments`` → ``visit_sync_enrolments``: the method of the Applier and of the Explainer."""
    return "visit_" + re.sub(r"(?<!^)(?=[A-Z])", "_", action_type.__name__).lower()


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


#: every action type by name, for the plan file's reader: each subclass of :class:`Action` adds itself, so actions
#: defined in other packages (rosters/, sessions, completions/) are known without this module importing them
ACTION_TYPES: dict[str, type[Action]] = {}


def _field_changes(values: dict[str, Any]) -> dict[str, Any]:
    if "changes" in values:
        values["changes"] = tuple(FieldChange(**c) for c in values["changes"])
    return values


@dataclass(frozen=True)
class Action:
    """Base of every action. ``id`` is stable across plans of the same state (used for outcomes)."""

    kind: ClassVar[ChangeKind]
    #: Moodle calls this action makes (for `--json` readers and the explainer)
    writes_moodle: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__ in ACTION_TYPES and ACTION_TYPES[cls.__name__].__module__ != cls.__module__:
            raise TypeError(f"two actions are called {cls.__name__}: {ACTION_TYPES[cls.__name__].__module__} "
                            f"and {cls.__module__}")
        ACTION_TYPES[cls.__name__] = cls

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Turn the JSON values of this action's nested fields back into their types (a hook per class)."""
        return values

    @classmethod
    def from_dict(cls: type[ActionT], data: dict[str, Any]) -> ActionT:
        """The action ``to_dict`` wrote (keys that are not fields, such as ``kind`` and ``id``, are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**cls.rebuild({k: v for k, v in data.items() if k in names}))

    @property
    def id(self) -> str:
        return f"{type(self).__name__}:{self.target}"

    @property
    def target(self) -> str:
        """What the action changes, by the idnumber the tool gives it in Moodle."""
        return str(getattr(self, "idnumber"))  # noqa: B009 - every action type has an idnumber field

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        return {"action": type(self).__name__, "kind": self.kind.name.lower(), "id": self.id, **data}


ActionT = TypeVar("ActionT", bound=Action)


@dataclass(frozen=True)
class CreateCategory(Action):
    kind: ClassVar[ChangeKind] = ChangeKind.CREATE
    key: str
    idnumber: str
    name: str
    parent_key: str | None
    description: str
    depth: int


@dataclass(frozen=True)
class UpdateCategory(Action):
    kind: ClassVar[ChangeKind] = ChangeKind.UPDATE
    key: str
    idnumber: str
    moodle_id: int
    changes: tuple[FieldChange, ...]
    #: set when the parent changes to a category created in the same run
    parent_key: str | None = None


    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        return _field_changes(values)

@dataclass(frozen=True)
class CreateCourse(Action):
    kind: ClassVar[ChangeKind] = ChangeKind.CREATE
    key: str
    idnumber: str
    version: str
    category_key: str
    #: Moodle fields of the new course, without ``categoryid`` (resolved from category_key at apply)
    fields: dict[str, Any]
    template: str | None
    #: the idnumber of the previous major's course, when this is a new major version
    supersedes: str | None = None
    spec_hash: str = ""


@dataclass(frozen=True)
class ImportTemplate(Action):
    kind: ClassVar[ChangeKind] = ChangeKind.CREATE
    key: str
    idnumber: str
    template: str
    template_id: int


@dataclass(frozen=True)
class UpdateCourse(Action):
    kind: ClassVar[ChangeKind] = ChangeKind.UPDATE
    key: str
    idnumber: str
    moodle_id: int
    changes: tuple[FieldChange, ...]
    from_version: str
    to_version: str
    spec_hash: str
    #: set when the category changes to one created in the same run
    category_key: str | None = None


    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        return _field_changes(values)

@dataclass(frozen=True)
class HideCourse(Action):
    kind: ClassVar[ChangeKind] = ChangeKind.HIDE
    key: str
    idnumber: str
    moodle_id: int
    reason: str


@dataclass(frozen=True)
class RecordVersion(Action):
    """The spec's version or metadata changed but no Moodle field did: only the store is updated."""

    kind: ClassVar[ChangeKind] = ChangeKind.METADATA
    writes_moodle: ClassVar[bool] = False
    key: str
    idnumber: str
    moodle_id: int
    from_version: str
    to_version: str
    spec_hash: str


@dataclass(frozen=True)
class CreateCohort(Action):
    """A cohort for one target group in one county, in the system context."""

    kind: ClassVar[ChangeKind] = ChangeKind.CREATE
    idnumber: str
    name: str
    description: str


@dataclass(frozen=True)
class UpdateCohort(Action):
    kind: ClassVar[ChangeKind] = ChangeKind.UPDATE
    idnumber: str
    moodle_id: int
    changes: tuple[FieldChange, ...]
    #: Moodle's update needs the whole cohort (name, idnumber, context) every time
    name: str
    description: str


    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        return _field_changes(values)

@dataclass(frozen=True)
class HideCohort(Action):
    kind: ClassVar[ChangeKind] = ChangeKind.HIDE
    idnumber: str
    moodle_id: int
    name: str
    description: str
    reason: str


@dataclass(frozen=True)
class EnrolmentItem:
    """One enrolment as the tool sends it: Moodle overwrites dates and status on every call."""

    userid: int
    roleid: int
    timestart: int
    timeend: int
    rule: str


@dataclass(frozen=True)
class SyncEnrolments(Action):
    """Keep one course's enrolments in step with the cohorts its rules name.

    Members who are not enrolled are enrolled; people the tool enrolled who left the cohorts are
    SUSPENDED (never unenrolled: that drops groups and grades); people who come back are reactivated.

    In an older major version (``newest`` set: the version the rules enrol in now) only suspensions are
    made: of people who left the rules, and of those who move to the newest version (``moved``, with the
    spec's ``previous_versions: move``), whom apply first asks Moodle about (reconcile/previous_versions.py).
    """

    kind: ClassVar[ChangeKind] = ChangeKind.UPDATE
    course_key: str
    idnumber: str
    enrol: tuple[EnrolmentItem, ...] = ()
    reactivate: tuple[EnrolmentItem, ...] = ()
    suspend: tuple[EnrolmentItem, ...] = ()
    redate: tuple[EnrolmentItem, ...] = ()
    #: a few names per list, for people reading the plan
    sample: dict[str, list[str]] = field(default_factory=dict)
    #: an older major version's enrolments: the idnumber of the version the rules enrol in now ("" otherwise)
    newest: str = ""
    #: the user ids in ``suspend`` who move to ``newest`` (they have not completed this version)
    moved: tuple[int, ...] = ()
    #: people the rules still concern whose enrolment here stays as it is (completed it; or all, with ``keep``)
    kept: int = 0
    #: the spec's ``previous_versions`` (move or keep)
    previous_versions: str = "move"

    def counts(self) -> dict[str, int]:
        return {"enrol": len(self.enrol), "reactivate": len(self.reactivate), "suspend": len(self.suspend),
                "redate": len(self.redate)}

    @property
    def move(self) -> tuple[EnrolmentItem, ...]:
        """The suspensions of people who move to the newest version."""
        moved = set(self.moved)
        return tuple(i for i in self.suspend if i.userid in moved)

    @property
    def leave(self) -> tuple[EnrolmentItem, ...]:
        """The suspensions of people the rules no longer concern."""
        moved = set(self.moved)
        return tuple(i for i in self.suspend if i.userid not in moved)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if not self.newest:
            for name in ("newest", "moved", "kept", "previous_versions"):
                data.pop(name)
        else:
            data["old_enrolments"] = {"move": len(self.move), "keep": self.kept, "suspend_left_rules": len(self.leave)}
        return data

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        for name in ENROLMENT_LISTS:
            if name in values:
                values[name] = tuple(EnrolmentItem(**i) for i in values[name])
        if "moved" in values:
            values["moved"] = tuple(values["moved"])
        return values


ENROLMENT_LISTS = ("enrol", "reactivate", "suspend", "redate")


@dataclass(frozen=True)
class CreateSessionGroup(Action):
    """A teacher-led session of a blended course becomes a group in the course."""

    kind: ClassVar[ChangeKind] = ChangeKind.CREATE
    course_idnumber: str
    idnumber: str
    name: str
    description: str



@dataclass(frozen=True)
class Note:
    """Something people should know that is not a change: kept courses, warnings."""

    level: str  # "info" or "warning"
    message: str


#: every plan context type by name (each subclass of :class:`PlanContext` adds itself)
CONTEXT_TYPES: dict[str, type[PlanContext]] = {}


@dataclass(frozen=True)
class PlanContext:
    """What a plan was made from beyond the specs and Moodle (a roster file, its county …): typed, serialised
    with the plan, shown by the explainer. A subclass rebuilds its nested fields in :meth:`rebuild`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        CONTEXT_TYPES[cls.__name__] = cls

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def to_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, **dataclasses.asdict(self)}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> PlanContext:
        cls = CONTEXT_TYPES.get(data.get("type", ""))
        if cls is None:
            raise ValueError(f"unknown plan context {data.get('type')!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**cls.rebuild({k: v for k, v in data.items() if k in names}))


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    notes: tuple[Note, ...]
    spec_digest: str
    moodle_digest: str
    moodle_url: str
    specs_commit: str | None = None
    created_at: str = field(default_factory=clock.stamp)
    #: what else the plan was made from (a roster import's file and county); None for the spec sync
    context: PlanContext | None = None

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    @property
    def moodle_writes(self) -> int:
        return sum(1 for a in self.actions if a.writes_moodle)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.kind.name.lower()] = out.get(a.kind.name.lower(), 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "created_at": self.created_at,
            "moodle_url": self.moodle_url,
            "spec_digest": self.spec_digest,
            "moodle_digest": self.moodle_digest,
            "specs_commit": self.specs_commit,
            "summary": {"changes": len(self.actions), **self.counts()},
            "actions": [a.to_dict() for a in self.actions],
            "notes": [dataclasses.asdict(n) for n in self.notes],
            **({"context": self.context.to_dict()} if self.context is not None else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "plan") -> Plan:
        if data.get("format") != PLAN_FORMAT:
            raise PlanError(f"{source}: not a moodle-sync plan (format {data.get('format')!r})",
                            hint="make one with `moodle-sync plan --out plan.json`")
        try:
            actions = tuple(_action_from_dict(a) for a in data["actions"])
            notes = tuple(Note(**n) for n in data.get("notes", []))
            return cls(actions=actions, notes=notes, spec_digest=data["spec_digest"],
                       moodle_digest=data["moodle_digest"], moodle_url=data["moodle_url"],
                       specs_commit=data.get("specs_commit"), created_at=data["created_at"],
                       context=PlanContext.from_dict(data["context"]) if data.get("context") else None)
        except (KeyError, TypeError, ValueError) as e:
            raise PlanError(f"{source}: the plan file is damaged ({type(e).__name__}: {e})",
                            hint="make a new one with `moodle-sync plan --out plan.json`") from e


def _action_from_dict(data: dict[str, Any]) -> Action:
    cls = ACTION_TYPES.get(data.get("action", ""))
    if cls is None:
        raise ValueError(f"unknown action {data.get('action')!r}")
    return cls.from_dict(data)
