"""`session assign` and the portal's session page: people placed in a session's group within its capacity.

The plan (sessions/placing.py) makes every check; checking only is that plan unapplied, placing applies it
through apply_recorded.
"""

from __future__ import annotations

from moodle_sync.applier import ApplyResult
from moodle_sync.errors import ApplyError
from moodle_sync.jobs.recorded import apply_recorded
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.plan import Plan
from moodle_sync.scope import Scope
from moodle_sync.sessions.placing import AssignResult, plan_placement
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore

__all__ = ["AssignResult", "assign", "place_people", "plan_placement"]


def assign(api: MoodleApi, specs: SpecSet, store: StateStore | None, *, course_key: str, session_key: str,
           emails: list[str], scope: Scope, check_only: bool = False) -> tuple[Plan, AssignResult]:
    """Plan the places of ``emails`` in a session as ``scope`` (a hub: its county's sessions and people only)
    and, unless ``check_only``, apply that plan (``store`` is then needed: the run is journaled there).

    Raises:
        PlanError: anyone named cannot be placed, or the session would be over its capacity (nothing placed).
        ScopeError: the session is outside ``scope``.
        ApplyError: Moodle refused the places, or the group filled up since the plan was made.
    """
    plan = plan_placement(api, specs, course_key=course_key, session_key=session_key, emails=emails, scope=scope,
                          store=store)
    if check_only or store is None:
        return plan, AssignResult.of(plan)
    return plan, place_people(api, store, plan)


def place_people(api: MoodleApi, store: StateStore, plan: Plan) -> AssignResult:
    """Apply a session placement plan (sessions.plan_placement); nobody placed is an error that says why.

    Raises:
        ApplyError: Moodle refused the places, or the group filled up since the plan was made.
    """
    if not plan.actions:
        return AssignResult.of(plan, ApplyResult())
    result = apply_recorded(api, store, plan, command="session assign", what="session assign").result
    if result.failed or result.skipped:
        why = "; ".join([*result.failed.values(), *result.skipped.values()])
        raise ApplyError(why if "nobody was placed" in why else f"nobody was placed: {why}",
                         outcome=result.outcome(), hint="check the people named, then run the same command again")
    return AssignResult.of(plan, result)
