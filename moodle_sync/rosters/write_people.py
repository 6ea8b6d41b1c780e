"""Writes of a roster import: people created and updated, the store told who they are, cohort members added
and removed. The Applier's visits for the roster actions (rosters/actions.py).

Batches of one step never touch the same person: a roster's rows have distinct e-mails and usernames (two
rows that would share one are blocked by the plan), so Moodle's uniqueness checks in PHP cannot race
between them, and they are sent ``workers`` at a time (moodle_sync/writing/parallel.py). The first create batch goes
alone and is timed (``RosterOutcome.create_ms``): on a site without an index on lower(email) each new
account costs a scan of the user table (see email_cost.py). The people created are recorded in the store
as they are made, so an import stopped later loses none.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from moodle_sync.errors import MoodleApiError, MoodleError
from moodle_sync.i18n import _
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import Created as CreatedUser
from moodle_sync.moodle.models import ItemWarning, UserUpdate
from moodle_sync.reconcile.apply import ApplierCore, lost_answer_wait
from moodle_sync.rosters.actions import (
    ChangeCohortMembers,
    CreateUsers,
    RecordPeople,
    RefuseRows,
    UpdateUsers,
    UserChange,
)
from moodle_sync.rosters.people import MAILED_PASSWORD_AUTHS, new_user, username_for
from moodle_sync.rosters.roster import RosterRow
from moodle_sync.scope import outside_text
from moodle_sync.store.db import Person
from moodle_sync.writing.parallel import run_parallel
from moodle_sync.writing.send import FATAL, send_bisecting
from moodle_sync.writing.settle import settle

USERS_PER_CREATE = 100
MEMBERS_PER_CALL = 500


@dataclass
class RosterOutcome:
    created: int = 0
    updated: int = 0
    added: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)
    #: of ``failures``, the rows refused before anything was sent (a rerun plans the same refusals): rows Moodle
    #: would refuse to create, and a hub's rows naming someone it may not use (``outside``)
    blocked: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    #: things people should know that are not failures (e.g. password e-mails of accounts that were not kept)
    notes: list[str] = field(default_factory=list)
    #: milliseconds per new account of the first create call (sent alone, so its time is Moodle's own)
    create_ms: float | None = None

    def take(self, other: RosterOutcome) -> None:
        """Add what one batch (``other``) did."""
        self.created += other.created
        self.updated += other.updated
        self.added += other.added
        self.removed += other.removed
        self.failures += other.failures
        self.notes += other.notes

    def to_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "added": self.added, "removed": self.removed,
                "failures": self.failures, "notes": self.notes}

    #: roster row → Moodle user id, of the rows matched or created so far
    ids: dict[int, int] = field(default_factory=dict)


Report = Callable[[str], None]


class RosterWrites(ApplierCore):
    """People and cohort members of one roster import; per person outcomes in :attr:`roster`."""

    @property
    def roster(self) -> RosterOutcome:
        """What the roster actions did (created, updated, members, failures per row), for this applier's plan."""
        found: RosterOutcome | None = self.__dict__.get("_roster")
        if found is None:
            found = self.__dict__["_roster"] = RosterOutcome()
        return found

    def row_ids(self) -> dict[int, int]:
        """Roster row → Moodle user id of the rows matched or created so far in this run: how an action that names
        a person the import creates by row (a cohort member, a planned enrolment) finds their account."""
        return dict(self.roster.ids)

    def _record(self, county: str, people: Sequence[RosterRow], emails: dict[int, str] | None = None) -> None:
        """The store learns who this roster's people are: never an e-mail Moodle does not have."""
        ids = self.roster.ids
        self.store.upsert_persons([
            Person(userid=ids[p.row], county=county, target_groups=p.target_groups, organisation=p.organisation,
                   unit=p.unit, employee_id=p.employee_id,
                   employment_start=p.employment_start.isoformat() if p.employment_start else None,
                   email=(emails or {}).get(p.row) or p.moodle_email or p.email)
            for p in people if p.row in ids])

    def _failures(self, lines: list[str], county: str, scoped: bool) -> list[str]:
        return [_as_outside(f, county) for f in lines] if scoped else lines

    def visit_refuse_rows(self, actions: list[RefuseRows]) -> None:
        for a in actions:
            # first, as they were known before anything was sent
            blocked = [_("row {row} ({email}): not created: {why}").format(row=r.row, email=r.email, why=r.reason)
                       for r in a.blocked]
            outside = [_("row {row} ({email}): {why}").format(row=r.row, email=r.email, why=r.reason)
                       for r in a.refused]
            self.roster.blocked += blocked
            self.roster.outside += outside
            self.roster.failures[0:0] = blocked + outside
            self._done(a, detail=f"{len(a.blocked) + len(a.refused)} rows not sent")

    def visit_record_people(self, actions: list[RecordPeople]) -> None:
        for a in actions:
            self.roster.ids.update((p.row, p.userid) for p in a.people if p.userid is not None)
            self._record(a.county, a.people, _moodle_emails(self.api, a.people))
            self._done(a, detail=f"{len(a.people)} people, {len(a.adopted)} adopted")

    def visit_create_users(self, actions: list[CreateUsers]) -> None:
        for a in actions:
            out = RosterOutcome()
            made: dict[int, int] = {}
            try:
                with self.clock.phase("create users", len(a.people)):
                    _create_all(self.api, list(a.people), a.auth, out, self.report, made, self.workers)
            finally:
                self.roster.ids.update(made)
                self._record(a.county, a.people)
                out.failures = self._failures(out.failures, a.county, a.scoped)
                self.roster.take(out)
                self.roster.create_ms = out.create_ms
            self._done(a, detail=f"{out.created} of {len(a.people)} created")

    def visit_update_users(self, actions: list[UpdateUsers]) -> None:
        for a in actions:
            out = RosterOutcome()
            try:
                with self.clock.phase("update users", len(a.changes)):
                    _update_all(self.api, list(a.changes), out, self.workers)
                    self._record(a.county, [c.person for c in a.changes if "email" in c.changes],
                                 _emails_now(self.api, a))
            finally:
                out.failures = self._failures(out.failures, a.county, a.scoped)
                self.roster.take(out)
            self._done(a, detail=f"{out.updated} of {len(a.changes)} updated")

    def visit_change_cohort_members(self, actions: list[ChangeCohortMembers]) -> None:
        for a in actions:
            out = RosterOutcome()
            try:
                with self.clock.phase("cohort members", len(a.add) + len(a.remove)):
                    _change_members(self.api, a, self.roster.ids, out, self.workers)
            finally:
                self.roster.take(out)
            self._done(a, detail=f"{out.added} added, {out.removed} removed")


