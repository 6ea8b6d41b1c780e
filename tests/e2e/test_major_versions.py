"""What a new major version does to the enrolments of the old one, end to end on the emulator.

The shipped rule for hrv-socialtjanst (refresher_months: 36, no require_new_major) says that whoever took the
course need not take it again within three years; the course spec's ``previous_versions`` (move by default,
or keep) says what becomes of the old version's enrolments.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from moodle_sync import clock
from moodle_sync.cli import main
from moodle_sync.commands.exits import EXIT_ERROR
from moodle_sync.completions.facts import build_facts
from moodle_sync.completions.remind import plan_reminders
from moodle_sync.completions.report import make_report
from moodle_sync.emulator import Fault
from moodle_sync.errors import ApplyError
from moodle_sync.explainer import render_plan
from moodle_sync.jobs.sync import apply as apply_specs
from moodle_sync.reconcile.plan import Plan, SyncEnrolments
from moodle_sync.scope import Scope

from .conftest import Site
from .test_completions import STATUS, Spy, complete, course_ids, import_county, now_s, run_pull, teacher_marks_complete
from .test_deadlines import backdate, days_ago, set_rule, totals
from .test_rosters import do_import, person, write_roster

KEY = "hrv-socialtjanst"
OLD, NEW = f"{KEY}@1", f"{KEY}@2"
ACTIVE, SUSPENDED = 0, 1
ENROL = "enrol_manual_enrol_users"


def status(site: Site, idnumber: str, users: list[int]) -> list[int | None]:
    """Each person's manual enrolment in the course: 0 active, 1 suspended, None not enrolled."""
    course = course_ids(site)[idnumber]
    return [(e or {}).get("status") for e in (site.emulator.enrolment(course, u) for u in users)]


def older(plan: Plan, idnumber: str = OLD) -> SyncEnrolments:
    [action] = [a for a in plan.actions if isinstance(a, SyncEnrolments) and a.idnumber == idnumber]
    return action


def enrolled_by(plan: Plan, idnumber: str = NEW) -> list[int]:
    return sorted(i.userid for a in plan.actions if isinstance(a, SyncEnrolments) and a.idnumber == idnumber
                  for i in a.enrol)


def social_workers(site: Site, tmp_path: Path, n: int = 5) -> list[int]:
    """``n`` social workers of Dalarna, enrolled in hrv-socialtjanst@1 by the rules."""
    site.apply()
    return import_county(site, tmp_path, [person(i) for i in range(n)], "W")


def test_a_major_bump_moves_who_has_not_completed_and_keeps_the_completed_as_history(
        site: Site, tmp_path: Path) -> None:
    people = social_workers(site, tmp_path)
    old_id = course_ids(site)[OLD]
    for uid in people[:2]:
        complete(site, old_id, uid, [now_s(), now_s()], visit=now_s())
    run_pull(site)  # the store knows people 0 and 1 completed @1
    teacher_marks_complete(site, old_id, people[4])  # Moodle knows person 4 did; no pull has seen it
    site.edit_course(KEY, version="2.0.0")

    plan, _ = site.plan()
    old = older(plan)
    assert (old.newest, sorted(old.moved), old.kept, old.leave) == (NEW, people[2:], 2, ())
    # whoever took @1 need not take it again within the rule's 36 months: not enrolled in @2
    assert enrolled_by(plan) == people[2:]
    text = render_plan(plan)
    assert (f"enrolments in {OLD}, an older version of {KEY} (the rules enrol in {NEW}): 3 not completed move to @2 "
            f"(old enrolment suspended, progress kept), 2 completed keep it as history") in text
    said = next(a for a in json.loads(plan.to_json())["actions"] if a["id"] == f"SyncEnrolments:{OLD}")
    assert said["old_enrolments"] == {"move": 3, "keep": 2, "suspend_left_rules": 0}
    assert said["moved"] == sorted(people[2:])

    spy = Spy(site)
    api = spy.api()
    store = site.store(api)
    report = apply_specs(api, site.specs(), store)
    assert report.result.ok
    # Moodle is asked once about each person who moves, and about nobody else
    assert sorted(int(p["userid"]) for f, p in spy.calls if f == STATUS) == people[2:]
    detail = next(o["detail"] for o in store.outcomes(report.run_id) if o["action_id"] == f"SyncEnrolments:{OLD}")
    assert "1 kept: Moodle reports them complete here" in detail
    store.close()

    # suspended, never unenrolled (their progress stays in @1); the completed keep @1 as it was
    assert status(site, OLD, people) == [ACTIVE, ACTIVE, SUSPENDED, SUSPENDED, ACTIVE]
    assert status(site, NEW, people) == [None, None, ACTIVE, ACTIVE, ACTIVE]
    # until a pull records person 4's completion, each plan lists them and each apply asks Moodle again; the
    # sweep (a teacher's mark is no visit) records it, and the plan has nothing left to do
    run_pull(site, sweep_days=0)
    assert site.plan()[0].actions == ()


