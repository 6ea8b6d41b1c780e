"""What a roster import writes, as plan actions, and the header of its plan (the file, the county, the mode).

An import plan is the one :class:`~moodle_sync.reconcile.plan.Plan`: ``--dry-run`` prints it through the
Explainer (rosters/explain.py), a real import hands it to the Applier (rosters/write_people.py), and its
``--json`` is ``plan.to_dict()``. Rows are named by their row number in the file; people by Moodle user id, or
by row for a person the import creates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from moodle_sync.reconcile.plan import (
    ENROLMENT_LISTS,
    Action,
    ChangeKind,
    EnrolmentItem,
    PlanContext,
    SyncEnrolments,
)
from moodle_sync.rosters.roster import RosterRow, RowProblem


@dataclass(frozen=True)
class RowWhy:
    """A row nothing is sent for, and why (shown to people, and a failure of the import)."""

    row: int
    email: str
    reason: str


@dataclass(frozen=True)
class UserChange:
    person: RosterRow
    userid: int
    #: field → (Moodle's value, the roster's value); Moodle's value is None in a hub's plan, which never shows an
    #: existing account's old values
    changes: dict[str, tuple[str | None, str]]

    @classmethod
    def of(cls, data: dict[str, Any]) -> UserChange:
        return cls(person=RosterRow.of(data["person"]), userid=data["userid"],
                   changes={k: (v[0], v[1]) for k, v in data["changes"].items()})


@dataclass(frozen=True)
class Member:
    """One cohort membership: the cohort, and the person by user id or, for a person still to be created, by
    row. ``email`` is the state store's e-mail of someone who leaves (to say who)."""

    cohort: str
    cohort_id: int
    userid: int | None = None
    row: int | None = None
    email: str = ""


class ForCounty:
    """A roster import's action covers the whole roster of one county: that is its target (and its id)."""

    @property
    def target(self) -> str:
        return str(getattr(self, "county"))  # noqa: B009 - every roster action has a county field


@dataclass(frozen=True)
class RefuseRows(ForCounty, Action):
    """Rows nothing is sent for: people Moodle would refuse to create, and a hub's rows naming someone outside its
    county. Applying them reports them as the import's failures; nothing is written."""

    county: str
    kind: ClassVar[ChangeKind] = ChangeKind.METADATA
    writes_moodle: ClassVar[bool] = False
    blocked: tuple[RowWhy, ...] = ()
    refused: tuple[RowWhy, ...] = ()

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        for name in ("blocked", "refused"):
            values[name] = tuple(RowWhy(**r) for r in values.get(name, ()))
        return values


@dataclass(frozen=True)
class RecordPeople(ForCounty, Action):
    """The state store learns the matched accounts are this roster's people (adopting those no roster named)."""

    county: str
    kind: ClassVar[ChangeKind] = ChangeKind.METADATA
    writes_moodle: ClassVar[bool] = False
    people: tuple[RosterRow, ...] = ()
    #: rows of accounts no roster named before (made in Moodle by others)
    adopted: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "people": [p.to_dict() for p in self.people]}

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        values["people"] = tuple(RosterRow.of(p) for p in values.get("people", ()))
        values["adopted"] = tuple(values.get("adopted", ()))
        return values


@dataclass(frozen=True)
class CreateUsers(ForCounty, Action):
    """New accounts for the rows no account matched, with ``auth`` (see rosters/people.py for what each gets)."""

    county: str
    kind: ClassVar[ChangeKind] = ChangeKind.CREATE
    auth: str = "manual"
    people: tuple[RosterRow, ...] = ()
    #: made for a hub: Moodle's "already exists" refusals are reported with the hub's one refusal text
    scoped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "people": [p.to_dict() for p in self.people]}

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        values["people"] = tuple(RosterRow.of(p) for p in values.get("people", ()))
        return values


@dataclass(frozen=True)
class UpdateUsers(ForCounty, Action):
    """Names, organisation, unit, employee id and (matched by employee id) e-mail follow the roster."""

    county: str
    kind: ClassVar[ChangeKind] = ChangeKind.UPDATE
    changes: tuple[UserChange, ...] = ()
    scoped: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["changes"] = [{**d, "person": c.person.to_dict()}
                           for d, c in zip(data["changes"], self.changes, strict=True)]
        return data

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        values["changes"] = tuple(UserChange.of(c) for c in values.get("changes", ()))
        return values


@dataclass(frozen=True)
class ChangeCohortMembers(ForCounty, Action):
    """Members in and out of the county's target-group cohorts (whose enrolments follow)."""

    county: str
    kind: ClassVar[ChangeKind] = ChangeKind.UPDATE
    add: tuple[Member, ...] = ()
    remove: tuple[Member, ...] = ()

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        for name in ("add", "remove"):
            values[name] = tuple(Member(**m) for m in values.get(name, ()))
        return values