def _moodle_emails(api: MoodleApi, people: Sequence[RosterRow]) -> dict[int, str]:
    """Row → the e-mail Moodle has, for matched people whose plan does not say it (a hub's plan shows none)."""
    unsaid = {p.userid: p.row for p in people if p.userid is not None and p.moodle_email is None}
    if not unsaid:
        return {}
    return {unsaid[u.id]: u.email for u in api.users_by_field("id", map(str, unsaid)) if u.id in unsaid}


def _emails_now(api: MoodleApi, action: UpdateUsers) -> dict[int, str]:
    """Row → the e-mail Moodle now has, for the rows whose e-mail the plan changes (read back: a warning or a
    lost answer leaves the old one)."""
    changed = {c.person.row: c.userid for c in action.changes if "email" in c.changes}
    if not changed:
        return {}
    try:
        now = {u.id: u.email for u in api.users_by_field("id", [str(i) for i in changed.values()])}
    except FATAL:
        raise
    except MoodleError:
        return {}  # the store keeps Moodle's e-mail from before; the next import looks again
    return {row: now[uid] for row, uid in changed.items() if uid in now}


#: Moodle's own refusals that tell an address or username exists (create_users: "… already exists",
#: update_users: the warning useremailduplicate); the checks before sending find them when the service has
#: core_user_get_users, and a hub sees them as its one refusal text
_EXISTS = re.compile(r"^(row \d+ \([^)]*\)).*(already exists|useremailduplicate)", re.S)


def _as_outside(failure: str, county: str) -> str:
    m = _EXISTS.match(failure)
    return f"{m.group(1)}: {outside_text(county)}" if m else failure


def _said(e: MoodleError) -> str:
    """Moodle's answer without the batch hint (these messages already name the row)."""
    return str(e).split("\n  hint:")[0]



