"""The pure planner on older major versions: who moves, who keeps the old enrolment, who is suspended."""

from __future__ import annotations

import datetime

from moodle_sync.completions.deadlines import counted_version
from moodle_sync.moodle.models import Category, Course
from moodle_sync.reconcile.actual import ActualState
from moodle_sync.reconcile.diff import desired_course_fields
from moodle_sync.reconcile.enrolments import CourseEnrolments, EnrolmentState, plan_enrolments
from moodle_sync.reconcile.plan import Note, Plan, SyncEnrolments
from moodle_sync.specs.models import CategorySpec, CourseSpec, EnrolmentRule, TargetGroup
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import ManagedEnrolment

TODAY = datetime.date(2026, 6, 1)
NOW = int(datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC).timestamp())
RULE = EnrolmentRule(key="r1", course="kurs", target_groups=("socialsekreterare",), refresher_months=36)


def course(**over: object) -> CourseSpec:
    data: dict[str, object] = dict(key="kurs", version="1.0.0", title="Kurs", shortname="K", category="rot",
                                   summary="<p>S</p>", sections=3, start_date=datetime.date(2026, 1, 1),
                                   language="sv", provider="NCK", delivery="web", target_groups=("socialsekreterare",))
    data.update(over)
    return CourseSpec.model_validate(data)


def old_course() -> Course:
    """kurs@1 in Moodle."""
    return Course(id=10, idnumber="kurs@1", categoryid=5, **desired_course_fields(course()))


def old_enrolments(*users: int, suspended: tuple[int, ...] = ()) -> CourseEnrolments:
    managed = {u: ManagedEnrolment("kurs@1", u, 5, 0, 0, u in suspended, "r1") for u in users}
    return CourseEnrolments(everyone=set(users) | {99}, active=(set(users) - set(suspended)) | {99}, managed=managed)


def plan(state: EnrolmentState, rule: EnrolmentRule = RULE, **spec: object) -> tuple[list[SyncEnrolments], list[Note]]:
    s = SpecSet.from_specs([CategorySpec(key="rot", name="Rot")], [course(version="2.0.0", **spec)],
                           [TargetGroup(key="socialsekreterare", name="Socialsekreterare", sector="socialtjanst")],
                           rules=(rule,))
    moodle = ActualState(moodle_url="https://m", categories=[Category(id=5, name="Rot", idnumber="cat:rot", parent=0)],
                         courses={"kurs@1": old_course()})  # kurs@2 is made by the same plan
    notes: list[Note] = []
    found = plan_enrolments(s, moodle, state, {"student": 5}, TODAY, now=NOW, notes=notes)
    return found, notes


def test_who_has_not_completed_moves_who_completed_keeps_it_and_who_left_is_suspended() -> None:
    state = EnrolmentState(members={"tg:socialsekreterare:W": {1, 2, 3}}, courses={},
                           previous={"kurs@1": old_enrolments(1, 2, 4, 5, suspended=(5,))},
                           completions={2: {"kurs": [(1, datetime.date(2026, 3, 1))]}})
    [new, old] = plan(state)[0]
    # 2 completed @1 this year: not enrolled in @2 (refresher_months: 36); 3 is new to the course
    assert (new.idnumber, [i.userid for i in new.enrol]) == ("kurs@2", [1, 3])
    # 1 moves, 2 keeps @1, 4 left the rules; 5 (suspended already) and 99 (enrolled by someone else) are left alone
    assert (old.idnumber, old.newest, old.moved, old.kept) == ("kurs@1", "kurs@2", (1,), 1)
    assert ([i.userid for i in old.move], [i.userid for i in old.leave]) == ([1], [4])
    assert old.enrol == old.reactivate == old.redate == ()
    assert Plan.from_dict(Plan((new, old), (), "s", "m", "u").to_dict()).actions == (new, old)


def test_keep_suspends_only_who_left_the_rules() -> None:
    state = EnrolmentState(members={"tg:socialsekreterare:W": {1}}, courses={},
                           previous={"kurs@1": old_enrolments(1, 4)})
    [_new, old] = plan(state, previous_versions="keep")[0]
    assert (old.moved, [i.userid for i in old.leave], old.kept, old.previous_versions) == ((), [4], 1, "keep")


def test_a_completion_that_no_longer_counts_enrols_in_the_new_version_and_keeps_the_old_as_history() -> None:
    new_rules = RULE.model_copy(update={"require_new_major": True})
    state = EnrolmentState(members={"tg:socialsekreterare:W": {2}}, courses={},
                           previous={"kurs@1": old_enrolments(2)},
                           completions={2: {"kurs": [(1, datetime.date(2026, 3, 1))]}})
    actions, notes = plan(state, rule=new_rules)
    assert [(a.idnumber, [i.userid for i in a.enrol]) for a in actions] == [("kurs@2", [2])]
    assert [n.message for n in notes] == [
        "kurs@1 (an older version of kurs): 1 of the people enrolled in kurs@2 completed it and keep it as history"]


def test_a_deadline_is_counted_on_the_newest_version_a_person_is_active_in() -> None:
    assert counted_version([(1, True), (2, True)]) == 2
    assert counted_version([(1, True), (2, False)]) == 1
    assert counted_version([(1, False), (2, False)]) == 2
