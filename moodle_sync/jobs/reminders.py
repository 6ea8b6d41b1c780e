"""`remind`: the reminder plan (completions/remind.py: who is due, who was reminded recently) and, unless only
listed, that plan sent through apply_recorded."""

from __future__ import annotations

import datetime

from moodle_sync.applier import ApplyResult
from moodle_sync.completions.remind import RemindResult, plan_reminders
from moodle_sync.jobs.recorded import apply_recorded
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.apply import Report
from moodle_sync.reconcile.plan import Plan
from moodle_sync.scope import Scope
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore

__all__ = ["RemindResult", "plan_reminders", "remind", "send_reminders"]


def remind(api: MoodleApi, specs: SpecSet, store: StateStore, *, before: datetime.timedelta,
           interval: datetime.timedelta, scope: Scope, overdue: bool = False, max_reminders: int = 3,
           dry_run: bool = False, today: datetime.date | None = None) -> tuple[Plan, RemindResult]:
    """Plan the reminders within ``scope`` and, unless ``dry_run``, send them."""
    plan = plan_reminders(api, specs, store, before=before, interval=interval, scope=scope, overdue=overdue,
                          max_reminders=max_reminders, today=today)
    return plan, RemindResult.of(plan) if dry_run else send_reminders(api, store, plan)


def send_reminders(api: MoodleApi, store: StateStore, plan: Plan, *, report: Report | None = None) -> RemindResult:
    """Apply a reminder plan (completions.remind.plan_reminders): who was reminded, who may have been, who not."""
    if not plan.actions:
        return RemindResult.of(plan, ApplyResult())
    result = apply_recorded(api, store, plan, command="remind", what="remind", report=report).result
    return RemindResult.of(plan, result)