def _create_users(api: MoodleApi, rows: list[RosterRow], auth: str, out: RosterOutcome, say: Report,
                  ids: dict[int, int]) -> None:
    """Create users into ``ids`` (row → user id) as they are made, so an import stopped later loses none.

    Finds the bad row of a rejected batch (Moodle only says "invalidparameter") and re-reads a lost one.
    With e-mailed passwords a rejected batch is retried one person per call, not bisected: see
    :func:`_create_one_by_one`.
    """
    def sent(batch: Sequence[RosterRow], created: list[CreatedUser]) -> None:
        out.created += len(created)
        ids.update((r.row, c.id) for r, c in zip(batch, created, strict=True))

    def unknown(batch: Sequence[RosterRow], _e: MoodleError) -> None:
        # Moodle may have made them, or still be making them: re-read (never re-send) like a lost course create
        names = {r.row: username_for(r.email) for r in batch}
        found = settle(len(batch), lambda: {u.username: u.id for u in api.users_by_field(
            "username", list(names.values()))}, report=say, what="users")
        done = {row: found[name] for row, name in names.items() if name in found}
        ids.update(done)
        out.created += len(done)
        out.failures += [f"row {r.row} ({r.email}): no answer from Moodle and the account did not show within "
                         f"{lost_answer_wait():.0f} s; not sent again (Moodle may still be creating it): run the "
                         f"import again in a few minutes" for r in batch if r.row not in done]

    def refused(batch: Sequence[RosterRow], e: MoodleError) -> None:
        if len(batch) == 1:
            out.failures.append(f"row {batch[0].row} ({batch[0].email}): Moodle refused the user: {_said(e)}")
        else:  # e-mailed passwords: one person per call (see _create_one_by_one)
            _create_one_by_one(api, list(batch), auth, out, say, ids)

    # without e-mails, halves can be re-sent freely
    send_bisecting(rows, lambda b: api.create_users([new_user(r, auth) for r in b]), on_sent=sent,
                   on_unknown=unknown, on_refused=refused, catch=(MoodleApiError,),
                   split=lambda b, _e: len(b) > 1 and auth not in MAILED_PASSWORD_AUTHS)


#: the first create call is timed only when it holds at least this many people (fewer say little)
TIMED_CREATE_MIN = 20
#: the clock the first create call is timed with
CLOCK = time.perf_counter


def _create_all(api: MoodleApi, rows: list[RosterRow], auth: str, out: RosterOutcome, say: Report,
                ids: dict[int, int], workers: int) -> None:
    """Create in calls of :data:`USERS_PER_CREATE`: the first alone (timed), the others ``workers`` at a time."""
    batches = [rows[i:i + USERS_PER_CREATE] for i in range(0, len(rows), USERS_PER_CREATE)]

    def merge(_batch: list[RosterRow], state: tuple[RosterOutcome, dict[int, int]]) -> None:
        out.take(state[0])
        ids.update(state[1])
        say(f"  users created: {out.created}/{len(rows)}")

    def new() -> tuple[RosterOutcome, dict[int, int]]:
        return RosterOutcome(), {}

    def work(batch: list[RosterRow], state: tuple[RosterOutcome, dict[int, int]]) -> None:
        _create_users(api, batch, auth, state[0], say, state[1])

    if not batches:
        return
    first = new()
    start = CLOCK()
    try:
        work(batches[0], first)
    finally:
        merge(batches[0], first)
    if len(batches[0]) >= TIMED_CREATE_MIN and first[0].created == len(batches[0]):
        out.create_ms = (CLOCK() - start) * 1000 / len(batches[0])
    run_parallel(batches[1:], work, new=new, merge=merge, workers=workers)


def _update_all(api: MoodleApi, changes: list[UserChange], out: RosterOutcome, workers: int) -> None:
    """Update in calls of :data:`USERS_PER_CREATE`, ``workers`` at a time (each person in one call only)."""
    batches = [changes[i:i + USERS_PER_CREATE] for i in range(0, len(changes), USERS_PER_CREATE)]
    run_parallel(batches, lambda batch, state: _update_users(api, batch, state), new=RosterOutcome,
                 merge=lambda _batch, state: out.take(state), workers=workers)


def _create_one_by_one(api: MoodleApi, rows: list[RosterRow], auth: str, out: RosterOutcome, say: Report,
                       ids: dict[int, int]) -> None:
    """Retry a refused batch one person per call, and say who may hold a password for a discarded account.

    create_users e-mails each person their password as it creates them (setnew_password_and_mail), inside
    a transaction that a later person's refusal rolls back, but an e-mail cannot be rolled back. Everyone
    before the refused person got one. Bisecting would re-send them in halves, up to one e-mail per halving;
    one person per call gives each at most one e-mail for an account that was not kept.
    """
    refused: RosterRow | None = None
    refusal = -1  # its entry in out.failures
    for r in rows:
        failures = len(out.failures)
        _create_users(api, [r], auth, out, say, ids)
        if refused is None and r.row not in ids:
            refused, refusal = r, failures
    # Moodle works through a call in order and stops at the first person it refuses
    mailed = rows if refused is None else rows[:rows.index(refused)]
    if mailed:
        at = f"at row {refused.row} ({refused.email})" if refused else "(each person was then accepted alone)"
        shown = ", ".join(f"{r.row} ({r.email})" for r in mailed[:10]) + (" …" if len(mailed) > 10 else "")
        note = (f"Moodle refused a call creating {len(rows)} people {at} and undid the accounts it had made, but "
                f"not the password e-mails it had already sent (an e-mail cannot be undone): {len(mailed)} "
                f"people may have received a password for an account that was not kept (rows {shown}). Each "
                f"was then created on their own and sent a new e-mail: the latest one holds the password that "
                f"works")
        out.notes.append(note)
        say(f"  note: {note}")
        if refused is not None and refusal < len(out.failures):
            out.failures[refusal] += (f" (the {len(mailed)} people before it in the same call may have been "
                                      f"e-mailed a password for an account that was not kept; see the notes)")


