"""The enrolments that follow a roster import, planned before anything is written (rosters/follow.py): for the
people it creates (by row), the accounts it names, and those who leave; nobody else."""

from __future__ import annotations

import datetime

from moodle_sync.moodle.models import Category, Course
from moodle_sync.reconcile.actual import ActualState
from moodle_sync.reconcile.diff import desired_course_fields
from moodle_sync.reconcile.enrolments import CourseEnrolments, EnrolmentState
from moodle_sync.reconcile.plan import Plan
from moodle_sync.rosters.actions import FollowedItem, FollowEnrolments
from moodle_sync.rosters.follow import CohortChange, PersonRef, plan_followed_enrolments
from moodle_sync.specs.models import CategorySpec, CourseSpec, EnrolmentRule, TargetGroup
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import ManagedEnrolment

TODAY = datetime.date(2026, 6, 1)
NOW = int(datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC).timestamp())
RULE = EnrolmentRule(key="r1", course="kurs", target_groups=("socialsekreterare",),
                     window_start=datetime.date(2026, 1, 1))
START, END = RULE.timestart, RULE.timeend
COHORT = "tg:socialsekreterare:W"

NEW = PersonRef("Ny Person", "ny@falun.example.se", row=7)
ANNA = PersonRef("Anna A", "anna@falun.example.se", userid=1)      # a row's account, enrolled already
BO = PersonRef("Bo B", "bo@falun.example.se", userid=2)            # a row's account, joins the cohort
CILLA = PersonRef("Cilla C", "cilla@falun.example.se", userid=3)   # leaves
DAN = PersonRef("Dan D", "dan@falun.example.se", userid=4)         # comes back (the tool suspended him)


def course(version: str) -> CourseSpec:
    return CourseSpec.model_validate(dict(
        key="kurs", version=version, title="Kurs", shortname="K", category="rot", summary="<p>S</p>", sections=3,
        start_date=datetime.date(2026, 1, 1), language="sv", provider="NCK", delivery="web",
        target_groups=("socialsekreterare",)))


def specs() -> SpecSet:
    return SpecSet.from_specs([CategorySpec(key="rot", name="Rot")], [course("2.0.0")],
                              [TargetGroup(key="socialsekreterare", name="Socialsekreterare", sector="socialtjanst")],
                              rules=(RULE,))


def moodle(*idnumbers: str) -> ActualState:
    courses = {idn: Course(id=10 + n, idnumber=idn, categoryid=5, **desired_course_fields(course("1.0.0")))
               for n, idn in enumerate(idnumbers)}
    return ActualState(moodle_url="https://m", categories=[Category(id=5, name="Rot", idnumber="cat:rot", parent=0)],
                       courses=courses)


def managed(idn: str, *users: int, suspended: tuple[int, ...] = ()) -> CourseEnrolments:
    rows = {u: ManagedEnrolment(idn, u, 5, START, END, u in suspended, "r1") for u in users}
    return CourseEnrolments(everyone=set(users), active=set(users) - set(suspended), managed=rows)


def follow(state: EnrolmentState, change: CohortChange, *idnumbers: str) -> dict[str, FollowEnrolments]:
    found = plan_followed_enrolments(specs(), moodle(*(idnumbers or ("kurs@2",))), state, change, {"student": 5},
                                     TODAY, now=NOW)
    return {a.idnumber: a for a in found}


def who(items: tuple[FollowedItem, ...]) -> list[tuple[int, int | None, str]]:
    return [(i.userid, i.row, i.email) for i in items]


def test_a_person_the_import_creates_is_enrolled_by_row_and_an_account_that_joins_by_user_id() -> None:
    # 50 is another member of the cohort whom the rules have not enrolled: not this import's to touch
    state = EnrolmentState(members={COHORT: {1, 50}}, courses={"kurs@2": managed("kurs@2", 1)})
    change = CohortChange("W", add=((COHORT, NEW), (COHORT, BO)), remove=(), people=(NEW, ANNA, BO))
    [(idn, action)] = follow(state, change).items()
    assert (idn, action.course_id, action.county) == ("kurs@2", 10, "W")
    assert who(action.enrol) == [(2, None, "bo@falun.example.se"), (0, 7, "ny@falun.example.se")]
    assert action.enrol[1].awaits_create and not action.enrol[0].awaits_create
    assert {(i.roleid, i.role, i.timestart, i.rule) for i in action.enrol} == {(5, "student", START, "r1")}
    assert action.suspend == action.reactivate == action.redate == ()


def test_who_leaves_is_suspended_with_the_dates_kept_and_who_comes_back_is_reactivated() -> None:
    state = EnrolmentState(members={COHORT: {1, 3}},
                           courses={"kurs@2": managed("kurs@2", 1, 3, 4, 60, suspended=(4,))})
    change = CohortChange("W", add=((COHORT, DAN),), remove=((COHORT, 3),), people=(ANNA, CILLA, DAN))
    action = follow(state, change)["kurs@2"]
    # 60 is no member any more either, but no row of this import names them: the spec sync's to suspend
    assert who(action.suspend) == [(3, None, "cilla@falun.example.se")]
    assert (action.suspend[0].timestart, action.suspend[0].timeend) == (START, END)
    assert who(action.reactivate) == [(4, None, "dan@falun.example.se")] and action.enrol == ()


def test_a_leaver_is_suspended_in_the_older_versions_too() -> None:
    state = EnrolmentState(members={COHORT: {3}}, courses={"kurs@2": managed("kurs@2", 3)},
                           previous={"kurs@1": managed("kurs@1", 3)})
    change = CohortChange("W", add=(), remove=((COHORT, 3),), people=(CILLA,))
    found = follow(state, change, "kurs@1", "kurs@2")
    assert {idn: who(a.suspend) for idn, a in found.items()} == {
        "kurs@2": [(3, None, "cilla@falun.example.se")], "kurs@1": [(3, None, "cilla@falun.example.se")]}
    assert found["kurs@1"].newest == "kurs@2" and found["kurs@1"].course_id == 10


def test_nothing_follows_when_the_members_stay_as_the_rules_have_them_or_the_course_is_not_made() -> None:
    state = EnrolmentState(members={COHORT: {1}}, courses={"kurs@2": managed("kurs@2", 1)})
    assert follow(state, CohortChange("W", add=(), remove=(), people=(ANNA,))) == {}
    fresh = EnrolmentState(members={COHORT: set()}, courses={})
    assert follow(fresh, CohortChange("W", add=((COHORT, NEW),), remove=(), people=(NEW,)), "kurs@1") == {}


def test_the_applier_resolves_a_created_person_by_row_and_drops_one_whose_create_failed() -> None:
    other = PersonRef("Annan", "annan@falun.example.se", row=8)
    change = CohortChange("W", add=((COHORT, NEW), (COHORT, other)), remove=(), people=(NEW, other))
    action = follow(EnrolmentState(members={COHORT: set()}, courses={}), change)["kurs@2"]
    again = Plan.from_dict(Plan((action,), (), "s", "m", "u").to_dict()).actions
    assert again == (action,)  # the plan file keeps who each enrolment is for
    resolved, lost = action.resolved({7: 701})
    assert who(resolved.enrol) == [(701, 7, "ny@falun.example.se")]
    assert who(tuple(lost)) == [(0, 8, "annan@falun.example.se")]
    assert resolved.id == action.id == "FollowEnrolments:kurs@2"
