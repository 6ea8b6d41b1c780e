"""Roster imports and the enrolments that follow, against the emulator."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from moodle_sync import engine
from moodle_sync.errors import PermissionDenied, RosterError, ScopeError
from moodle_sync.rosters.importer import Scope

from .conftest import URL, Site

HEADER = ["E-post", "Förnamn", "Efternamn", "Organisation", "Enhet", "Målgrupp", "Anställningsdatum",
          "Anställnings-id"]


def person(n: int, group: str = "socialsekreterare", **over: str) -> dict[str, str]:
    row = {"E-post": f"person{n}@falun.example.se", "Förnamn": f"Förnamn{n}", "Efternamn": f"Efternamn{n}",
           "Organisation": "Falu kommun", "Enhet": "Socialtjänsten", "Målgrupp": group,
           "Anställningsdatum": "2025-08-01", "Anställnings-id": f"EMP-{n:04d}"}
    row.update(over)
    return row


def write_roster(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, delimiter=";")
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture
def applied(site: Site) -> Site:
    site.apply()
    return site


def do_import(site: Site, path: Path, county: str = "W", scope: Scope | None = None, **kw: Any) -> engine.RosterReport:
    api = site.api()
    return engine.import_roster(api, site.specs(), site.store(api), path, county=county, scope=scope or Scope(),
                                **kw)


def course_id(site: Site, idnumber: str) -> int:
    return next(c["id"] for c in site.courses() if c["idnumber"] == idnumber)


def enrolment(site: Site, courseid: int, userid: int) -> tuple[int, int, int] | None:
    """(status, timestart, timeend) of the user's manual enrolment, as Moodle's tables hold it."""
    e = site.emulator.enrolment(courseid, userid)
    return (e["status"], e["timestart"], e["timeend"]) if e else None


def user_id(site: Site, email: str) -> int:
    [user] = site.api().users_by_field("email", [email])
    return user.id


def soc_rule(site: Site) -> Any:
    return next(r for r in site.specs().rules.values()
                if r.course == "hrv-socialtjanst" and "socialsekreterare" in r.target_groups)


def test_import_creates_people_members_and_enrolments_then_a_rerun_changes_nothing(
        applied: Site, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "w.csv", [person(n) for n in range(10)])
    report = do_import(applied, path)
    assert report.outcome is not None and report.outcome.created == 10 and report.outcome.added == 10
    soc = course_id(applied, "hrv-socialtjanst@1")
    active = {u.id for u in applied.api().enrolled_users(soc, only_active=True)}
    assert user_id(applied, "person3@falun.example.se") in active
    writes = applied.emulator.write_calls()
    again = do_import(applied, path)
    assert not again.plan.has_changes
    assert applied.emulator.write_calls() == writes
    plan, _ = applied.plan()
    assert plan.actions == ()


def test_people_are_matched_by_employee_id_then_email_and_names_updated_never_blanked(
        applied: Site, tmp_path: Path) -> None:
    api = applied.api()
    from moodle_sync.moodle.models import NewUser
    [by_id] = api.create_users([NewUser(username="gammal1", createpassword=1, firstname="Gammalt", lastname="Namn",
                                        email="annan@example.se", idnumber="EMP-0001", department="Kvar")])
    [by_mail] = api.create_users([NewUser(username="gammal2", createpassword=1, firstname="A", lastname="B",
                                          email="person2@falun.example.se")])
    path = write_roster(tmp_path / "w.csv", [person(1, **{"Enhet": ""}), person(2)])
    report = do_import(applied, path)
    assert report.outcome is not None and report.outcome.created == 0
    users = {u.id: u for u in api.users_by_field("id", [str(by_id.id), str(by_mail.id)])}
    assert users[by_id.id].firstname == "Förnamn1" and users[by_id.id].department == "Kvar"  # not blanked
    assert users[by_mail.id].lastname == "Efternamn2" and users[by_mail.id].idnumber == "EMP-0002"


def test_leavers_are_suspended_with_their_dates_and_reactivated_on_return(applied: Site, tmp_path: Path) -> None:
    rows = [person(n) for n in range(10)]
    do_import(applied, write_roster(tmp_path / "all.csv", rows))
    soc = course_id(applied, "hrv-socialtjanst@1")
    leaver = user_id(applied, "person0@falun.example.se")
    rule = soc_rule(applied)
    assert enrolment(applied, soc, leaver) == (0, rule.timestart, rule.timeend)

    do_import(applied, write_roster(tmp_path / "less.csv", rows[1:]))
    after = enrolment(applied, soc, leaver)
    assert after is not None, "a leaver must never be unenrolled"
    assert after == (1, rule.timestart, rule.timeend)  # suspended, dates kept (Moodle would reset them to 0)

    do_import(applied, write_roster(tmp_path / "back.csv", rows))
    assert enrolment(applied, soc, leaver) == (0, rule.timestart, rule.timeend)
    assert applied.plan()[0].actions == ()


def test_mass_removal_stops_and_writes_nothing(applied: Site, tmp_path: Path) -> None:
    rows = [person(n) for n in range(10)]
    do_import(applied, write_roster(tmp_path / "all.csv", rows))
    writes = applied.emulator.write_calls()
    with pytest.raises(RosterError, match="--allow-mass-removal"):
        do_import(applied, write_roster(tmp_path / "few.csv", rows[:5]))
    assert applied.emulator.write_calls() == writes
    report = do_import(applied, tmp_path / "few.csv", allow_mass_removal=True)
    assert report.outcome is not None and report.outcome.removed == 5


def test_add_mode_never_removes(applied: Site, tmp_path: Path) -> None:
    rows = [person(n) for n in range(10)]
    do_import(applied, write_roster(tmp_path / "all.csv", rows))
    report = do_import(applied, write_roster(tmp_path / "one.csv", [person(20)]), mode="add")
    assert report.plan.remove == [] and report.outcome is not None and report.outcome.added == 1


def test_invalid_rows_are_all_reported_and_nothing_is_written(applied: Site, tmp_path: Path) -> None:
    rows = [person(1), person(2, **{"E-post": "inte-en-adress"}), person(3, **{"Målgrupp": "okänd-grupp"})]
    path = write_roster(tmp_path / "bad.csv", rows)
    writes = applied.emulator.write_calls()
    with pytest.raises(RosterError) as e:
        do_import(applied, path)
    text = str(e.value)
    assert "row 3" in text and "row 4" in text
    assert applied.emulator.write_calls() == writes
    report = do_import(applied, path, skip_invalid=True)
    assert report.outcome is not None and report.outcome.created == 1


def test_a_hub_cannot_touch_another_county(applied: Site, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "ab.csv", [person(1)])
    dalarna = Scope.hub("dalarna", "W")
    writes = applied.emulator.write_calls()
    with pytest.raises(ScopeError):
        do_import(applied, path, county="AB", scope=dalarna)
    header = [*HEADER, "Län"]
    mixed = write_roster(tmp_path / "mixed.csv", [{**person(1), "Län": "W"}, {**person(2), "Län": "AB"}], header)
    with pytest.raises(ScopeError, match="row 3"):
        do_import(applied, mixed, county="W", scope=dalarna)
    assert applied.emulator.write_calls() == writes
    do_import(applied, path, county="W", scope=dalarna)  # its own county works


def test_dry_run_shows_the_plan_and_writes_nothing(applied: Site, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "w.csv", [person(n) for n in range(3)])
    writes = applied.emulator.write_calls()
    report = do_import(applied, path, dry_run=True)
    assert len(report.plan.create) == 3 and report.outcome is None
    assert applied.emulator.write_calls() == writes
    api = applied.api()
    [imp] = applied.store(api).roster_imports("W")
    assert imp["dry_run"] == 1 and imp["sha256"]


def test_a_token_without_user_create_gets_moodles_permission_error(applied: Site, tmp_path: Path) -> None:
    applied.emulator.add_token("nocreate0123456789abcdef01234567",
                               capabilities=["moodle/cohort:view", "moodle/cohort:assign", "moodle/user:update",
                                             "moodle/user:viewdetails", "moodle/course:view"])
    api = engine.connect(URL, "nocreate0123456789abcdef01234567", mount=applied.emulator.handle)
    path = write_roster(tmp_path / "w.csv", [person(1)])
    with pytest.raises(PermissionDenied, match="nopermissions"):
        engine.import_roster(api, applied.specs(), applied.store(api), path, county="W", scope=Scope())


def test_doctor_checks_the_role_map_against_the_roles_moodle_shows(applied: Site, tmp_path: Path) -> None:
    do_import(applied, write_roster(tmp_path / "w.csv", [person(1)]))
    api = applied.api()
    soc = course_id(applied, "hrv-socialtjanst@1")
    good = engine.doctor(api, roles={"student": 5}, course_ids=[soc])
    assert good.ok and good.roles_seen.get("student") == 5
    bad = engine.doctor(api, roles={"student": 9}, course_ids=[soc])
    assert not bad.ok and any("'student' has id 5" in p for p in bad.problems)


def test_plan_shows_enrolment_counts_with_named_samples_and_json_lists_all(applied: Site, tmp_path: Path) -> None:
    do_import(applied, write_roster(tmp_path / "w.csv", [person(n) for n in range(8)]))
    api = applied.api()
    from moodle_sync.moodle.models import NewUser
    [new] = api.create_users([NewUser(username="handlagd", createpassword=1, firstname="Hanna", lastname="Handlagd",
                                      email="handlagd@example.se")])
    cohort = next(c for c in api.search_cohorts("tg:socialsekreterare:W"))
    api.add_cohort_members([(cohort.id, new.id)])  # added in Moodle by hand: the plan enrols her
    plan, _ = applied.plan()
    from moodle_sync.reconcile.explain import render_plan
    from moodle_sync.reconcile.plan import SyncEnrolments
    syncs = [a for a in plan.actions if isinstance(a, SyncEnrolments)]
    assert syncs and all(i.userid == new.id for a in syncs for i in a.enrol)
    assert "Hanna Handlagd" in render_plan(plan)
    assert plan.to_dict()["actions"][0]["enrol"][0]["userid"] == new.id