def _update_users(api: MoodleApi, changes: list[UserChange], out: RosterOutcome) -> None:
    """Update users; split a refused call in halves to find the person whose value Moodle refuses.

    update_users checks every value of the call (validate_parameters) before its per-user try/catch, so one
    value a PARAM_TEXT field would clean refuses all of them; nothing has been written then, so halves are
    re-sent freely. A failure inside the per-user part comes back as a warning for that user.
    """
    def sent(batch: Sequence[UserChange], warnings: list[ItemWarning]) -> None:
        by_id = {c.userid: c for c in batch}
        bad = {w.itemid for w in warnings}
        for w in warnings:
            change = by_id.get(w.itemid)
            who = change.person if change else None
            where = f"row {who.row} ({who.email}), user {w.itemid}" if who else f"user {w.itemid}"
            out.failures.append(f"{where}: not updated: {w.warningcode}: {w.message}")
        out.updated += sum(1 for c in batch if c.userid not in bad)

    def failed(batch: Sequence[UserChange], e: MoodleError) -> None:
        if len(batch) == 1 and isinstance(e, MoodleApiError):
            c = batch[0]
            out.failures.append(f"row {c.person.row} ({c.person.email}): Moodle refused the update of user {c.userid} "
                                f"({', '.join(c.changes)}): {_said(e)}")
        else:
            out.failures.append(f"updating {len(batch)} users: {_said(e)}; the next import checks them again")

    send_bisecting(changes, lambda b: api.update_users(
        [UserUpdate(id=c.userid, **{k: new for k, (_old, new) in c.changes.items()}) for c in b]),
        on_sent=sent, on_refused=failed, on_unknown=failed)


def _change_members(api: MoodleApi, action: ChangeCohortMembers, ids: dict[int, int], out: RosterOutcome,
                    workers: int = 1) -> None:
    """Add and remove cohort members in chunks, ``workers`` at a time (no pair is in two chunks); a refused
    chunk is a failure, the other chunks still go."""
    adds: list[tuple[int, int]] = []
    for m in action.add:
        member = m.userid if m.userid is not None else ids.get(m.row or 0)
        if member is not None:
            adds.append((m.cohort_id, member))
    removes = [(m.cohort_id, m.userid) for m in action.remove if m.userid is not None]
    jobs = [("add", adds[i:i + MEMBERS_PER_CALL]) for i in range(0, len(adds), MEMBERS_PER_CALL)] + \
        [("remove", removes[i:i + MEMBERS_PER_CALL]) for i in range(0, len(removes), MEMBERS_PER_CALL)]

    def never(*_: object) -> bool:
        return False  # a refused chunk is a failure; the next import sends it again

    def work(job: tuple[str, list[tuple[int, int]]], state: RosterOutcome) -> None:
        kind, chunk = job

        def added(chunk: Sequence[tuple[int, int]], warnings: list[ItemWarning]) -> None:
            # every warning is a member not added; code 3 ("record already exists") is someone already there
            state.added += len(chunk) - len(warnings)
            state.failures += [f"cohort member: {w.message}" for w in warnings if w.warningcode != "3"]

        def removed(chunk: Sequence[tuple[int, int]], _answer: None) -> None:
            state.removed += len(chunk)

        if kind == "add":
            # a lost answer: adding a member twice only warns (code 3), safe to leave to the next import
            send_bisecting(chunk, api.add_cohort_members, on_sent=added,
                           on_unknown=lambda chunk, _e: added(chunk, []), split=never, catch=(MoodleApiError,),
                           on_refused=lambda chunk, e: state.failures.append(
                               f"adding {len(chunk)} cohort members: Moodle refused the call: {_said(e)}; none of "
                               f"them was added, the next import adds them"))
        else:
            send_bisecting(chunk, api.delete_cohort_members, on_sent=removed, split=never, catch=(MoodleApiError,),
                           on_unknown=lambda chunk, _e: state.failures.append(
                               f"{len(chunk)} removals: answer lost; the next import re-checks them"),
                           on_refused=lambda chunk, e: state.failures.append(
                               f"removing {len(chunk)} cohort members: Moodle refused the call: {_said(e)}; none "
                               f"of them was removed, the next import removes them"))

    run_parallel(jobs, work, new=RosterOutcome, merge=lambda _job, state: out.take(state), workers=workers)

