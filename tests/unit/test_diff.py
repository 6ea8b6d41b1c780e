"""The pure planner: exact actions for given specs and a given Moodle state (no I/O)."""

from __future__ import annotations

import datetime

import pytest

from moodle_sync.errors import PlanError
from moodle_sync.moodle.models import Category, Cohort, Course
from moodle_sync.reconcile.actual import ActualState, spec_hash
from moodle_sync.reconcile.cohorts import desired_cohorts
from moodle_sync.reconcile.diff import build_plan, desired_course_fields
from moodle_sync.reconcile.enrolments import CourseEnrolments, EnrolmentState, plan_enrolments
from moodle_sync.reconcile.plan import (
    CreateCategory,
    CreateCohort,
    CreateCourse,
    HideCohort,
    HideCourse,
    ImportTemplate,
    Note,
    Plan,
    SyncEnrolments,
    UpdateCourse,
)
from moodle_sync.specs.fields import STOCKHOLM, add_months
from moodle_sync.specs.models import CategorySpec, CourseSpec, EnrolmentRule, TargetGroup
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import ManagedEnrolment, OwnedObject

ROOT = CategorySpec(key="rot", name="Rot")
TG = TargetGroup(key="socialsekreterare", name="Socialsekreterare", sector="socialtjanst")


def course(**over: object) -> CourseSpec:
    data: dict[str, object] = dict(key="kurs", version="1.0.0", title="Kurs", shortname="K", category="rot",
                                   summary="<p>S</p>", sections=3, start_date=datetime.date(2026, 1, 1),
                                   language="sv", provider="NCK", delivery="web", target_groups=("socialsekreterare",))
    data.update(over)
    return CourseSpec.model_validate(data)


def specs(*courses: CourseSpec, rules: tuple[EnrolmentRule, ...] = ()) -> SpecSet:
    return SpecSet.from_specs([ROOT], courses, [TG], rules=rules)


def moodle_course(spec: CourseSpec, cid: int = 10, catid: int = 5, **over: object) -> Course:
    fields = desired_course_fields(spec)
    fields.update(over)
    return Course(id=cid, idnumber=spec.idnumber, categoryid=catid, **fields)


def all_cohorts(s: SpecSet) -> dict[str, Cohort]:
    return {idn: Cohort(id=i, name=c.name, idnumber=idn, description=c.description, visible=True)
            for i, (idn, c) in enumerate(sorted(desired_cohorts(s).items()), 100)}


def actual(s: SpecSet, courses: list[Course] = (), **kw: object) -> ActualState:  # type: ignore[assignment]
    cats = [Category(id=5, name="Rot", idnumber="cat:rot", parent=0)]
    # the store remembers the spec version applied to each course that matches a spec
    remembered = {spec.idnumber: OwnedObject("course", spec.idnumber, c.id, spec.key, spec.version, spec_hash(spec),
                                             True)
                  for spec in s.courses.values() for c in courses if c.idnumber == spec.idnumber}
    return ActualState(moodle_url="https://m", categories=cats, courses={c.idnumber: c for c in courses},
                       cohorts=kw.pop("cohorts", all_cohorts(s)), remembered=remembered,  # type: ignore[arg-type]
                       **kw)  # type: ignore[arg-type]


def test_empty_moodle_gets_category_course_import_and_cohorts_in_dependency_order() -> None:
    s = specs(course(template="mall"))
    empty = ActualState(moodle_url="https://m", categories=[], courses={},
                        templates={"mall": Course(id=3, fullname="Mall", shortname="mall", idnumber="mall")})
    plan = build_plan(s, empty)
    kinds = [type(a) for a in plan.actions]
    assert kinds[:3] == [CreateCategory, CreateCourse, ImportTemplate]
    assert kinds[3:] == [CreateCohort] * 21
    create = plan.actions[1]
    assert isinstance(create, CreateCourse)
    assert create.fields["shortname"] == "K-v1" and create.fields["idnumber"] == "kurs@1"
    assert create.fields["numsections"] == 3 and "lang" not in create.fields


def test_in_sync_gives_no_actions_and_drift_gives_an_exact_update() -> None:
    spec = course()
    s = specs(spec)
    assert build_plan(s, actual(s, [moodle_course(spec)])).actions == ()
    plan = build_plan(s, actual(s, [moodle_course(spec, fullname="Ändrad", visible=0)]))
    [update] = plan.actions
    assert isinstance(update, UpdateCourse)
    assert {c.field: (c.old, c.new) for c in update.changes} == {"fullname": ("Ändrad", "Kurs"), "visible": (0, 1)}


