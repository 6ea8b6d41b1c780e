"""Writes of the tool's cohorts (create, update, hide): the Applier's visits for them."""

from __future__ import annotations

from collections.abc import Sequence

from moodle_sync.identity import COHORT_PREFIX
from moodle_sync.moodle.models import CohortUpdate, NewCohort
from moodle_sync.reconcile.apply import ApplierCore
from moodle_sync.reconcile.plan import CreateCohort, HideCohort, UpdateCohort
from moodle_sync.writing.send import send_bisecting

COHORTS_PER_CALL = 100


class CohortWrites(ApplierCore):
    """The cohorts of every target group and county."""

    def visit_create_cohort(self, actions: list[CreateCohort]) -> None:
        def request(a: CreateCohort) -> NewCohort:
            return NewCohort(name=a.name, idnumber=a.idnumber, description=a.description or None, visible=1)

        def lookup(batch: Sequence[CreateCohort]) -> dict[str, int]:
            wanted = {a.idnumber for a in batch}
            return {c.idnumber: c.id for c in self.api.search_cohorts(COHORT_PREFIX) if c.idnumber in wanted}

        def on_created(a: CreateCohort, moodle_id: int) -> None:
            self.store.remember("cohort", a.idnumber, moodle_id)

        for batch in self.api.batches("core_cohort_create_cohorts", "cohorts", actions, request,
                                      max_items=COHORTS_PER_CALL):
            self._create(batch, lambda b: self.api.create_cohorts([request(a) for a in b]), lookup, on_created)

    def visit_update_cohort(self, actions: list[UpdateCohort]) -> None:
        self._update_cohorts([(a, CohortUpdate(id=a.moodle_id, name=a.name, idnumber=a.idnumber,
                                                description=a.description, visible=1)) for a in actions])

    def visit_hide_cohort(self, actions: list[HideCohort]) -> None:
        self._update_cohorts([(a, CohortUpdate(id=a.moodle_id, name=a.name, idnumber=a.idnumber,
                                                description=a.description, visible=0)) for a in actions])

    def _update_cohorts(self, pairs: list[tuple[UpdateCohort | HideCohort, CohortUpdate]]) -> None:
        """update_cohorts is all-or-nothing: a failed batch is split to name the bad one."""
        def sent(batch: Sequence[tuple[UpdateCohort | HideCohort, CohortUpdate]], _answer: object) -> None:
            for a, _ in batch:
                self._done(a, a.moodle_id)

        for batch in self.api.batches("core_cohort_update_cohorts", "cohorts", pairs, lambda p: p[1],
                                      max_items=COHORTS_PER_CALL):
            # a lost answer: absolute values, so the next plan re-reads and shows anything left
            send_bisecting(batch, lambda b: self.api.update_cohorts([r for _, r in b]), on_sent=sent,
                           on_refused=lambda b, e: self._fail(b[0][0], str(e)), on_unknown=lambda _b, _e: None,
                           split=lambda b, _e: len(b) > 1)
