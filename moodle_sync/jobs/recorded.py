"""The one way a plan is applied: through the one Applier, inside a run recorded in the state store.

Every job that writes (the spec sync, a roster import, session places, reminders) hands its plan to
:func:`apply_recorded`; the run and every action's outcome are journaled, and the run is closed on every way
out (writing/runs.py). Nothing outside the jobs builds an Applier (tests/meta/test_jobs.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from moodle_sync.applier import Applier, ApplyResult
from moodle_sync.errors import ApplyError
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.apply import Report
from moodle_sync.reconcile.plan import Plan
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore
from moodle_sync.writing.phases import PhaseClock
from moodle_sync.writing.runs import Run, recorded_run
from moodle_sync.writing.send import FATAL


@dataclass
class Applied:
    """A plan applied in a recorded run: each action's outcome, the run, and the Applier (whose mixins keep what
    a job reports, such as the roster's outcome); no Applier for an empty plan."""

    result: ApplyResult
    run: Run
    applier: Applier | None


#: the run's status and summary from what was applied
Finish = Callable[[Applied], tuple[str, dict[str, Any]]]


def apply_recorded(api: MoodleApi, store: StateStore, plan: Plan, *, command: str, what: str,
                   ids: Mapping[str, int] | None = None, report: Report | None = None, workers: int = 4,
                   specs: SpecSet | None = None, clock: PhaseClock | None = None, fatal_as_moodle: bool = False,
                   finish: Finish | None = None) -> Applied:
    """Apply ``plan`` in a run recorded as ``command``. An empty plan is a run recorded with no changes
    ("no-changes"): nothing is sent. Otherwise the run ends "done", or "partial" when an action failed or was
    skipped (the result says which; the job decides what that means for its exit).

    Args:
        what: the run as people call it ("apply", "roster import"), for messages.
        ids: idnumber → Moodle id of what exists (the spec sync's actual state).
        specs: the specs the run is recorded with (their commit, dirty flag and digest; without them the
            plan's).
        fatal_as_moodle: an error that stops the whole run (maintenance, the token: writing.send.FATAL) is
            raised as Moodle's own error, which recorded_run tells as a run stopped part-way when some of it
            was written; otherwise as the applier's ApplyError with each action's outcome.
        finish: the run's status and summary (default: the result's).

    Raises:
        ApplyError: an error stopped the run (``partial`` when some of its writes had reached Moodle).
    """
    with recorded_run(store, api, command, what=what,
                      specs_commit=specs.git_commit if specs is not None else plan.specs_commit,
                      specs_dirty=specs.git_dirty if specs is not None else None,
                      spec_digest=specs.digest if specs is not None else plan.spec_digest,
                      plan=plan.to_dict()) as run:
        if not plan.actions:
            run.finish("no-changes", ApplyResult().summary())
            return Applied(ApplyResult(), run, None)
        applier = Applier(api, store, run.id, ids, report=report, workers=workers, clock=clock)
        try:
            result = applier.apply(plan)
        except ApplyError as e:
            if fatal_as_moodle and isinstance(e.__cause__, FATAL):
                raise e.__cause__ from None
            run.finish("partial" if e.partial or run.wrote else "failed",
                       {"error": str(e), **applier.result.summary()})
            raise
        applied = Applied(result, run, applier)
        status, summary = finish(applied) if finish is not None else (
            "done" if result.ok else "partial", result.summary())
        run.finish(status, summary)
    return applied
