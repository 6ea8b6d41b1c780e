"""plan/apply end to end against the emulator: convergence, versions, ownership, safety."""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from moodle_sync.emulator import Fault, SimulatedCrash
from moodle_sync.errors import ApplyError, PlanError
from moodle_sync.jobs.sync import apply as apply_specs
from moodle_sync.reconcile.plan import (
    CreateCourse,
    CreateSessionGroup,
    FieldChange,
    HideCourse,
    ImportTemplate,
    Plan,
    RecordVersion,
    UpdateCourse,
)
from moodle_sync.writing import settle as settle_module

from .conftest import URL, Site


def owned_courses(site: Site) -> dict[str, dict]:
    return {c["idnumber"]: c for c in site.courses() if "@" in c["idnumber"]}


def assert_no_duplicates(site: Site) -> None:
    courses = site.courses()
    for field in ("idnumber", "shortname"):
        values = [c[field] for c in courses if c[field]]
        dupes = [v for v, n in Counter(values).items() if n > 1]
        assert not dupes, f"duplicate course {field}s: {dupes}"
    cats = [c.idnumber for c in site.api().get_all_categories() if c.idnumber]
    assert len(cats) == len(set(cats)), f"duplicate categories: {cats}"


def test_first_apply_creates_everything_and_second_plan_is_empty_with_zero_writes(site: Site) -> None:
    specs = site.specs()
    report = site.apply()
    assert report.result.ok
    courses = owned_courses(site)
    assert set(courses) == {s.idnumber for s in specs.courses.values()}
    soc = courses["hrv-socialtjanst@1"]
    assert soc["shortname"] == "HRV-SOC-v1"
    assert soc["fullname"] == specs.courses["hrv-socialtjanst"].title
    cats = {c.idnumber: c for c in site.api().get_all_categories()}
    assert cats["cat:socialstyrelsen"].parent == cats["cat:vinr-hrv"].id
    assert soc["categoryid"] == cats["cat:socialstyrelsen"].id

    writes_before = site.emulator.write_calls()
    plan, api = site.plan()
    assert plan.actions == ()
    assert api.client.stats.snapshot()["writes"] == 0
    assert site.emulator.write_calls() == writes_before
    # apply again: nothing to do, nothing written
    again = site.apply()
    assert again.plan.actions == () and site.emulator.write_calls() == writes_before


def test_templates_are_imported_once_into_new_courses(site: Site) -> None:
    site.apply()
    counts = site.emulator.call_counts()
    with_template = [s for s in site.specs().courses.values() if s.template]
    assert counts["core_course_import_course"] == len(with_template)
    site.apply()
    assert site.emulator.call_counts()["core_course_import_course"] == len(with_template)


def test_apply_interrupted_after_each_call_converges_without_duplicates(site: Site, tmp_path) -> None:
    # a clean run tells how many calls an apply makes; each crash run starts from the site as it was before it
    fresh = site.save(tmp_path / "fresh.db")
    site.apply()
    total_calls = len(site.emulator.calls) - len(fresh.moodle.calls)
    expected = {k: (v["shortname"], v["fullname"], v["visible"]) for k, v in owned_courses(site).items()}
    assert total_calls > 10

    for n in range(total_calls):
        run = site
        run.restore(fresh, tmp_path / f"crash-{n}.db")
        run.emulator.faults.add(Fault(kind="crash", after=n))
        with pytest.raises(SimulatedCrash):
            run.apply()
            pytest.fail(f"no crash after call {n + 1} of {total_calls}: {run.emulator.calls}")
        run.emulator.faults.clear()
        run.apply()  # the rerun converges
        got = {k: (v["shortname"], v["fullname"], v["visible"]) for k, v in owned_courses(run).items()}
        assert got == expected, f"crash after call {n + 1} ({run.emulator.calls[len(fresh.moodle.calls) + n]})"
        assert_no_duplicates(run)
        imports = run.emulator.call_counts()["core_course_import_course"]
        assert imports == sum(1 for s in run.specs().courses.values() if s.template), \
            f"crash after call {n + 1}: template imported {imports} times"
        plan, _ = run.plan()
        assert plan.actions == (), f"crash after call {n + 1}: not converged: {plan.actions}"


def test_lost_answer_of_a_create_is_not_resent_blindly(site: Site) -> None:
    site.emulator.faults.add(Fault(kind="lost", wsfunction="core_course_create_courses"))
    report = site.apply()
    assert report.result.ok
    assert site.emulator.call_counts()["core_course_create_courses"] == 1  # the batch had landed
    assert_no_duplicates(site)
    assert len(owned_courses(site)) == len(site.specs().courses)


