"""The enrolments that follow a roster import, for its people only: read once their accounts exist, then
written as the spec sync writes enrolments (visit_sync_enrolments)."""

from __future__ import annotations

import dataclasses

from moodle_sync import clock
from moodle_sync.config import DEFAULT_ROLES
from moodle_sync.reconcile.actual import read_actual
from moodle_sync.reconcile.enrolments import plan_enrolments, read_enrolment_state, targeted_enrolment_state
from moodle_sync.reconcile.plan import EnrolmentItem, SyncEnrolments
from moodle_sync.reconcile.write_enrolments import EnrolmentWrites
from moodle_sync.rosters.actions import FollowEnrolments
from moodle_sync.rosters.write_people import RosterWrites


class FollowedEnrolmentWrites(RosterWrites, EnrolmentWrites):
    """``FollowEnrolments``: the rules' enrolments for the people the roster actions touched (a hub never
    touches other counties)."""

    def visit_follow_enrolments(self, actions: list[FollowEnrolments]) -> None:
        if self.specs is None:
            raise ValueError("the enrolments that follow a roster need the specs (a bug in moodle-sync)")
        specs = self.specs
        for a in actions:
            people = self.roster.user_ids
            with self.clock.phase("read enrolments", len(people)):
                actual = read_actual(self.api, specs, self.store)
                rule_courses = {specs.courses[r.course].idnumber for r in specs.rules.values()}
                known = set().union(*(self.store.managed_enrolments(idn) for idn in rule_courses)) \
                    if rule_courses else set()
                # people Moodle may already have enrolled without the tool knowing: existing users, new to the
                # store, whom a rule now concerns. Only they need Moodle's own enrolment lists to be read.
                if not set(a.rule_people) - known:
                    # everyone is either known to the store or brand new: reads in proportion to the change
                    state = targeted_enrolment_state(self.api, specs, actual, self.store, a.county, people)
                else:
                    state = read_enrolment_state(self.api, specs, actual, self.store)
                planned = plan_enrolments(specs, actual, state, DEFAULT_ROLES if self.roles is None else self.roles,
                                          clock.today())
                sync = [s for s in (_only(x, people) for x in planned) if s.enrol or s.reactivate or s.suspend
                        or s.redate]
            self.ids.update(actual.ids())
            expect = getattr(self.report, "expect", None)
            if expect is not None:
                expect(len(sync))
            with self.clock.phase("enrolments", sum(len(s.enrol) + len(s.reactivate) + len(s.suspend)
                                                    + len(s.redate) for s in sync)):
                if sync:
                    self.visit_sync_enrolments(sync)
            self._done(a, detail=f"enrolments in {len(sync)} courses")


def _only(action: SyncEnrolments, people: set[int]) -> SyncEnrolments:
    def keep(items: tuple[EnrolmentItem, ...]) -> tuple[EnrolmentItem, ...]:
        return tuple(i for i in items if i.userid in people)

    return dataclasses.replace(action, enrol=keep(action.enrol), reactivate=keep(action.reactivate),
                               suspend=keep(action.suspend), redate=keep(action.redate))
