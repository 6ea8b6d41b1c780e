"""A roster import plan read by what it does to people: who is created, updated, adopted, refused, who joins and
who leaves which cohort. Derived from the plan's actions and context; what ``--json`` shows beside the plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moodle_sync.reconcile.plan import Action, Plan
from moodle_sync.rosters.actions import (
    ChangeCohortMembers,
    CreateUsers,
    FollowEnrolments,
    KeptMember,
    Member,
    RecordPeople,
    RefuseRows,
    RosterContext,
    RowWhy,
    UpdateUsers,
)
from moodle_sync.rosters.roster import RosterRow, RowProblem
from moodle_sync.rosters.said import leavers_json, skipped_rows_json

__all__ = ["RosterView"]


def _one(plan: Plan, kind: type[Action]) -> Any:
    return next((a for a in plan.actions if isinstance(a, kind)), None)


@dataclass(frozen=True)
class RosterView:
    plan: Plan

    @property
    def context(self) -> RosterContext:
        assert isinstance(self.plan.context, RosterContext), "not a roster import plan"
        return self.plan.context

    @property
    def county(self) -> str:
        return self.context.county

    @property
    def groups(self) -> tuple[str, ...]:
        return self.context.groups

    @property
    def create(self) -> list[RosterRow]:
        a: CreateUsers | None = _one(self.plan, CreateUsers)
        return list(a.people) if a else []

    @property
    def update(self) -> list[Any]:
        a: UpdateUsers | None = _one(self.plan, UpdateUsers)
        return list(a.changes) if a else []

    @property
    def members(self) -> ChangeCohortMembers | None:
        found: ChangeCohortMembers | None = _one(self.plan, ChangeCohortMembers)
        return found

    @property
    def add(self) -> list[Member]:
        return list(self.members.add) if self.members else []

    @property
    def remove(self) -> list[Member]:
        return list(self.members.remove) if self.members else []

    @property
    def matched(self) -> list[RosterRow]:
        a: RecordPeople | None = _one(self.plan, RecordPeople)
        return list(a.people) if a else []

    @property
    def adopted(self) -> list[RosterRow]:
        a: RecordPeople | None = _one(self.plan, RecordPeople)
        return [p for p in a.people if p.row in a.adopted] if a else []

    def _refusals(self, name: str) -> list[tuple[RowWhy, str]]:
        a: RefuseRows | None = _one(self.plan, RefuseRows)
        return [(r, r.reason) for r in getattr(a, name)] if a else []

    @property
    def blocked(self) -> list[tuple[RowWhy, str]]:
        return self._refusals("blocked")

    @property
    def refused(self) -> list[tuple[RowWhy, str]]:
        return self._refusals("refused")

    @property
    def kept(self) -> list[KeptMember]:
        return list(self.context.kept)

    @property
    def email_held(self) -> list[tuple[RowWhy, str]]:
        return [(r, r.reason) for r in self.context.email_held]

    @property
    def skipped(self) -> list[RowProblem]:
        return list(self.context.skipped)

    @property
    def mass_removal(self) -> str:
        """What a dry run says of a mass removal the import refuses without --allow-mass-removal, else ""."""
        share = self.context.mass_removal
        return (f"{share}: the import itself will refuse that unless you pass --allow-mass-removal (check that the "
                f"file is the county's complete list for its target groups)") if share else ""

    @property
    def follow(self) -> list[FollowEnrolments]:
        """The enrolments that follow, one action per course version (in the order they are applied)."""
        return [a for a in self.plan.actions if isinstance(a, FollowEnrolments)]

    @property
    def followups(self) -> dict[str, dict[str, int]]:
        """Course version → how many enrolments are made, reactivated, suspended and re-dated there."""
        return {a.idnumber: a.counts() for a in self.follow}

    def enrolments(self) -> list[dict[str, Any]]:
        """Every enrolment that follows, as people read it: the course, the person (an account by user id, or a
        person the import creates by row: their id is known once they are created), the role and what happens."""
        return [{"course": a.idnumber, "what": what,
                 "person": {"userid": i.userid or None, "row": i.row, "name": i.name, "email": i.email,
                            "created_by_this_import": i.awaits_create},
                 "role": i.role, "roleid": i.roleid, "method": "manual", "rule": i.rule,
                 "timestart": i.timestart, "timeend": i.timeend,
                 **({"moves_to": a.newest} if a.newest and i.userid in a.moved else {}),
                 **({"older_version_of": a.newest} if a.newest else {})}
                for a in self.follow for what, i in a.items()]

    @property
    def has_changes(self) -> bool:
        # blocked and refused rows count: applying is what reports them as failures (not "in sync");
        # adopting is a change: the store learns the person is the roster's (so leaving it takes them out)
        return bool(self.create or self.update or self.add or self.remove or self.blocked or self.refused
                    or self.adopted or self.follow)

    def counts(self) -> dict[str, int]:
        return {"rows": self.context.rows, "create": len(self.create), "update": len(self.update),
                "add_members": len(self.add), "remove_members": len(self.remove),
                "skipped_invalid": len(self.context.skipped_rows), "blocked": len(self.blocked),
                "adopt": len(self.adopted), "keep_members": len(self.kept),
                "refused": len(self.refused), "email_not_changed": len(self.email_held),
                "enrolments": sum(sum(a.counts().values()) for a in self.follow)}

    def to_dict(self) -> dict[str, Any]:
        """The import in people's terms, as ``roster import --json`` has always shown it."""
        emails = {p.row: p.email for p in self.create}
        return {
            "county": self.county, "mode": self.context.mode, "groups": list(self.groups), "counts": self.counts(),
            "create": [{"row": p.row, "email": p.email, "name": p.name} for p in self.create],
            "update": [{"row": u.person.row, "userid": u.userid, "changes": dict(u.changes)}
                       for u in self.update],
            "add": [{"cohort": m.cohort, "user": m.userid if m.userid is not None else emails.get(m.row or 0)}
                    for m in self.add],
            "remove": [{"cohort": m.cohort, "userid": m.userid} for m in self.remove],
            "blocked": [{"row": r.row, "email": r.email, "reason": why} for r, why in self.blocked],
            "adopt": [{"row": p.row, "email": p.email, "userid": p.userid} for p in self.adopted],
            "keep_members": [{"cohort": k.cohort, "userid": k.userid} for k in self.kept],
            "refused": [{"row": r.row, "email": r.email, "reason": why} for r, why in self.refused],
            "email_not_changed": [{"row": r.row, "reason": why} for r, why in self.email_held],
            "skipped_invalid": skipped_rows_json(self.skipped),
            "leavers": leavers_json(self.context.leavers),
            "kept_for_unused_rows": self.context.kept_for_unused_rows,
            "mass_removal": self.mass_removal or None,
            "enrolments": self.enrolments(),
        }