def test_major_bump_plans_a_new_course_and_hides_the_old_only_when_asked() -> None:
    old = course()
    new = course(version="2.0.0")
    s = specs(new)
    plan = build_plan(s, actual(s, [moodle_course(old)]))
    assert [type(a) for a in plan.actions] == [CreateCourse]
    assert any("stays visible" in n.message for n in plan.notes)
    s2 = specs(course(version="2.0.0", hide_previous_versions=True))
    plan2 = build_plan(s2, actual(s2, [moodle_course(old)]))
    assert [type(a) for a in plan2.actions] == [CreateCourse, HideCourse]


def test_completion_off_on_an_existing_course_is_refused() -> None:
    spec = course(version="1.1.0", completion=False)
    s = specs(spec)
    with pytest.raises(PlanError, match="completions"):
        build_plan(s, actual(s, [moodle_course(spec, enablecompletion=1)]))


def test_cohorts_of_a_dropped_target_group_are_hidden_not_deleted() -> None:
    s = specs(course())
    cohorts = all_cohorts(s)
    cohorts["tg:gammal-grupp:W"] = Cohort(id=999, name="Gammal – Dalarnas län", idnumber="tg:gammal-grupp:W")
    plan = build_plan(s, actual(s, [moodle_course(course())], cohorts=cohorts))
    [hide] = plan.actions
    assert isinstance(hide, HideCohort) and hide.moodle_id == 999


def test_plan_round_trips_through_json() -> None:
    s = specs(course(template="mall"))
    empty = ActualState(moodle_url="https://m", categories=[], courses={},
                        templates={"mall": Course(id=3, fullname="Mall", shortname="mall", idnumber="mall")})
    plan = build_plan(s, empty)
    assert Plan.from_dict(plan.to_dict()) == plan


RULE = EnrolmentRule(key="r1", course="kurs", target_groups=("socialsekreterare",), role="student",
                     window_start=datetime.date(2026, 1, 1), window_end=datetime.date(2026, 12, 31),
                     refresher_months=12)


def enrolment_plan(state: EnrolmentState, rule: EnrolmentRule = RULE, today: datetime.date = datetime.date(2026, 6, 1)):
    spec = course()
    s = specs(spec, rules=(rule,))
    return plan_enrolments(s, actual(s, [moodle_course(spec)]), state, {"student": 5}, today)


def test_enrolments_enrol_new_members_suspend_leavers_reactivate_returners_with_rule_dates() -> None:
    managed = {
        2: ManagedEnrolment("kurs@1", 2, 5, RULE.timestart, RULE.timeend, False, "r1"),   # leaves
        3: ManagedEnrolment("kurs@1", 3, 5, RULE.timestart, RULE.timeend, True, "r1"),    # comes back
        4: ManagedEnrolment("kurs@1", 4, 5, RULE.timestart, RULE.timeend, False, "r1"),   # as desired
    }
    state = EnrolmentState(members={"tg:socialsekreterare:W": {1, 3, 4}, "tg:socialsekreterare:AB": {5}},
                           courses={"kurs@1": CourseEnrolments(everyone={2, 3, 4, 9}, active={2, 4, 9},
                                                               managed=managed)})
    [action] = enrolment_plan(state)
    assert [i.userid for i in action.enrol] == [1, 5]
    assert [i.userid for i in action.suspend] == [2]       # 9 was enrolled by hand: never touched
    assert [i.userid for i in action.reactivate] == [3]
    assert action.redate == ()
    for item in (*action.enrol, *action.suspend, *action.reactivate):
        assert (item.timestart, item.timeend) == (RULE.timestart, RULE.timeend)


def test_nothing_is_sent_for_enrolments_already_as_desired() -> None:
    managed = {1: ManagedEnrolment("kurs@1", 1, 5, RULE.timestart, RULE.timeend, False, "r1")}
    state = EnrolmentState(members={"tg:socialsekreterare:W": {1}},
                           courses={"kurs@1": CourseEnrolments(everyone={1}, active={1}, managed=managed)})
    assert enrolment_plan(state) == []


def test_refresher_interval_spares_recent_completers_unless_a_new_major_is_required() -> None:
    done = {7: {"kurs": [(1, datetime.date(2026, 1, 15))]}}   # completed version 1 this year
    state = EnrolmentState(members={"tg:socialsekreterare:W": {7}}, courses={}, completions=done)
    assert enrolment_plan(state) == []
    # a year and more later, the interval has passed: enrolled again
    [action] = enrolment_plan(state, today=datetime.date(2027, 2, 1))
    assert [i.userid for i in action.enrol] == [7]


def test_require_new_major_ignores_completions_of_older_versions() -> None:
    rule = EnrolmentRule(key="r1", course="kurs", target_groups=("socialsekreterare",), refresher_months=24,
                         require_new_major=True)
    spec = course(version="2.0.0")
    s = specs(spec, rules=(rule,))
    state = EnrolmentState(members={"tg:socialsekreterare:W": {7}}, courses={},
                           completions={7: {"kurs": [(1, datetime.date(2026, 1, 15))]}})
    [action] = plan_enrolments(s, actual(s, [moodle_course(spec)]), state, {"student": 5}, datetime.date(2026, 6, 1))
    assert [i.userid for i in action.enrol] == [7]