@dataclass(frozen=True)
class FollowedItem(EnrolmentItem):
    """One enrolment that follows the roster, with whom it is for as people read it (name and e-mail from the
    roster row, or from the state store for someone who leaves).

    A person the import creates has no Moodle user id when the plan is made: ``row`` then names the roster row
    whose create gives them one and ``userid`` is 0 until the applier resolves it (:meth:`resolved`).
    """

    #: the roster row of a person this import creates (None for an existing account)
    row: int | None = None
    name: str = ""
    email: str = ""
    #: the role's short name (``roleid`` is the site's id for it)
    role: str = ""

    @property
    def awaits_create(self) -> bool:
        """The user id is known only once the import has created the person."""
        return self.row is not None and not self.userid


@dataclass(frozen=True)
class FollowEnrolments(SyncEnrolments):
    """The enrolments the rules give this roster's people in one course version, planned with the roster (before
    anything is written) from the cohort members the import leaves: exactly what the applier sends.

    A :class:`~moodle_sync.reconcile.plan.SyncEnrolments` limited to the people the import touches (its rows'
    accounts, the people it creates, those who leave), whose items say who each one is for; the enrolments of
    people still to be created name them by row (:class:`FollowedItem`).
    """

    county: str = ""
    #: Moodle's id of the course version (enrolments only follow into courses that exist)
    course_id: int = 0
    enrol: tuple[FollowedItem, ...] = ()
    reactivate: tuple[FollowedItem, ...] = ()
    suspend: tuple[FollowedItem, ...] = ()
    redate: tuple[FollowedItem, ...] = ()

    def items(self) -> list[tuple[str, FollowedItem]]:
        """Every enrolment of the action with what happens to it (enrol, reactivate, suspend, redate)."""
        return [(name, i) for name in ENROLMENT_LISTS for i in getattr(self, name)]

    def resolved(self, ids: Mapping[int, int]) -> tuple[FollowEnrolments, list[FollowedItem]]:
        """The action with the user ids of the people the import created (``ids``: roster row → user id), and
        the enrolments of people whose create did not happen (they cannot be sent)."""
        lost: list[FollowedItem] = []

        def known(items: tuple[FollowedItem, ...]) -> tuple[FollowedItem, ...]:
            out = []
            for i in items:
                if i.row is None or i.userid:
                    out.append(i)
                elif i.row in ids:
                    out.append(replace(i, userid=ids[i.row]))
                else:
                    lost.append(i)
            return tuple(out)

        action = replace(self, enrol=known(self.enrol), reactivate=known(self.reactivate),
                         suspend=known(self.suspend), redate=known(self.redate))
        return action, lost

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        for name in ENROLMENT_LISTS:
            if name in values:
                values[name] = tuple(FollowedItem(**i) for i in values[name])
        if "moved" in values:
            values["moved"] = tuple(values["moved"])
        return values


@dataclass(frozen=True)
class KeptMember:
    cohort: str
    userid: int


@dataclass(frozen=True)
class Leaver:
    """Someone the import takes out of the county's cohorts, as people know them, and what they lose."""

    userid: int
    name: str
    #: the e-mail and organisation the state store has for them (the roster that placed them)
    email: str
    organisation: str
    #: the target groups whose cohorts they leave
    groups: tuple[str, ...]
    #: the course versions whose enrolment the rules suspend (never remove) because they leave
    courses: tuple[str, ...]

    @classmethod
    def of(cls, data: dict[str, Any]) -> Leaver:
        return cls(**{**data, "groups": tuple(data["groups"]), "courses": tuple(data["courses"])})


@dataclass(frozen=True)
class RosterContext(PlanContext):
    """The header of an import plan: what was read, for whom, and what the plan leaves as it is."""

    county: str
    mode: str
    groups: tuple[str, ...]
    file: str
    sha256: str
    hub: str
    rows: int
    skipped_rows: tuple[int, ...] = ()
    #: with --skip-invalid: every problem of the rows left out
    skipped: tuple[RowProblem, ...] = ()
    #: the mass removal the import refuses without --allow-mass-removal (the share, in words), else ""
    mass_removal: str = ""
    #: cohort members no roster placed there, whom this roster does not name: left alone
    kept: tuple[KeptMember, ...] = ()
    #: rows whose new e-mail is not sent, and why (the store keeps Moodle's e-mail for them)
    email_held: tuple[RowWhy, ...] = ()
    #: everyone the import takes out of a cohort, named, with what they lose
    leavers: tuple[Leaver, ...] = ()
    #: cohort memberships kept because the only rows naming the person were skipped or held (nobody leaves
    #: because a row of theirs could not be used)
    kept_for_unused_rows: int = 0

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        values["groups"] = tuple(values.get("groups", ()))
        values["skipped_rows"] = tuple(values.get("skipped_rows", ()))
        values["skipped"] = tuple(RowProblem(**p) for p in values.get("skipped", ()))
        values["kept"] = tuple(KeptMember(**k) for k in values.get("kept", ()))
        values["email_held"] = tuple(RowWhy(**r) for r in values.get("email_held", ()))
        values["leavers"] = tuple(Leaver.of(v) for v in values.get("leavers", ()))
        return values
