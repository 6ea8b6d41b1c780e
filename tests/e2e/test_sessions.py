"""Teacher-led sessions: a group per session, people placed only when enrolled and within capacity."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from moodle_sync.errors import PlanError, ScopeError
from moodle_sync.run_plan import place_people
from moodle_sync.scope import Scope
from moodle_sync.sessions import AssignResult, plan_placement

from .conftest import Site
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
    with pytest.raises(ScopeError):
        place(enrolled, "person0@falun.example.se", session="stockholm-2026-05", scope=Scope.hub("dalarna", "W"))
    assert place(enrolled, "person0@falun.example.se", scope=Scope.hub("dalarna", "W")).added


def test_people_whose_enrolment_window_has_not_opened_can_be_given_their_session(enrolled: Site) -> None:
    # Moodle lets anyone enrolled join a group (is_enrolled without onlyactive): the course may open later
    api = enrolled.api()
    course = api.course_by_idnumber("hrv-socialtjanst@1")
    assert course is not None
    newcomer = enrolled.emulator.add_user("senare", "Kommer", "Senare", "senare@falun.example.se")
    enrolled.emulator.enrol_user(course.id, newcomer, timestart=int(time.time()) + 30 * 86400)
    assert newcomer not in {u.id for u in api.enrolled_users(course.id, only_active=True)}
    assert place(enrolled, "senare@falun.example.se").added == ["senare@falun.example.se"]