def test_unknown_role_is_a_plan_error_naming_the_rule() -> None:
    rule = EnrolmentRule(key="r1", course="kurs", target_groups=("socialsekreterare",), role="handledare")
    state = EnrolmentState(members={}, courses={})
    with pytest.raises(PlanError, match="handledare"):
        enrolment_plan(state, rule=rule)


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2026, 11, 15), 14) == datetime.date(2028, 1, 15)


# --- enrolment windows: onlyactive=1 leaves out enrolments outside their window, not only suspended ones

def stockholm(day: datetime.date) -> int:
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM).timestamp())


JUNE_2026 = stockholm(datetime.date(2026, 6, 1))


def window_state(members: set[int], managed: dict[int, ManagedEnrolment]) -> EnrolmentState:
    # none of them is in the onlyactive listing: their window has not opened (or has closed)
    return EnrolmentState(members={"tg:socialsekreterare:W": members},
                          courses={"kurs@1": CourseEnrolments(everyone=set(managed), active=set(), managed=managed)})


def window_plan(state: EnrolmentState, rule: EnrolmentRule, now: int) -> list[SyncEnrolments]:
    spec = course()
    s = specs(spec, rules=(rule,))
    return plan_enrolments(s, actual(s, [moodle_course(spec)]), state, {"student": 5}, datetime.date(2026, 6, 1),
                           now=now)


def test_an_enrolment_whose_window_has_not_opened_is_not_taken_for_suspended() -> None:
    later = RULE.model_copy(update=dict(window_start=datetime.date(2026, 9, 1)))
    as_sent = {1: ManagedEnrolment("kurs@1", 1, 5, later.timestart, later.timeend, False, "r1"),
               2: ManagedEnrolment("kurs@1", 2, 5, later.timestart, later.timeend, False, "r1")}
    # 1 is as desired (nothing to send); 2 left the cohort before the window opened: suspended now
    [action] = window_plan(window_state({1}, as_sent), later, JUNE_2026)
    assert action.counts() == {"enrol": 0, "reactivate": 0, "suspend": 1, "redate": 0}
    assert [i.userid for i in action.suspend] == [2]
    # the window moved earlier: re-dated now, not once the old start has passed
    sooner = later.model_copy(update=dict(window_start=datetime.date(2026, 5, 1)))
    [action] = window_plan(window_state({1, 2}, as_sent), sooner, JUNE_2026)
    assert [(i.userid, i.timestart) for i in action.redate] == [(1, sooner.timestart), (2, sooner.timestart)]


def test_a_closed_window_that_the_rule_extends_is_re_dated() -> None:
    closed = RULE.model_copy(update=dict(window_end=datetime.date(2026, 3, 31)))
    managed = {1: ManagedEnrolment("kurs@1", 1, 5, closed.timestart, closed.timeend, False, "r1")}
    [action] = window_plan(window_state({1}, managed), RULE, JUNE_2026)
    assert [(i.userid, i.timeend) for i in action.redate] == [(1, RULE.timeend)]
    assert action.reactivate == () and action.enrol == ()


def test_a_suspension_made_by_hand_inside_the_window_is_left_alone() -> None:
    managed = {1: ManagedEnrolment("kurs@1", 1, 5, RULE.timestart, RULE.timeend, False, "r1")}
    assert window_plan(window_state({1}, managed), RULE, JUNE_2026) == []


def test_a_rule_that_changes_role_warns_and_never_sends_the_new_role_to_enrolled_people() -> None:
    teacher = RULE.model_copy(update=dict(role="editingteacher", window_end=datetime.date(2027, 6, 30)))
    managed = {1: ManagedEnrolment("kurs@1", 1, 5, RULE.timestart, RULE.timeend, False, "r1")}
    state = EnrolmentState(members={"tg:socialsekreterare:W": {1, 2}},
                           courses={"kurs@1": CourseEnrolments(everyone={1}, active={1}, managed=managed)})
    spec = course()
    s = specs(spec, rules=(teacher,))
    notes: list[Note] = []
    [action] = plan_enrolments(s, actual(s, [moodle_course(spec)]), state, {"student": 5, "editingteacher": 3},
                               datetime.date(2026, 6, 1), now=JUNE_2026, notes=notes)
    assert [(i.userid, i.roleid) for i in action.enrol] == [(2, 3)]       # new people get the new role
    assert [(i.userid, i.roleid) for i in action.redate] == [(1, 5)]      # the date change keeps the old one
    assert len(notes) == 1 and "1 enrolled people a different role" in notes[0].message
