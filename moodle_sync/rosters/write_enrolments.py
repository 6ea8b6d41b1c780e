"""Writes of the enrolments that follow a roster import: exactly the ones its plan holds (rosters/follow.py
planned them before anything was written), sent as the spec sync sends enrolments (visit_sync_enrolments).

Nothing is read or decided here. The only thing not in the plan is the user id of a person the import created:
the create's outcome gives it (:meth:`~moodle_sync.rosters.write_people.RosterWrites.row_ids`).
"""

from __future__ import annotations

from moodle_sync.reconcile.plan import SyncEnrolments
from moodle_sync.reconcile.write_enrolments import EnrolmentWrites
from moodle_sync.rosters.actions import FollowEnrolments
from moodle_sync.rosters.write_people import RosterWrites


class FollowedEnrolmentWrites(RosterWrites, EnrolmentWrites):
    """``FollowEnrolments``: the planned enrolments, with the people created by this import resolved by row."""

    def visit_follow_enrolments(self, actions: list[FollowEnrolments]) -> None:
        ready: list[SyncEnrolments] = []
        for a in actions:
            action, lost = a.resolved(self.row_ids())
            if lost:
                # the create of these people failed (a failure of the import already): nothing to enrol
                self.report(f"  {len(lost)} enrolment(s) in {a.idnumber} not sent: the account was not created "
                            f"(rows {', '.join(str(i.row) for i in lost[:10])}{' …' if len(lost) > 10 else ''})")
            self.ids.setdefault(a.idnumber, a.course_id)
            ready.append(action)
        with self.clock.phase("enrolments", sum(sum(a.counts().values()) for a in ready)):
            self.visit_sync_enrolments(ready)
