"""The spec sync: read Moodle, compare it with the course specs (the plan), and apply a plan – a fresh one, or a
saved one still true of the specs and Moodle – through apply_recorded. `plan`, `apply`, the portal's
scheduled apply and the demo call these.

No printing here: progress and results go through the ``Console`` handed in.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from moodle_sync.applier import ApplyResult
from moodle_sync.config import DEFAULT_ROLES
from moodle_sync.console import Console
from moodle_sync.errors import ApplyError, PlanError
from moodle_sync.jobs.recorded import apply_recorded
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.actual import ActualState, read_actual
from moodle_sync.reconcile.cohorts import placed_by_roster
from moodle_sync.reconcile.diff import build_plan
from moodle_sync.reconcile.enrolments import (
    SAMPLE_SIZE,
    EnrolmentState,
    read_enrolment_state,
)
from moodle_sync.reconcile.intents import settle_pending_enrolments
from moodle_sync.reconcile.plan import Note, Plan, SyncEnrolments
from moodle_sync.reconcile.progress import ApplyProgress
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore


def make_plan(api: MoodleApi, specs: SpecSet, store: StateStore | None, *, hide_removed: bool = False,
              console: Console | None = None, roles: Mapping[str, int] | None = None,
              today: datetime.date | None = None) -> tuple[Plan, ActualState]:
    """Read Moodle and compare it with the specs. Reads only."""
    progress = console.progress if console else None
    if store is not None:
        settle_pending_enrolments(api, store, progress=progress)
    actual = read_actual(api, specs, store, progress=progress)
    state = read_enrolment_state(api, specs, actual, store, progress=progress) if specs.rules else None
    plan = build_plan(specs, actual, hide_removed=hide_removed, enrolments=state,
                      roles=DEFAULT_ROLES if roles is None else roles, today=today)
    if state is not None and store is not None:
        plan = _say_who_no_roster_named(plan, state, store)
    return _name_samples(api, plan), actual


def _say_who_no_roster_named(plan: Plan, state: EnrolmentState, store: StateStore) -> Plan:
    """A note per course where the rules enrol cohort members someone added in Moodle (no roster placed them)."""
    persons = store.persons()
    by_hand = {uid for idn, users in state.members.items() for uid in users
               if not placed_by_roster(persons.get(uid), idn)}
    notes = []
    for action in plan.actions:
        if isinstance(action, SyncEnrolments) and (n := sum(1 for i in action.enrol if i.userid in by_hand)):
            whom = "the one person" if len(action.enrol) == 1 else f"{n} of the {len(action.enrol)} people"
            notes.append(Note("info", f"{action.idnumber}: {whom} to enrol {'is' if n == 1 else 'are'} in its "
                                      f"cohorts without any roster placing them there (added in Moodle by someone "
                                      f"else); the rules enrol every member of the cohorts they name"))
    return dataclasses.replace(plan, notes=(*plan.notes, *notes)) if notes else plan


def _name_samples(api: MoodleApi, plan: Plan) -> Plan:
    """Put people's names on the enrolment samples of a plan (one batched lookup for the whole plan)."""
    wanted = {i.userid for a in plan.actions if isinstance(a, SyncEnrolments)
              for name in a.sample for i in getattr(a, name)[:SAMPLE_SIZE]}
    if not wanted:
        return plan
    names = {u.id: f"{u.firstname} {u.lastname}".strip() or u.username
             for u in api.users_by_field("id", [str(i) for i in sorted(wanted)])}
    actions = tuple(
        dataclasses.replace(a, sample={name: [names.get(i.userid, f"user {i.userid}")
                                              for i in getattr(a, name)[:SAMPLE_SIZE]] for name in a.sample})
        if isinstance(a, SyncEnrolments) else a for a in plan.actions)
    return dataclasses.replace(plan, actions=actions)


def record_plan(store: StateStore, specs: SpecSet, plan: Plan) -> int:
    """Record a plan made (`plan`) as a run that wrote nothing: "changes-pending" or "in-sync"."""
    run_id = store.start_run("plan", specs_commit=specs.git_commit, specs_dirty=specs.git_dirty,
                             spec_digest=specs.digest, plan=plan.to_dict())
    store.finish_run(run_id, "changes-pending" if plan.has_changes else "in-sync", plan.counts())
    return run_id


def check_still_valid(saved: Plan, fresh: Plan, source: str) -> None:
    """Refuse a saved plan when the specs or Moodle changed since it was made."""
    if saved.moodle_url != fresh.moodle_url:
        raise PlanError(f"{source} was made for {saved.moodle_url}, not {fresh.moodle_url}")
    if saved.spec_digest != fresh.spec_digest:
        raise PlanError(f"the specs changed since {source} was made; nothing was applied",
                        hint="run `moodle-sync plan --out plan.json` again and review it")
    if saved.moodle_digest != fresh.moodle_digest:
        raise PlanError(f"Moodle changed since {source} was made; nothing was applied",
                        hint="run `moodle-sync plan --out plan.json` again and review it")


@dataclass
class ApplyReport:
    plan: Plan
    result: ApplyResult
    run_id: int
    calls: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "plan": self.plan.to_dict(), "outcome": self.result.outcome(),
                "summary": self.result.summary()}


def apply(api: MoodleApi, specs: SpecSet, store: StateStore, *, plan: Plan | None = None,
          plan_source: str = "the plan file", hide_removed: bool = False, console: Console | None = None,
          confirm: Callable[[Plan], bool] | None = None, roles: Mapping[str, int] | None = None,
          today: datetime.date | None = None, workers: int = 4) -> ApplyReport:
    """Plan (or check a saved plan), confirm, apply and journal. Safe to run again after any stop."""
    fresh, actual = make_plan(api, specs, store, hide_removed=hide_removed, console=console, roles=roles,
                              today=today)
    if plan is not None:
        check_still_valid(plan, fresh, plan_source)
    chosen = plan or fresh
    if chosen.actions and confirm is not None and not confirm(chosen):
        raise PlanError("apply cancelled; nothing was changed")
    applied = apply_recorded(api, store, chosen, command="apply", what="apply", ids=actual.ids(), workers=workers,
                             report=ApplyProgress(console, len(chosen.actions)) if console else None, specs=specs)
    result, run = applied.result, applied.run
    if not result.ok:
        raise ApplyError(f"apply finished partly: {len(result.done)} done, {len(result.failed)} failed, "
                         f"{len(result.skipped)} skipped", outcome=result.outcome(),
                         partial=bool(result.done) or run.wrote)
    return ApplyReport(plan=chosen, result=result, run_id=run.id)