CREATE = "core_course_create_courses"


def test_a_create_whose_answer_was_lost_is_not_sent_again_in_the_same_run(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    # a proxy answers 504 while Moodle is (as far as the tool can know) still creating the courses:
    # Moodle checks uniqueness in PHP, so sending them again could make duplicates
    monkeypatch.setattr(settle_module, "LOST_ANSWER_WAIT", 0.05)
    site.emulator.faults.add(Fault(kind="http", wsfunction=CREATE, status=504, body="Gateway Timeout"))
    requests: list[bytes] = []
    real_handle = site.emulator.handle

    def counting(method: str, url: str, headers: Any, body: bytes) -> Any:
        requests.append(body)
        return real_handle(method, url, headers, body)

    monkeypatch.setattr(site.emulator, "handle", counting)
    with pytest.raises(ApplyError):
        site.apply()
    assert sum(f"wsfunction={CREATE}".encode() in r for r in requests) == 1  # re-read, never re-sent
    failed = [o for o in site.store(site.api()).outcomes(1) if o["status"] == "failed"]
    assert failed and all("was not sent again" in o["detail"] for o in failed)
    assert owned_courses(site) == {}
    assert site.apply().result.ok  # the next run re-reads, then creates
    assert_no_duplicates(site)
    assert len(owned_courses(site)) == len(site.specs().courses)


def test_a_create_that_lands_while_the_tool_waits_is_adopted(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[bytes] = []
    real_handle = site.emulator.handle

    creates = 0

    def proxy(method: str, url: str, headers: Any, body: bytes) -> Any:
        nonlocal creates
        if b"wsfunction=core_course_create_courses" in body:
            creates += 1
            if not sent:
                sent.append(body)
                return 504, {"Content-Type": "text/html"}, b"Gateway Timeout"  # Moodle has not finished yet
        return real_handle(method, url, headers, body)

    def moodle_finishes(_seconds: float) -> None:
        if sent and len(sent) == 1:
            sent.append(b"")
            real_handle("POST", f"{URL}/webservice/rest/server.php", {}, sent[0])  # the first call completes

    monkeypatch.setattr(site.emulator, "handle", proxy)
    monkeypatch.setattr(settle_module.time, "sleep", moodle_finishes)
    assert site.apply().result.ok
    assert creates == 1  # the tool sent it once; the first call is the one that ran
    assert_no_duplicates(site)
    assert len(owned_courses(site)) == len(site.specs().courses)


def test_a_rejected_batch_is_split_and_the_bad_course_named(site: Site) -> None:
    # a language pack the site does not have: Moodle rejects the whole create batch for this one course
    site.edit_course("nck-grundkurs-vinr", force_language=True, language="xx")
    with pytest.raises(ApplyError) as e:
        site.apply()
    failed = [k for k, v in e.value.outcome.items() if v == "failed"]
    assert failed == ["CreateCourse:nck-grundkurs-vinr@2"]
    assert "lang" in str(e.value) or "lang" in str(site.store(site.api()).outcomes(1))
    courses = owned_courses(site)
    assert "nck-grundkurs-vinr@2" not in courses
    assert len(courses) == len(site.specs().courses) - 1  # the good ones were applied
    assert site.emulator.call_counts()["core_course_create_courses"] > 1  # split to find the bad one


def test_minor_bump_updates_in_place_and_records_the_version(site: Site) -> None:
    site.apply()
    before = owned_courses(site)["hrv-socialtjanst@1"]
    site.edit_course("hrv-socialtjanst", version="1.1.0", title="HRV – socialtjänsten (reviderad)")
    plan, _ = site.plan()
    [update] = [a for a in plan.actions if isinstance(a, UpdateCourse)]
    assert update.from_version == "1.0.0" and update.to_version == "1.1.0"
    assert [c.field for c in update.changes] == ["fullname"]
    site.apply()
    after = owned_courses(site)["hrv-socialtjanst@1"]
    assert after["id"] == before["id"] and after["fullname"] == "HRV – socialtjänsten (reviderad)"
    assert site.plan()[0].actions == ()


def test_an_end_date_alone_is_sent_with_the_start_date_moodle_checks_it_against(site: Site) -> None:
    # Moodle validates only the dates it is sent: an enddate without startdate is nostartdatenoenddate
    site.apply()
    site.edit_course("hrv-socialtjanst", version="1.1.0", end_date="2027-06-30")
    plan, _ = site.plan()
    [update] = [a for a in plan.actions if isinstance(a, UpdateCourse)]
    assert {c.field for c in update.changes} == {"enddate", "startdate"}
    report = site.apply()
    assert report.result.ok
    course = owned_courses(site)["hrv-socialtjanst@1"]
    assert course["enddate"] > course["startdate"] > 0
    assert site.plan()[0].actions == ()


def test_a_weeks_course_keeps_the_spec_end_date_instead_of_moodles_automatic_one(site: Site) -> None:
    # format_weeks overwrites enddate from the sections unless automaticenddate is off
    site.edit_course("webbkurs-heder", format="weeks", end_date="2027-12-31")
    assert site.apply().result.ok
    course = owned_courses(site)["webbkurs-heder@1"]
    expected = datetime.datetime(2027, 12, 31, tzinfo=ZoneInfo("Europe/Stockholm"))
    assert abs(course["enddate"] - expected.timestamp()) <= 86400
    assert site.plan()[0].actions == ()  # converged: nothing to put back

    # a topics course turned into weeks by a spec: the option goes with the format
    site.edit_course("hrv-utbildare", version="1.1.0", format="weeks")
    plan, _ = site.plan()
    [update] = [a for a in plan.actions if isinstance(a, UpdateCourse)]
    assert {c.field for c in update.changes} >= {"format", "automaticenddate"}
    assert site.apply().result.ok
    assert site.plan()[0].actions == ()


def test_an_update_batch_moodle_refuses_is_split_and_the_good_updates_applied(site: Site) -> None:
    site.apply()
    for key in ("hrv-socialtjanst", "hrv-utbildare", "webbkurs-heder"):
        site.edit_course(key, version="1.1.0", title=f"Reviderad {key}")
    plan, api = site.plan()
    # one value Moodle's PARAM_TEXT would change (a tag) refuses the whole update_courses call
    bad = next(a for a in plan.actions if isinstance(a, UpdateCourse) and a.key == "hrv-utbildare")
    tampered = dataclasses.replace(bad, changes=(FieldChange("fullname", "x", "<b>Reviderad</b> hrv-utbildare"),))
    plan = dataclasses.replace(plan, actions=tuple(tampered if a is bad else a for a in plan.actions))
    with pytest.raises(ApplyError):
        apply_specs(api, site.specs(), site.store(api), plan=plan)
    courses = owned_courses(site)
    assert courses["hrv-socialtjanst@1"]["fullname"] == "Reviderad hrv-socialtjanst"
    assert courses["webbkurs-heder@1"]["fullname"] == "Reviderad webbkurs-heder"
    assert courses["hrv-utbildare@1"]["fullname"] != "Reviderad hrv-utbildare"
    failed = {o["target"]: o["detail"] for o in site.store(api).outcomes(2) if o["status"] == "failed"}
    assert list(failed) == ["hrv-utbildare@1"] and "invalidparameter" in failed["hrv-utbildare@1"]


def test_version_only_bump_writes_nothing_to_moodle(site: Site) -> None:
    site.apply()
    site.edit_course("skolverket-hrv-skolan", version="1.0.1", fee_sek=0)
    plan, _ = site.plan()
    assert [type(a) for a in plan.actions] == [RecordVersion]
    writes = site.emulator.write_calls()
    site.apply()
    assert site.emulator.write_calls() == writes
    assert site.plan()[0].actions == ()


def test_major_bump_creates_a_new_course_and_keeps_the_old_one(site: Site) -> None:
    site.apply()
    old = owned_courses(site)["hrv-socialtjanst@1"]
    site.edit_course("hrv-socialtjanst", version="2.0.0", hide_previous_versions=True)
    plan, _ = site.plan()
    kinds = [type(a) for a in plan.actions if not isinstance(a, CreateSessionGroup)]
    assert kinds == [CreateCourse, ImportTemplate, HideCourse]
    sessions = site.specs().courses["hrv-socialtjanst"].sessions
    groups = [a for a in plan.actions if isinstance(a, CreateSessionGroup)]
    assert {g.course_idnumber for g in groups} == {"hrv-socialtjanst@2"} and len(groups) == len(sessions)
    create = plan.actions[0]
    assert isinstance(create, CreateCourse) and create.supersedes == "hrv-socialtjanst@1"
    site.apply()
    courses = owned_courses(site)
    assert courses["hrv-socialtjanst@2"]["shortname"] == "HRV-SOC-v2"
    assert courses["hrv-socialtjanst@1"]["id"] == old["id"]          # kept, with its history
    assert courses["hrv-socialtjanst@1"]["visible"] == 0              # hidden, as the spec says
    assert site.plan()[0].actions == ()


def test_major_bump_without_hiding_leaves_the_old_course_visible(site: Site) -> None:
    site.apply()
    site.edit_course("hrv-socialtjanst", version="2.0.0")
    site.apply()
    courses = owned_courses(site)
    assert courses["hrv-socialtjanst@1"]["visible"] == 1 and "hrv-socialtjanst@2" in courses
    plan, _ = site.plan()
    assert plan.actions == () and any("stays visible" in n.message for n in plan.notes)


def test_hand_made_drift_is_planned_back_to_the_spec(site: Site) -> None:
    site.apply()
    course = owned_courses(site)["webbkurs-heder@1"]
    api = site.api()
    from moodle_sync.moodle.models import CourseUpdate
    api.update_courses([CourseUpdate(id=course["id"], fullname="Ändrad för hand", visible=0)])
    plan, _ = site.plan()
    [update] = plan.actions
    assert isinstance(update, UpdateCourse)
    assert {c.field: (c.old, c.new) for c in update.changes}["fullname"][0] == "Ändrad för hand"
    site.apply()
    assert owned_courses(site)["webbkurs-heder@1"]["visible"] == 1
    assert site.plan()[0].actions == ()


def test_removed_spec_keeps_its_course_and_hides_it_only_when_asked(site: Site) -> None:
    site.apply()
    site.remove_course("webbkurs-heder")
    plan, _ = site.plan()
    assert plan.actions == ()
    assert any("webbkurs-heder@1 has no spec" in n.message for n in plan.notes)
    plan, _ = site.plan(hide_removed=True)
    assert [type(a) for a in plan.actions] == [HideCourse]
    site.apply(hide_removed=True)
    assert owned_courses(site)["webbkurs-heder@1"]["visible"] == 0   # hidden, never deleted


def test_a_course_not_owned_by_the_tool_stops_the_plan(site: Site) -> None:
    cat = site.emulator.add_category("Manuellt", idnumber="")
    site.emulator.add_course("Handgjord kurs", "HRV-SOC-v1", cat, idnumber="")
    with pytest.raises(PlanError) as e:
        site.plan()
    assert "HRV-SOC-v1" in str(e.value) and "hrv-socialtjanst.yaml" in str(e.value)
    assert site.emulator.write_calls() == 0


def test_an_unowned_category_with_the_spec_name_stops_the_plan(site: Site) -> None:
    site.emulator.add_category("Våld i nära relationer och hedersrelaterat våld", idnumber="handgjord")
    with pytest.raises(PlanError, match="not managed by moodle-sync"):
        site.plan()


def test_missing_template_names_the_spec_file_and_line(site: Site) -> None:
    site.edit_course("hrv-utbildare", template="mall-finns-inte")
    with pytest.raises(PlanError) as e:
        site.plan()
    assert "mall-finns-inte" in str(e.value)
    assert "hrv-utbildare.yaml:" in str(e.value)


def test_turning_completion_off_is_refused(site: Site) -> None:
    site.apply()
    site.edit_course("nck-grundkurs-vinr", version="2.1.0", completion=False)
    with pytest.raises(PlanError, match="completions"):
        site.plan()


def test_a_saved_plan_is_refused_when_moodle_or_specs_changed(site: Site) -> None:
    plan, _ = site.plan()
    site.edit_course("webbkurs-heder", version="1.0.1", title="Ny titel")
    with pytest.raises(PlanError, match="specs changed"):
        site.apply(plan=Plan.from_dict(plan.to_dict()))
    plan, _ = site.plan()
    site.emulator.add_category("Ny kategori", idnumber="")
    with pytest.raises(PlanError, match="Moodle changed"):
        site.apply(plan=Plan.from_dict(plan.to_dict()))
    assert site.emulator.write_calls() == 0


def test_runs_and_outcomes_are_journaled(site: Site) -> None:
    report = site.apply()
    api = site.api()
    store = site.store(api)
    [run] = store.runs()
    assert run["status"] == "done" and run["plan_json"] and run["user"]
    outcomes = store.outcomes(report.run_id)
    assert {o["status"] for o in outcomes} == {"done"}
    assert len(outcomes) == len(report.plan.actions)