def test_nobody_is_suspended_in_the_old_version_before_their_new_enrolment_went_through(
        site: Site, tmp_path: Path) -> None:
    people = social_workers(site, tmp_path, 3)
    site.edit_course(KEY, version="2.0.0")
    refusal = {"exception": "moodle_exception", "errorcode": "wsnoinstance", "message": "no manual instance"}
    site.emulator.faults.add(Fault(kind="exception", wsfunction=ENROL, error=refusal))  # @2's enrol call, once
    with pytest.raises(ApplyError):
        site.apply()
    assert status(site, NEW, people) == [None] * 3
    assert status(site, OLD, people) == [ACTIVE] * 3  # still in the old version: they have a course to take
    api = site.api()
    store = site.store(api)
    last = store.runs(1)[0]["id"]
    detail = next(o["detail"] for o in store.outcomes(last) if o["action_id"] == f"SyncEnrolments:{OLD}")
    store.close()
    assert f"3 kept until their enrolment in {NEW} goes through" in detail
    site.apply()  # the next run moves them
    assert (status(site, NEW, people), status(site, OLD, people)) == ([ACTIVE] * 3, [SUSPENDED] * 3)


def test_keep_leaves_the_old_enrolments_and_a_later_removal_suspends_every_version(
        site: Site, tmp_path: Path) -> None:
    people = social_workers(site, tmp_path, 4)
    site.edit_course(KEY, version="2.0.0", previous_versions="keep")
    plan, _ = site.plan()
    assert not [a for a in plan.actions if isinstance(a, SyncEnrolments) and a.idnumber == OLD]
    assert any(f"{OLD} (an older version of {KEY}): 4 of the people enrolled in {NEW} keep their enrolment here "
               f"as it is (previous_versions: keep" in n.message for n in plan.notes)
    site.apply()
    assert status(site, OLD, people) == [ACTIVE] * 4
    assert status(site, NEW, people) == [ACTIVE] * 4

    # person 3 leaves the roster: the tool's enrolments in both versions are suspended
    do_import(site, write_roster(tmp_path / "w-after.csv", [person(i) for i in range(3)]), county="W",
              allow_mass_removal=True)
    assert status(site, OLD, people) == [ACTIVE, ACTIVE, ACTIVE, SUSPENDED]
    assert status(site, NEW, people) == [ACTIVE, ACTIVE, ACTIVE, SUSPENDED]
    assert site.plan()[0].actions == ()


def test_a_leaver_the_roster_import_did_not_reach_is_suspended_in_the_old_version_by_apply(
        site: Site, tmp_path: Path) -> None:
    people = social_workers(site, tmp_path, 3)
    complete(site, course_ids(site)[OLD], people[0], [now_s(), now_s()], visit=now_s())
    run_pull(site)
    site.edit_course(KEY, version="2.0.0")
    site.apply()
    assert status(site, OLD, people) == [ACTIVE, SUSPENDED, SUSPENDED]
    # person 0 (completed @1, kept as history) leaves the target group in Moodle, not through a roster
    api = site.api()
    cohort = next(c for c in api.search_cohorts("tg:socialsekreterare:W") if c.idnumber == "tg:socialsekreterare:W")
    api.delete_cohort_members([(cohort.id, people[0])])
    plan, _ = site.plan()
    old = older(plan)
    assert ([i.userid for i in old.leave], old.moved) == ([people[0]], ())
    assert "1 no longer in the rules: suspend (never unenrol)" in render_plan(plan)
    site.apply()
    assert status(site, OLD, people) == [SUSPENDED] * 3


def test_a_person_is_counted_once_per_course_on_the_newest_version_they_are_active_in(
        site: Site, tmp_path: Path) -> None:
    set_rule(site, "hrv-soc-socialtjansten", existing_staff_deadline_days=100)
    people = social_workers(site, tmp_path, 3)
    backdate(site, "UPDATE enrolments SET enrolled_at=? WHERE course_idnumber=?", days_ago(200), OLD)
    site.edit_course(KEY, version="2.0.0", previous_versions="keep")  # active in both versions
    site.apply()
    run_pull(site)

    api = site.api()
    store = site.store(api)
    try:
        facts = [f for f in build_facts(site.specs(), store, Scope()) if f.course_key == KEY]
        # two enrolments each, one deadline each: on @2, 100 days from its enrolment
        assert sorted((f.person, f.major, f.status) for f in facts) == sorted(
            (u, m, "active") for u in people for m in (1, 2))
        due = {(f.person, f.major): f.deadline for f in facts}
        assert {m for (_, m), d in due.items() if d is not None} == {2}
        assert all(due[(u, 2)] == clock.today() + datetime.timedelta(days=100) for u in people)
        text = make_report(site.specs(), store, scope=Scope(), preset=None, dimensions=["course"], period=None,
                           fmt="csv", out=None) or ""
        assert totals(text)["Ej genomförda, sista dag passerad"] == "0"  # @1's old deadline passed 100 days ago
        reminders = plan_reminders(api, site.specs(), store, before=datetime.timedelta(days=14),
                                   interval=datetime.timedelta(days=30), scope=Scope(), overdue=True)
        assert [a for a in reminders.actions if KEY in getattr(a, "course_idnumber", "")] == []
    finally:
        store.close()


def test_previous_versions_takes_move_or_keep_and_validate_names_the_line(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site.edit_course(KEY, previous_versions="moved")
    with pytest.raises(SystemExit) as e:
        main(["validate", str(site.specs_dir)])
    assert e.value.code == EXIT_ERROR
    err = capsys.readouterr().err
    line = next(n for n, text in enumerate((site.specs_dir / "courses" / f"{KEY}.yaml").read_text().splitlines(), 1)
                if text.startswith("previous_versions:"))
    assert f"{KEY}.yaml:{line}: [previous_versions] 'moved' is not one of 'move' or 'keep'" in err
