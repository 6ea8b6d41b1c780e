"""Teacher-led sessions: a group per session, people placed only when enrolled and within capacity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moodle_sync import clock
from moodle_sync.commands.exits import EXIT_OK
from moodle_sync.config import Hub
from moodle_sync.emulator import Fault
from moodle_sync.errors import ApplyError, PlanError, ScopeError
from moodle_sync.jobs.sessions import place_people
from moodle_sync.reconcile.plan import Plan
from moodle_sync.scope import Scope
from moodle_sync.sessions import AddGroupMembers, AssignResult, plan_placement

from .conftest import Site, run
from .test_rosters import do_import, person, write_roster


@pytest.fixture
def enrolled(site: Site, tmp_path: Path) -> Site:
    site.edit_course("hrv-socialtjanst", sessions=[
        {"key": "falun-2026-03", "date": "2026-03-10", "place": "Falun, Länsstyrelsen Dalarna", "county": "W",
         "capacity": 3},
        {"key": "stockholm-2026-05", "date": "2026-05-19", "place": "Stockholm", "county": "AB", "capacity": 30}])
    site.apply()
    do_import(site, write_roster(tmp_path / "w.csv", [person(n) for n in range(6)]))
    return site


def place(site: Site, *emails: str, session: str = "falun-2026-03", scope: Scope | None = None) -> AssignResult:
    """The placement planned and applied through the one Applier (what `session assign` does)."""
    api = site.api()
    store = site.store(api)
    try:
        plan = plan_placement(api, site.specs(), course_key="hrv-socialtjanst", session_key=session,
                              emails=list(emails), scope=scope or Scope(), store=store)
        return place_people(api, store, plan)
    finally:
        store.close()


def test_each_session_is_a_group_with_its_idnumber(enrolled: Site) -> None:
    api = enrolled.api()
    course = api.course_by_idnumber("hrv-socialtjanst@1")
    assert course is not None
    groups = {g.idnumber: g.name for g in api.course_groups(course.id)}
    assert groups["hrv-socialtjanst@1:falun-2026-03"] == "Lärarlett tillfälle Falun 2026-03-10"
    assert "hrv-socialtjanst@1:stockholm-2026-05" in groups
    assert enrolled.plan()[0].actions == ()


def test_enrolled_people_are_placed_and_capacity_is_never_exceeded(enrolled: Site) -> None:
    result = place(enrolled, "person0@falun.example.se", "person1@falun.example.se")
    assert result.added == ["person0@falun.example.se", "person1@falun.example.se"]
    writes = enrolled.emulator.write_calls()
    with pytest.raises(PlanError, match="1 left"):
        place(enrolled, "person2@falun.example.se", "person3@falun.example.se")
    assert enrolled.emulator.write_calls() == writes  # nobody placed
    again = place(enrolled, "person0@falun.example.se", "person2@falun.example.se")
    assert again.already == ["person0@falun.example.se"] and again.members_after == 3


def test_people_not_enrolled_are_refused_before_anything_is_written(enrolled: Site) -> None:
    api = enrolled.api()
    from moodle_sync.moodle.models import NewUser
    api.create_users([NewUser(username="utan", createpassword=1, firstname="U", lastname="T",
                              email="utan@example.se")])
    writes = enrolled.emulator.write_calls()
    with pytest.raises(PlanError, match="not enrolled"):
        place(enrolled, "person0@falun.example.se", "utan@example.se")
    assert enrolled.emulator.write_calls() == writes


def test_a_hub_places_people_only_in_its_own_countys_sessions(enrolled: Site) -> None:
    dalarna = Scope.for_hub("dalarna", Hub(county="W"))
    with pytest.raises(ScopeError):
        place(enrolled, "person0@falun.example.se", session="stockholm-2026-05", scope=dalarna)
    assert place(enrolled, "person0@falun.example.se", scope=dalarna).added


def test_people_whose_enrolment_window_has_not_opened_can_be_given_their_session(enrolled: Site) -> None:
    # Moodle lets anyone enrolled join a group (is_enrolled without onlyactive): the course may open later
    api = enrolled.api()
    course = api.course_by_idnumber("hrv-socialtjanst@1")
    assert course is not None
    newcomer = enrolled.emulator.add_user("senare", "Kommer", "Senare", "senare@falun.example.se")
    enrolled.emulator.enrol_user(course.id, newcomer, timestart=clock.epoch() + 30 * 86400)
    assert newcomer not in {u.id for u in api.enrolled_users(course.id, only_active=True)}
    assert place(enrolled, "senare@falun.example.se").added == ["senare@falun.example.se"]


# --- a placement is a plan: the explainer prints it, the one applier writes it -----------------------------

ADD = "core_group_add_group_members"


def plan_of(site: Site, *emails: str) -> Plan:
    api = site.api()
    return plan_placement(api, site.specs(), course_key="hrv-socialtjanst", session_key="falun-2026-03",
                          emails=list(emails), scope=Scope())


def group_members(site: Site) -> set[int]:
    api = site.api()
    course = api.course_by_idnumber("hrv-socialtjanst@1")
    assert course is not None
    group = next(g for g in api.course_groups(course.id) if g.idnumber == "hrv-socialtjanst@1:falun-2026-03")
    return api.group_members([group.id]).get(group.id, set())


def test_session_assign_dry_run_prints_the_plan_and_json_is_that_plan(
        enrolled: Site, served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["session", "assign", "--course", "hrv-socialtjanst", "--session", "falun-2026-03",
            "--email", "person0@falun.example.se", "--email", "person1@falun.example.se"]
    capsys.readouterr()
    assert run(*args, "--dry-run") == EXIT_OK
    said = capsys.readouterr().out
    assert "Would place 2 in hrv-socialtjanst@1:falun-2026-03; 0 already there; 3 places left." in said
    assert "+ place 2 people in session falun-2026-03" in said and "person0@falun.example.se" in said
    assert run(*args, "--dry-run", "--json") == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["added"] == ["person0@falun.example.se", "person1@falun.example.se"] and doc["places_left"] == 3
    [action] = Plan.from_dict(doc["plan"]).actions  # the plan file's reader knows the action
    assert isinstance(action, AddGroupMembers) and [m.email for m in action.members] == doc["added"]
    assert enrolled.emulator.call_counts().get(ADD, 0) == 0 and group_members(enrolled) == set()

    assert run(*args, "--json") == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["added"] == ["person0@falun.example.se", "person1@falun.example.se"] and doc["places_left"] == 1
    assert len(group_members(enrolled)) == 2
    store = enrolled.store(enrolled.api())
    try:
        [last] = store.runs(1)
        assert last["command"] == "session assign" and last["status"] == "done"
        assert [o["status"] for o in store.outcomes(last["id"])] == ["done"]
    finally:
        store.close()


def test_the_applier_keeps_the_capacity_when_the_group_filled_up_after_the_plan(enrolled: Site) -> None:
    plan = plan_of(enrolled, "person0@falun.example.se", "person1@falun.example.se")
    place(enrolled, "person2@falun.example.se", "person3@falun.example.se")  # two of three places go meanwhile
    api = enrolled.api()
    store = enrolled.store(api)
    try:
        with pytest.raises(ApplyError, match="3 places and 2 taken: 2 more do not fit"):
            place_people(api, store, plan)
    finally:
        store.close()
    assert enrolled.emulator.call_counts()[ADD] == 1 and len(group_members(enrolled)) == 2


def test_a_lost_answer_is_settled_by_reading_the_group_and_nobody_is_placed_twice(enrolled: Site) -> None:
    # group/externallib.php add_group_members → groups_add_member(): an existing member is a no-op, so a
    # member that does not show after a lost answer may be sent once more; one that shows is not
    enrolled.emulator.faults.add(Fault("lost", ADD))
    placed = place(enrolled, "person0@falun.example.se")
    assert placed.added == ["person0@falun.example.se"] and placed.members_after == 1
    assert len(group_members(enrolled)) == 1 and enrolled.emulator.call_counts()[ADD] == 1  # shown: not re-sent
    # a proxy that never forwards the call: not shown, sent once more, still not shown: the action fails
    enrolled.emulator.faults.add(Fault.gateway(502, ADD, ran=False, times=None))
    with pytest.raises(ApplyError, match="lost twice"):
        place(enrolled, "person1@falun.example.se")
    assert len(group_members(enrolled)) == 1
    enrolled.emulator.faults.clear()
    assert place(enrolled, "person1@falun.example.se").members_after == 2  # the same command again converges
