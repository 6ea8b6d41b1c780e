"""The tool never forgets an enrolment it made: each enrol call's intent is in the store before the call,
so a run killed right after Moodle ran it, or an answer lost twice, is settled by the next run from what
Moodle lists, and the person is suspended when they later leave the roster."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.emulator import Fault, SimulatedCrash
from moodle_sync.errors import ApplyError
from moodle_sync.reconcile import apply as apply_module

from .conftest import Site
from .test_rosters import course_id, do_import, enrolment, person, user_id, write_roster

ENROL = "enrol_manual_enrol_users"
SOC = "hrv-socialtjanst@1"


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply_module, "LOST_ANSWER_WAIT", 0.0)


def leaver_is_suspended(site: Site, tmp_path: Path) -> None:
    """person 1 leaves the roster: the enrolment the tool made is suspended, never left active."""
    soc, leaver = course_id(site, SOC), user_id(site, person(1)["E-post"])
    assert enrolment(site, soc, leaver) is not None and enrolment(site, soc, leaver)[0] == 0  # type: ignore[index]
    do_import(site, write_roster(tmp_path / "left.csv", [person(0)]), allow_mass_removal=True)
    state = enrolment(site, soc, leaver)
    assert state is not None and state[0] == 1, "the leaver's enrolment stayed active"
    api = site.api()
    assert site.store(api).managed_enrolments(SOC)[leaver].suspended
    assert site.plan()[0].actions == ()


def test_a_run_killed_right_after_the_enrol_call_ran_still_owns_the_enrolments(site: Site, tmp_path: Path) -> None:
    site.apply()
    site.emulator.faults.add(Fault(kind="crash", wsfunction=ENROL))  # the call ran; the store was never told
    rows = [person(n) for n in range(2)]
    with pytest.raises(SimulatedCrash):
        do_import(site, write_roster(tmp_path / "w.csv", rows))
    site.emulator.faults.clear()
    plan, _ = site.plan()  # settles the pending intents from Moodle
    assert plan.actions == ()
    api = site.api()
    assert set(site.store(api).managed_enrolments(SOC)) == {user_id(site, r["E-post"]) for r in rows}
    leaver_is_suspended(site, tmp_path)


def test_enrolments_whose_answer_was_lost_twice_are_settled_by_the_next_run(site: Site, tmp_path: Path,
                                                                              no_pause: None) -> None:
    site.apply()
    site.emulator.faults.add(Fault(kind="lost", wsfunction=ENROL, times=None))
    with pytest.raises(ApplyError, match="lost twice"):
        do_import(site, write_roster(tmp_path / "w.csv", [person(n) for n in range(2)]))
    site.emulator.faults.clear()
    leaver_is_suspended(site, tmp_path)  # the import settles them first, then suspends the leaver


def test_an_enrol_call_moodle_refused_is_not_adopted(site: Site, tmp_path: Path) -> None:
    site.apply()
    site.emulator.faults.add(Fault(kind="exception", wsfunction=ENROL, times=None, error={
        "exception": "moodle_exception", "errorcode": "wsnoinstance", "message": "no manual instance"}))
    with pytest.raises(ApplyError):
        do_import(site, write_roster(tmp_path / "w.csv", [person(0)]))
    site.emulator.faults.clear()
    api = site.api()
    assert site.store(api).managed_enrolments(SOC) == {}
    plan, _ = site.plan()
    assert plan.actions and all(a.enrol for a in plan.actions)  # still to do, not taken as done
