"""`pull` and the portal's scheduled pull: completions and enrolments of every managed course version into the
state store (completions/pull.py), and how it read them (completions/explain.py)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from moodle_sync.completions.explain import bulk_text
from moodle_sync.completions.pull import PullResult
from moodle_sync.completions.pull import pull as pull_completions
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore

__all__ = ["PullResult", "bulk_text", "pull"]


def pull(api: MoodleApi, specs: SpecSet, store: StateStore, *, workers: int = 4, sweep_days: int = 7,
         now: datetime.datetime | None = None, progress: Callable[[str], None] | None = None,
         report_name: str | None = None) -> PullResult:
    """Pull completions (in bulk through the completion report ``report_name`` when it can be used, else person
    by person): see completions/pull.py."""
    return pull_completions(api, specs, store, workers=workers, sweep_days=sweep_days, now=now, progress=progress,
                            report_name=report_name)
