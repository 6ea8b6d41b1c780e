"""The one Applier: every package's ``visit_`` methods for writing actions, composed on the shared driver.

The driver, the outcomes and the shared create/settle mechanics are reconcile/apply.py's
:class:`~moodle_sync.reconcile.apply.ApplierCore`; each mixin writes one kind of thing and lives in a module
named for it. Composing them here keeps the packages free of imports of each other.
"""

from __future__ import annotations

from moodle_sync.completions.write_reminders import ReminderWrites
from moodle_sync.reconcile.apply import ApplierCore, ApplyResult
from moodle_sync.reconcile.write_cohorts import CohortWrites
from moodle_sync.reconcile.write_courses import CourseWrites
from moodle_sync.reconcile.write_enrolments import EnrolmentWrites
from moodle_sync.rosters.write_enrolments import FollowedEnrolmentWrites
from moodle_sync.rosters.write_people import RosterWrites
from moodle_sync.sessions.write import SessionWrites

__all__ = ["Applier", "ApplierCore", "ApplyResult"]


class Applier(CourseWrites, CohortWrites, FollowedEnrolmentWrites, RosterWrites, EnrolmentWrites, SessionWrites,
              ReminderWrites):
    """Applies any plan's actions: ``visit_<snake_case(action type)>`` handles a batch of one type."""
