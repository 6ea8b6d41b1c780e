"""Settle enrol calls whose outcome the store does not know, from what Moodle lists.

Before each enrol call the applier writes its intents (store/intents.py) and marks them done with the
answer. A run killed between the call and that write, or an answer lost twice, leaves them pending; every
run that reads enrolments (plan, apply, roster import, pull) first settles them here, so an enrolment
the tool made is never left unknown to it (and so never left active when its person leaves a roster).

core_enrol_get_enrolled_users, with and without onlyactive, is all Moodle shows of an enrolment
(enrol/externallib.php): whether the person is enrolled, and whether the enrolment is current. An
intent is taken as done when Moodle shows what it set and not what the store had before; an enrolment
the store did not know is adopted when the person is enrolled (the tool enrols only people who were
not). When Moodle cannot tell (a change of dates only), the store keeps what it had: the next plan
then sends the dates again, which is harmless.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from moodle_sync import clock
from moodle_sync.errors import NotFound
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.enrolments import window_open
from moodle_sync.store.db import ManagedEnrolment, StateStore
from moodle_sync.store.intents import EnrolIntent, IntentStore


def settle_pending_enrolments(api: MoodleApi, store: StateStore, *, now: int | None = None,
                              progress: Callable[[str], None] | None = None) -> int:
    """Settle every pending enrolment intent; returns how many enrolments were adopted or updated."""
    intents = IntentStore(store)
    pending = intents.pending()
    if not pending:
        return 0
    moment = clock.epoch() if now is None else now
    say = progress or (lambda _m: None)
    by_course: dict[int, list[EnrolIntent]] = defaultdict(list)
    for intent in pending:
        by_course[intent.courseid].append(intent)
    adopted: list[ManagedEnrolment] = []
    for courseid, course_intents in sorted(by_course.items()):
        idnumber = course_intents[0].enrolment.course_idnumber
        say(f"settling {len(course_intents)} enrol call(s) in {idnumber} whose outcome was not recorded")
        try:
            everyone = {u.id for u in api.enrolled_users(courseid, only_active=False, fields="id")}
            active = {u.id for u in api.enrolled_users(courseid, only_active=True, fields="id")}
        except NotFound:
            everyone, active = set(), set()  # the course is gone: nothing of it to own
        managed = store.managed_enrolments(idnumber)
        # the latest intent per person decides (an earlier one was overtaken by it)
        latest = {i.enrolment.userid: i for i in course_intents}
        for uid, intent in latest.items():
            if _landed(intent.enrolment, managed.get(uid), uid in everyone, uid in active, moment):
                adopted.append(intent.enrolment)
    if adopted:
        store.set_enrolments(adopted)
    intents.close([i.id for i in pending], "settled")
    return len(adopted)


def _landed(wanted: ManagedEnrolment, known: ManagedEnrolment | None, enrolled: bool, listed_active: bool,
            now: int) -> bool:
    """Whether Moodle shows the enrolment as the intent set it (and the store should say so)."""
    if not enrolled:
        return False  # the call never landed (an enrol call only adds or updates)
    if known is None:
        return True   # the tool enrols only people who were not enrolled: this one is the tool's
    if _current(wanted, now) != _current(known, now):
        return listed_active == _current(wanted, now)
    return False      # Moodle cannot tell (dates only): keep what the store knows; the plan re-sends


def _current(e: ManagedEnrolment, now: int) -> bool:
    """Whether Moodle lists the enrolment with onlyactive: active status within its window."""
    return not e.suspended and window_open(e, now)
