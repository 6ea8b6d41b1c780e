"""What a roster import writes, as plan actions, and the header of its plan (the file, the county, the mode).

An import plan is the one :class:`~moodle_sync.reconcile.plan.Plan`: ``--dry-run`` prints it through the
Explainer (rosters/explain.py), a real import hands it to the Applier (rosters/write_people.py), and its
``--json`` is ``plan.to_dict()``. Rows are named by their row number in the file; people by Moodle user id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from moodle_sync.reconcile.plan import Action, ChangeKind, PlanContext
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
class FollowEnrolments(ForCounty, Action):
    """The enrolments the rules give this roster's people, read from Moodle once their accounts exist.

    The enrolment lists depend on ids of accounts not created yet, so the applier reads Moodle and applies
    :class:`~moodle_sync.reconcile.plan.SyncEnrolments` for this roster's people only; the plan shows the
    enrolments it predicts from the cohort changes.
    """

    county: str
    kind: ClassVar[ChangeKind] = ChangeKind.UPDATE
    #: course idnumber → {"enrol": n, "suspend": n}, predicted by the rules from the cohort changes
    predicted: dict[str, dict[str, int]] = field(default_factory=dict)
    #: matched accounts a rule concerns (Moodle may have enrolled them without the tool knowing)
    rule_people: tuple[int, ...] = ()

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        values["rule_people"] = tuple(values.get("rule_people", ()))
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
