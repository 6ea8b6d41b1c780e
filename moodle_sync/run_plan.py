"""Apply a plan through the one Applier inside a recorded run: the run and every action's outcome are
journaled in the state store. The spec sync's apply (engine.apply) checks a saved plan against a fresh one and
confirms first, then applies here; session places and reminders are made and applied in one go by the command
(or the portal page) that made them.
"""

from __future__ import annotations

from collections.abc import Mapping

from moodle_sync.applier import Applier, ApplyResult
from moodle_sync.completions.remind import RemindResult
from moodle_sync.errors import ApplyError
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.apply import Report
from moodle_sync.reconcile.plan import Plan
from moodle_sync.sessions.placing import AssignResult
from moodle_sync.store.db import StateStore
from moodle_sync.writing.runs import Run, recorded_run


def apply_in_run(api: MoodleApi, store: StateStore, plan: Plan, *, command: str, what: str,
                 ids: Mapping[str, int] | None = None, report: Report | None = None, workers: int = 4,
                 specs_commit: str | None = None, specs_dirty: bool | None = None) -> tuple[ApplyResult, Run]:
    """Apply ``plan`` in a run recorded as ``command``; the run ends "done", or "partial" when an action
    failed or was skipped (the result says which; the caller decides what that means for its exit).

    Args:
        specs_commit, specs_dirty: the specs the run is recorded with (default: the commit the plan names).

    Raises:
        ApplyError: an error stopped the run (``partial`` when some of its writes had reached Moodle).
    """
    with recorded_run(store, api, command, what=what, specs_commit=specs_commit or plan.specs_commit,
                      specs_dirty=specs_dirty, spec_digest=plan.spec_digest, plan=plan.to_dict()) as run:
        applier = Applier(api, store, run.id, ids, report=report, workers=workers)
        try:
            result = applier.apply(plan)
        except ApplyError as e:
            run.finish("partial" if e.partial or run.wrote else "failed",
                       {"error": str(e), **applier.result.summary()})
            raise
        run.finish("done" if result.ok else "partial", result.summary())
    return result, run


def place_people(api: MoodleApi, store: StateStore, plan: Plan) -> AssignResult:
    """Apply a session placement plan (sessions.plan_placement); nobody placed is an error that says why.

    Raises:
        ApplyError: Moodle refused the places, or the group filled up since the plan was made.
    """
    if not plan.actions:
        return AssignResult.of(plan, ApplyResult())
    result, _run = apply_in_run(api, store, plan, command="session assign", what="session assign")
    if result.failed or result.skipped:
        why = "; ".join([*result.failed.values(), *result.skipped.values()])
        raise ApplyError(why if "nobody was placed" in why else f"nobody was placed: {why}",
                         outcome=result.outcome(), hint="check the people named, then run the same command again")
    return AssignResult.of(plan, result)


def send_reminders(api: MoodleApi, store: StateStore, plan: Plan, *, report: Report | None = None) -> RemindResult:
    """Apply a reminder plan (completions.remind.plan_reminders): who was reminded, who may have been, who not."""
    if not plan.actions:
        return RemindResult.of(plan, ApplyResult())
    result, _run = apply_in_run(api, store, plan, command="remind", what="remind", report=report)
    return RemindResult.of(plan, result)
