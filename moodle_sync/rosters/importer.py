"""Import a county hub's roster: people to create and update, cohort members to add and remove,
and the enrolments that follow – planned first (nothing written), then applied.

The roster is the complete list of the county's staff for the target groups it names: people
missing from it leave those cohorts (so their enrolments are suspended, never removed), unless the
mode is ``add``. County scoping lives here, not in the CLI: a hub may only touch its own county.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from moodle_sync.errors import (
    AuthError,
    MoodleApiError,
    MoodleError,
    MoodleUnavailable,
    PermissionDenied,
    RosterError,
    ScopeError,
    WriteOutcomeUnknown,
)
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import NewUser, User, UserUpdate
from moodle_sync.reconcile.actual import COHORT_PREFIX
from moodle_sync.reconcile.cohorts import cohort_idnumber
from moodle_sync.rosters.counties import COUNTIES
from moodle_sync.rosters.parse import Roster, RosterRow
from moodle_sync.store.db import Person, StateStore

#: an import that would take more than this share of a county's members out of their cohorts stops
MASS_REMOVAL_SHARE = 0.20
USERS_PER_CREATE = 100
FATAL = (AuthError, PermissionDenied, MoodleUnavailable)

Mode = Literal["replace", "add"]


@dataclass(frozen=True)
class Scope:
    """Who acts: an LMS admin (``county=None``: every county) or a regional hub bound to one county."""

    name: str = "admin"
    county: str | None = None

    @classmethod
    def hub(cls, name: str, county: str) -> Scope:
        if county not in COUNTIES:
            raise ScopeError(f"hub {name!r} is configured for unknown county {county!r}")
        return cls(name=name, county=county)

    def require(self, county: str) -> None:
        """Raise ScopeError unless this identity may change or read ``county``."""
        if self.county is not None and county != self.county:
            raise ScopeError(f"{self.name} may only work with {COUNTIES[self.county].name} ({self.county}), "
                             f"not {COUNTIES[county].name if county in COUNTIES else county} ({county}); "
                             f"nothing was changed")

    def visible_counties(self) -> list[str]:
        return [self.county] if self.county else list(COUNTIES)


@dataclass(frozen=True)
class UserChange:
    userid: int
    row: RosterRow
    changes: dict[str, tuple[str, str]]


@dataclass
class RosterPlan:
    """What an import will do. Nothing has been written when this exists."""

    county: str
    mode: Mode
    groups: tuple[str, ...]
    rows: list[RosterRow]
    create: list[RosterRow] = field(default_factory=list)
    update: list[UserChange] = field(default_factory=list)
    #: (cohort idnumber, user id or the row of a person still to be created)
    add: list[tuple[str, int | RosterRow]] = field(default_factory=list)
    remove: list[tuple[str, int]] = field(default_factory=list)
    matched: dict[int, int] = field(default_factory=dict)   # roster row → Moodle user id
    cohort_ids: dict[str, int] = field(default_factory=dict)
    current_members: int = 0
    skipped_rows: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"rows": len(self.rows), "create": len(self.create), "update": len(self.update),
                "add_members": len(self.add), "remove_members": len(self.remove),
                "skipped_invalid": len(self.skipped_rows)}

    @property
    def has_changes(self) -> bool:
        return bool(self.create or self.update or self.add or self.remove)

    def to_dict(self) -> dict[str, Any]:
        return {
            "county": self.county, "mode": self.mode, "groups": list(self.groups), "counts": self.counts(),
            "create": [{"row": r.row, "email": r.email, "name": f"{r.firstname} {r.lastname}"} for r in self.create],
            "update": [{"row": u.row.row, "userid": u.userid, "changes": u.changes} for u in self.update],
            "add": [{"cohort": c, "user": u if isinstance(u, int) else u.email} for c, u in self.add],
            "remove": [{"cohort": c, "userid": u} for c, u in self.remove],
        }


def username_for(email: str) -> str:
    """Moodle usernames are lower-case ``[a-z0-9_.@-]``: the lower-cased email with others replaced."""
    return re.sub(r"[^a-z0-9_.@-]", "_", email.lower())


def plan_roster(api: MoodleApi, roster: Roster, *, county: str, scope: Scope, mode: Mode = "replace",
                skip_invalid: bool = False, allow_mass_removal: bool = False) -> RosterPlan:
    """Compare a roster with Moodle and say what an import would change. Reads only.

    Raises:
        ScopeError: the county, or a row's county, is outside the caller's scope or this import.
        RosterError: invalid rows (unless ``skip_invalid``), missing cohorts, or a mass removal
            without ``allow_mass_removal``.
    """
    if county not in COUNTIES:
        raise RosterError(f"unknown county {county!r}", hint="use a letter code such as W or AB")
    scope.require(county)
    others = [r for r in roster.rows if r.county and r.county != county]
    if others:
        rows = ", ".join(f"row {r.row} ({r.county})" for r in others[:10])
        raise ScopeError(f"the roster names other counties than {COUNTIES[county].name} ({county}): {rows}; "
                         f"nothing was changed", hint="split the file per county, or fix the county column")
    if roster.problems and not skip_invalid:
        raise RosterError(f"{roster.path}: {len(roster.problems)} problem(s); nothing was written",
                          problems=roster.problems,
                          hint="fix the rows, or pass --skip-invalid to import the valid rows only")
    groups = tuple(sorted({g for r in roster.rows for g in r.target_groups}))
    plan = RosterPlan(county=county, mode=mode, groups=groups, rows=list(roster.rows),
                      skipped_rows=roster.invalid_rows if skip_invalid else [])

    wanted_cohorts = {cohort_idnumber(g, county) for g in groups}
    found = {c.idnumber: c.id for c in api.search_cohorts(COHORT_PREFIX) if c.idnumber in wanted_cohorts}
    missing = sorted(wanted_cohorts - set(found))
    if missing:
        raise RosterError(f"cohorts missing in Moodle: {', '.join(missing)}",
                          hint="run `moodle-sync apply` first: it creates the cohorts of every target group")
    plan.cohort_ids = found

    users = _match_users(api, roster.rows)
    for row in roster.rows:
        user = users.get(row.row)
        if user is None:
            plan.create.append(row)
            continue
        plan.matched[row.row] = user.id
        changes = _user_changes(user, row)
        if changes:
            plan.update.append(UserChange(user.id, row, changes))

    current = api.cohort_members(found.values())
    by_id = {v: k for k, v in found.items()}
    plan.current_members = sum(len(m) for m in current.values())
    desired: dict[str, set[int]] = {idn: set() for idn in found}
    for row in roster.rows:
        for g in row.target_groups:
            idn = cohort_idnumber(g, county)
            uid = plan.matched.get(row.row)
            if uid is None:
                plan.add.append((idn, row))
                continue
            desired[idn].add(uid)
            if uid not in current.get(found[idn], set()):
                plan.add.append((idn, uid))
    if mode == "replace":
        for cid, members in sorted(current.items()):
            idn = by_id[cid]
            plan.remove += [(idn, uid) for uid in sorted(members - desired[idn])]
    if plan.current_members and len(plan.remove) > MASS_REMOVAL_SHARE * plan.current_members \
            and not allow_mass_removal:
        raise RosterError(
            f"this import would take {len(plan.remove)} of {plan.current_members} members "
            f"({len(plan.remove) / plan.current_members:.0%}) out of {COUNTIES[county].name}'s cohorts; nothing was "
            f"written", hint="check that the file is the county's complete list for its target groups; if it is, "
                             "pass --allow-mass-removal (their enrolments are suspended, not removed)")
    return plan


def _match_users(api: MoodleApi, rows: Sequence[RosterRow]) -> dict[int, User]:
    """Roster row → Moodle user: by employee id when given, else by lower-cased email/username."""
    ids = [r.employee_id for r in rows if r.employee_id]
    by_idnumber = {u.idnumber: u for u in api.users_by_field("idnumber", ids)} if ids else {}
    emails = [r.email for r in rows]
    by_email = {u.email.lower(): u for u in api.users_by_field("email", emails)} if emails else {}
    usernames = [username_for(r.email) for r in rows if r.email not in by_email]
    by_username = {u.username: u for u in api.users_by_field("username", usernames)} if usernames else {}
    out: dict[int, User] = {}
    for r in rows:
        user = (by_idnumber.get(r.employee_id) if r.employee_id else None) or by_email.get(r.email) \
            or by_username.get(username_for(r.email))
        if user is not None:
            out[r.row] = user
    return out


def _user_changes(user: User, row: RosterRow) -> dict[str, tuple[str, str]]:
    """Names and organisation follow the roster, but a value is never blanked."""
    wanted = {"firstname": row.firstname, "lastname": row.lastname, "institution": row.organisation,
              "department": row.unit, "idnumber": row.employee_id or ""}
    return {k: (getattr(user, k), v) for k, v in wanted.items() if v and getattr(user, k) != v}


@dataclass
class RosterOutcome:
    created: int = 0
    updated: int = 0
    added: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)
    #: everyone the import touched (the rows' people and those who left)
    user_ids: set[int] = field(default_factory=set)
    #: people this import created: they cannot have any enrolment yet
    new_user_ids: set[int] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "added": self.added, "removed": self.removed,
                "failures": self.failures}


Report = Callable[[str], None]


def apply_roster(api: MoodleApi, store: StateStore, plan: RosterPlan, *, auth: str = "manual",
                 report: Report | None = None) -> RosterOutcome:
    """Write a roster plan: users first (one writer: Moodle checks uniqueness in PHP), then members."""
    say = report or (lambda _m: None)
    out = RosterOutcome()
    ids: dict[int, int] = dict(plan.matched)
    for batch_start in range(0, len(plan.create), USERS_PER_CREATE):
        batch = plan.create[batch_start:batch_start + USERS_PER_CREATE]
        for row, uid in _create_users(api, batch, auth, out).items():
            ids[row] = uid
        say(f"  users created: {out.created}/{len(plan.create)}")
    if plan.update:
        updates = [UserUpdate(id=u.userid, **{k: new for k, (_old, new) in u.changes.items()}) for u in plan.update]
        for start in range(0, len(updates), USERS_PER_CREATE):
            to_send = updates[start:start + USERS_PER_CREATE]
            try:
                warnings = api.update_users(to_send)
            except FATAL:
                raise
            except MoodleError as e:
                out.failures.append(f"updating {len(to_send)} users: {e}")
                continue
            bad = {w.itemid for w in warnings}
            out.failures += [f"user {w.itemid}: {w.warningcode}: {w.message}" for w in warnings]
            out.updated += sum(1 for u in to_send if u.id not in bad)
    adds: list[tuple[int, int]] = []
    for idn, who in plan.add:
        member = ids.get(who.row) if isinstance(who, RosterRow) else who
        if member is not None:
            adds.append((plan.cohort_ids[idn], member))
    for start in range(0, len(adds), 500):
        chunk = adds[start:start + 500]
        try:
            warnings = api.add_cohort_members(chunk)
        except WriteOutcomeUnknown:
            warnings = []  # adding a member twice only warns (code 3): safe to leave to the next import
        out.added += len(chunk) - sum(1 for w in warnings if w.warningcode != "3")
        out.failures += [f"cohort member: {w.message}" for w in warnings if w.warningcode != "3"]
    for start in range(0, len(plan.remove), 500):
        chunk = [(plan.cohort_ids[idn], uid) for idn, uid in plan.remove[start:start + 500]]
        try:
            api.delete_cohort_members(chunk)
            out.removed += len(chunk)
        except WriteOutcomeUnknown:
            out.failures.append(f"{len(chunk)} removals: answer lost; the next import re-checks them")
    out.user_ids = set(ids.values()) | {uid for _idn, uid in plan.remove}
    out.new_user_ids = set(ids.values()) - set(plan.matched.values())
    store.upsert_persons([
        Person(userid=ids[r.row], county=plan.county, target_groups=r.target_groups, organisation=r.organisation,
               unit=r.unit, employment_start=r.employment_start.isoformat() if r.employment_start else None,
               employee_id=r.employee_id, email=r.email)
        for r in plan.rows if r.row in ids])
    return out


def _create_users(api: MoodleApi, rows: list[RosterRow], auth: str, out: RosterOutcome) -> dict[int, int]:
    """Create users; bisect a rejected batch (Moodle only says "invalidparameter"); re-read a lost one."""
    if not rows:
        return {}
    internal = auth in {"manual", "email"}
    requests = [NewUser(username=username_for(r.email), auth=auth, createpassword=1 if internal else None,
                        firstname=r.firstname, lastname=r.lastname, email=r.email, idnumber=r.employee_id,
                        institution=r.organisation or None, department=r.unit or None) for r in rows]
    try:
        created = api.create_users(requests)
    except WriteOutcomeUnknown:
        found = {u.username: u.id for u in api.users_by_field("username", [q.username for q in requests])}
        done = {r.row: found[q.username] for r, q in zip(rows, requests, strict=True) if q.username in found}
        out.created += len(done)
        rest = [r for r in rows if r.row not in done]
        out.failures += [f"row {r.row} ({r.email}): the answer was lost; run the import again" for r in rest]
        return done
    except FATAL:
        raise
    except MoodleApiError as e:
        if len(rows) == 1:
            out.failures.append(f"row {rows[0].row} ({rows[0].email}): Moodle refused the user: {e}")
            return {}
        mid = len(rows) // 2
        return {**_create_users(api, rows[:mid], auth, out), **_create_users(api, rows[mid:], auth, out)}
    out.created += len(created)
    return {r.row: c.id for r, c in zip(rows, created, strict=True)}


SAMPLE = 5


def render_roster_plan(plan: RosterPlan, followups: dict[str, dict[str, int]] | None = None) -> str:
    """The import plan for people: counts, a sample of names, and the enrolments that follow."""
    c = plan.counts()
    county = COUNTIES[plan.county]
    lines = [f"Roster for {county.name} ({plan.county}), target groups: {', '.join(plan.groups) or '-'}",
             f"  {c['rows']} people in the file" + (f", {c['skipped_invalid']} invalid rows skipped"
                                                    if c["skipped_invalid"] else "")]
    if plan.create:
        names = ", ".join(f"{r.firstname} {r.lastname}" for r in plan.create[:SAMPLE])
        lines.append(f"+ create {len(plan.create)} users: {names}" + (" …" if len(plan.create) > SAMPLE else ""))
    if plan.update:
        names = ", ".join(f"{u.row.firstname} {u.row.lastname} ({', '.join(u.changes)})" for u in plan.update[:SAMPLE])
        lines.append(f"~ update {len(plan.update)} users: {names}" + (" …" if len(plan.update) > SAMPLE else ""))
    if plan.add:
        lines.append(f"+ add {len(plan.add)} cohort memberships")
    if plan.remove:
        lines.append(f"- remove {len(plan.remove)} cohort memberships (their enrolments are suspended, never "
                     f"removed)")
    if not plan.has_changes:
        lines.append("No changes: Moodle already matches this roster.")
    for course, n in sorted((followups or {}).items()):
        parts = ", ".join(f"{k} {v}" for k, v in n.items() if v)
        if parts:
            lines.append(f"  then enrolments in {course}: {parts}")
    return "\n".join(lines)
