"""Carry out a plan against Moodle: batched, in dependency order, journaled, safe to re-run.

:class:`ApplierCore` is the driver: it hands each run of consecutive actions of one type to the
``visit_<action>`` method that writes it, and journals every outcome in the state store before the next
batch, so a run killed at any point is simply run again. The ``visit_`` methods live in mixins named for
what they write (write_courses.py, write_cohorts.py, write_enrolments.py, rosters/write_people.py …),
composed into the one :class:`~moodle_sync.applier.Applier`.

Moodle's creates are all-or-nothing and name no bad item, so a rejected batch is split in halves until the
bad item is found and named (:meth:`ApplierCore._create`); a write whose answer was lost is never re-sent
blindly: Moodle is re-read by idnumber first (moodle_sync/writing/settle.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from moodle_sync.errors import ApplyError, MoodleApiError, MoodleError, TransportError
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.plan import Action, Plan, visitor_name
from moodle_sync.reconcile.words import action_words
from moodle_sync.store.db import StateStore
from moodle_sync.writing import settle as settle_module
from moodle_sync.writing.phases import PhaseClock
from moodle_sync.writing.send import FATAL, halves, send_bisecting

A = TypeVar("A", bound=Action)


@dataclass
class ApplyResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def outcome(self) -> dict[str, str]:
        return {**{a: "done" for a in self.done}, **{a: "failed" for a in self.failed},
                **{a: "skipped" for a in self.skipped}}

    def summary(self) -> dict[str, Any]:
        return {"done": len(self.done), "failed": len(self.failed), "skipped": len(self.skipped),
                "failures": self.failed, "skips": self.skipped}


Report = Callable[[str], None]


def lost_answer_wait() -> float:
    """How long to keep re-reading after a lost answer (writing.settle's, read at call time: tests shorten it)."""
    return settle_module.LOST_ANSWER_WAIT


class ApplierCore:
    """The driver and the outcomes; ``visit_<snake_case(action type)>`` of a mixin handles a batch of one type."""

    def __init__(self, api: MoodleApi, store: StateStore, run_id: int, ids: Mapping[str, int] | None = None, *,
                 report: Report | None = None, workers: int = 4, clock: PhaseClock | None = None) -> None:
        """
        Args:
            ids: idnumber → Moodle id of what exists already (filled as creates succeed); what the actions
                name by idnumber and do not carry the id of (a course to enrol in, a parent category).
            clock: times the phases of the run (``-v``); the visits that have phases use it.
        """
        self.clock = clock or PhaseClock(None)
        self.api = api
        #: independent batches (enrolments, people) go out in parallel through a pool this big
        self.workers = max(1, workers)
        self.store = store
        self.run_id = run_id
        self.report = report or (lambda _m: None)
        self.result = ApplyResult()
        self.ids: dict[str, int] = dict(ids or {})

    # --- driver -------------------------------------------------------------------------------------

    def apply(self, plan: Plan) -> ApplyResult:
        """Apply every action of ``plan`` in order, batching consecutive actions of one type."""
        for group in _groups(plan.actions):
            visit = getattr(self, visitor_name(type(group[0])), None)
            if visit is None:
                raise ApplyError(f"no way to apply {type(group[0]).__name__} (a bug in moodle-sync)")
            try:
                visit(group)
            except FATAL as e:
                for a in plan.actions:
                    if a.id not in self.result.outcome():
                        self._skip(a, f"stopped: {e}")
                raise ApplyError(f"apply stopped: {e}", outcome=self.result.outcome()) from e
        return self.result

    # --- outcomes ----------------------------------------------------------------------------------

    def _done(self, action: Action, moodle_id: int | None = None, detail: str = "") -> None:
        self.result.done.append(action.id)
        self.store.record_outcome(self.run_id, action.id, type(action).__name__, action.target, "done",
                                  moodle_id, detail)
        self.report(f"  done     {action_words(action.id)}" + (f" (id {moodle_id})" if moodle_id else ""))

    def _fail(self, action: Action, why: str) -> None:
        self.result.failed[action.id] = why
        self.store.record_outcome(self.run_id, action.id, type(action).__name__, action.target, "failed",
                                  None, why)
        self.report(f"  FAILED   {action_words(action.id)}: {why}")

    def _skip(self, action: Action, why: str) -> None:
        self.result.skipped[action.id] = why
        self.store.record_outcome(self.run_id, action.id, type(action).__name__, action.target, "skipped",
                                  None, why)
        self.report(f"  skipped  {action_words(action.id)}: {why}")

    # --- shared mechanics ---------------------------------------------------------------------------

    def _create(self, batch: Sequence[A], create: Callable[[Sequence[A]], Sequence[Any]],
                lookup: Callable[[Sequence[A]], dict[str, int]],
                on_created: Callable[[A, int], None], *,
                pieces: Callable[[Sequence[A]], list[Sequence[A]]] = halves) -> None:
        """Create a batch; bisect a rejected one; re-read (never re-send) one whose answer was lost."""
        def sent(done: Sequence[A], created: Sequence[Any]) -> None:
            for a, made in zip(done, created, strict=True):
                self._created(a, made.id, on_created)

        def unknown(lost: Sequence[A], _e: MoodleError) -> None:
            found = self._settle(len(lost), lambda: lookup(lost))
            for a in lost:
                if a.target in found:
                    self._created(a, found[a.target], on_created)
            for a in lost:
                if a.target not in found:
                    self._fail(a, f"the answer was lost and Moodle did not show it within {lost_answer_wait():.0f} s; "
                                  "it was not sent again, as Moodle may still be creating it. Run apply again "
                                  "in a few minutes: it re-reads Moodle before creating anything")

        def refused(bad: Sequence[A], e: MoodleError) -> None:
            if isinstance(e, MoodleApiError) and len(bad) == 1:
                # e.g. courseidnumbertaken (or invalidparameter for a cohort): another run, or an earlier
                # answer that was lost, already made it: adopt it instead of failing
                found = lookup(bad)
                if bad[0].target in found:
                    self._created(bad[0], found[bad[0].target], on_created)
                    return
            for a in bad:
                self._fail(a, str(e))

        def split_said(whole: Sequence[A], e: MoodleError) -> None:
            self.report(f"  Moodle rejected a batch of {len(whole)} ({getattr(e, 'errorcode', '')}); splitting it "
                        f"to find the bad item")

        send_bisecting(batch, create, on_sent=sent, on_refused=refused, on_unknown=unknown, on_split=split_said,
                       pieces=pieces, catch=(MoodleApiError, TransportError))

    def _settle(self, expected: int, read: Callable[[], dict[str, int]]) -> dict[str, int]:
        """Re-read what a write whose answer was lost should have made, until all ``expected`` objects
        show or :data:`LOST_ANSWER_WAIT` has passed (Moodle may still be running it)."""
        return settle_module.settle(expected, read, wait=lost_answer_wait(), report=self.report)

    def _created(self, action: A, moodle_id: int, on_created: Callable[[A, int], None]) -> None:
        self.ids[action.target] = moodle_id
        on_created(action, moodle_id)
        self._done(action, moodle_id)


def _groups(actions: Sequence[Action]) -> list[list[Any]]:
    """Consecutive actions of one type (and, for categories, one depth) form a batch."""
    groups: list[list[Any]] = []
    for a in actions:
        if groups and type(groups[-1][0]) is type(a) and getattr(groups[-1][0], "depth", 0) == getattr(a, "depth", 0):
            groups[-1].append(a)
        else:
            groups.append([a])
    return groups
