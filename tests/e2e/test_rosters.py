"""Roster imports and the enrolments that follow, against the emulator."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.applier import Applier
from moodle_sync.config import Hub
from moodle_sync.emulator import Fault
from moodle_sync.emulator.moodlelib import userlib
from moodle_sync.errors import ApplyError, ConfigError, PermissionDenied, RosterError, ScopeError
from moodle_sync.explainer import render_roster_plan
from moodle_sync.jobs.doctor import doctor as run_doctor
from moodle_sync.jobs.roster_import import RosterReport, import_roster, plan_roster_import
from moodle_sync.jobs.site import connect
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.plan import Plan
from moodle_sync.rosters.parse import read_roster
from moodle_sync.rosters.planner import plan_roster
from moodle_sync.rosters.view import RosterView
from moodle_sync.rosters.write_people import RosterOutcome
from moodle_sync.scope import Scope
from moodle_sync.store.db import StateStore

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


def do_import(site: Site, path: Path, county: str = "W", scope: Scope | None = None, dry_run: bool = False,
              **kw: Any) -> RosterReport:
    """A roster import, or with ``dry_run`` only its plan (``roster import --dry-run``)."""
    api = site.api()
    step = plan_roster_import if dry_run else import_roster
    return step(api, site.specs(), site.store(api), path, scope=(scope or Scope()).within(county), **kw)


def apply_roster(api: Any, store: StateStore, plan: Plan) -> RosterOutcome:
    """Apply a roster plan through the one Applier, as a real import does (without the enrolments that follow)."""
    applier = Applier(api, store, store.start_run("roster import", plan=plan.to_dict()))
    applier.apply(plan)
    return applier.roster


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
    assert not again.roster.has_changes
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
    assert report.roster.remove == [] and report.outcome is not None and report.outcome.added == 1


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
    dalarna = Scope.for_hub("dalarna", Hub(county="W"))
    writes = applied.emulator.write_calls()
    with pytest.raises(ScopeError):
        do_import(applied, path, county="AB", scope=dalarna)
    header = [*HEADER, "Län"]
    mixed = write_roster(tmp_path / "mixed.csv", [{**person(1), "Län": "W"}, {**person(2), "Län": "AB"}], header)
    with pytest.raises(RosterError) as refused:  # a row of another county is one more invalid row
        do_import(applied, mixed, county="W", scope=dalarna)
    [problem] = refused.value.problems
    assert (problem.row, problem.column, problem.value) == (3, "Län", "AB")
    assert "Stockholms län" in problem.message and "Dalarnas län" in problem.message
    assert applied.emulator.write_calls() == writes
    skipped = do_import(applied, mixed, county="W", scope=dalarna, skip_invalid=True, dry_run=True)
    assert [p.email for p in skipped.roster.create] == ["person1@falun.example.se"], "the other rows are imported"
    do_import(applied, path, county="W", scope=dalarna)  # its own county works


def test_dry_run_shows_the_plan_and_writes_nothing(applied: Site, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "w.csv", [person(n) for n in range(3)])
    writes = applied.emulator.write_calls()
    report = do_import(applied, path, dry_run=True)
    assert len(report.roster.create) == 3 and report.outcome is None
    assert applied.emulator.write_calls() == writes
    api = applied.api()
    [imp] = applied.store(api).roster_imports("W")
    assert imp["dry_run"] == 1 and imp["sha256"]


def test_an_import_plan_read_back_from_its_json_is_the_same_plan(applied: Site, tmp_path: Path) -> None:
    do_import(applied, write_roster(tmp_path / "a.csv", [person(n) for n in range(3)]))
    rows = [person(0, Förnamn="Ny", Län="W"), person(1, Län="Dalarna"), person(7, Län="W", Anställningsdatum="")]
    plan = do_import(applied, write_roster(tmp_path / "b.csv", rows, [*HEADER, "Län"]), dry_run=True).plan
    written = plan.to_dict()
    again = Plan.from_dict(json.loads(json.dumps(written)))
    assert again == plan and again.to_dict() == written
    people = [p for a in written["actions"]
              for p in [*a.get("people", ()), *(c["person"] for c in a.get("changes", ()))]]
    assert {p["employment_start"] for p in people} == {"2025-08-01", None}   # a date, written as YYYY-MM-DD
    assert all("county" not in p for p in people)                            # the action's county is theirs
    assert any(p["userid"] and p["moodle_email"] == "person0@falun.example.se" for p in people)


def test_a_token_without_user_create_gets_moodles_permission_error(applied: Site, tmp_path: Path) -> None:
    applied.emulator.add_token("nocreate0123456789abcdef01234567",
                               capabilities=["moodle/cohort:view", "moodle/cohort:assign", "moodle/user:update",
                                             "moodle/user:viewdetails", "moodle/course:view"])
    api = connect(URL, "nocreate0123456789abcdef01234567", mount=applied.emulator.handle)
    path = write_roster(tmp_path / "w.csv", [person(1)])
    with pytest.raises(PermissionDenied, match="nopermissions"):
        import_roster(api, applied.specs(), applied.store(api), path, scope=Scope.for_county("W"))


def test_doctor_checks_the_role_map_against_the_roles_moodle_shows(applied: Site, tmp_path: Path) -> None:
    do_import(applied, write_roster(tmp_path / "w.csv", [person(1)]))
    api = applied.api()
    soc = course_id(applied, "hrv-socialtjanst@1")
    good = run_doctor(api, roles={"student": 5}, course_ids=[soc])
    assert good.ok and good.roles_seen.get("student") == 5
    bad = run_doctor(api, roles={"student": 9}, course_ids=[soc])
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
    from moodle_sync.explainer import render_plan
    from moodle_sync.reconcile.plan import SyncEnrolments
    syncs = [a for a in plan.actions if isinstance(a, SyncEnrolments)]
    assert syncs and all(i.userid == new.id for a in syncs for i in a.enrol)
    assert "Hanna Handlagd" in render_plan(plan)
    assert plan.to_dict()["actions"][0]["enrol"][0]["userid"] == new.id


# --- what Moodle refuses, and what the people it concerns receive ------------------------------------------------

class Said:
    """A console stand-in that keeps what the import says to people."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str = "") -> None:
        self.lines.append(text)


def mails_per_person(site: Site) -> dict[str, int]:
    """How many password e-mails each address got (create_users with createpassword sends them at once)."""
    counts: dict[str, int] = {}
    for mail in userlib.password_mails(site.emulator.state):
        counts[mail.email] = counts.get(mail.email, 0) + 1
    return counts


def taken_meanwhile(site: Site, email: str) -> Any:
    """A confirm step during which someone creates an account with ``email`` by hand (after the plan)."""
    def confirm(_plan: Any) -> bool:
        site.emulator.add_user("handmade", "Hand", "Made", email)
        return True
    return confirm


def test_a_refused_row_costs_the_others_in_its_call_at_most_one_stale_password_mail(
        applied: Site, tmp_path: Path) -> None:
    # Moodle e-mails each new person a password as it creates them; when a later person in the same call is
    # refused the accounts are rolled back, the e-mails are not. Bisecting re-sent halves: up to 3 e-mails here.
    path = write_roster(tmp_path / "w.csv", [person(n) for n in range(8)])
    said = Said()
    with pytest.raises(ApplyError) as caught:
        do_import(applied, path, console=said, confirm=taken_meanwhile(applied, "person6@falun.example.se"))
    mails = mails_per_person(applied)
    assert {f"person{n}@falun.example.se": mails.get(f"person{n}@falun.example.se", 0) for n in range(8)} == {
        **{f"person{n}@falun.example.se": 2 for n in range(6)},   # one rolled back, one that works
        "person6@falun.example.se": 0, "person7@falun.example.se": 1}
    text = str(caught.value)
    assert "row 8 (person6@falun.example.se): Moodle refused the user" in text
    assert "may have been e-mailed a password for an account that was not kept" in text
    [note] = [line for line in said.lines if "note:" in line]
    listed = note.split("(rows ")[1].split(")).")[0]
    assert listed == "), ".join(f"{n + 2} (person{n}@falun.example.se" for n in range(6))
    assert "at row 8 (person6@falun.example.se)" in note and "latest one holds the password that works" in note
    # the latest mail each person got belongs to an account that was kept
    api = applied.api()
    kept = {u.email: u.id for u in api.users_by_field("email", [f"person{n}@falun.example.se" for n in range(8)])
            if u.username != "handmade"}
    assert len(kept) == 7 and "person6@falun.example.se" not in kept
    latest = {m.email: m.userid for m in userlib.password_mails(applied.emulator.state)}
    assert all(latest[e] == kept[e] for e in kept)
    people = applied.store(api).persons("W")
    assert sorted(p.email for p in people.values()) == sorted(kept)


def test_without_mailed_passwords_a_refused_batch_is_split_in_halves(applied: Site, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "w.csv", [person(n) for n in range(8)])
    calls = applied.emulator.call_counts()["core_user_create_users"]
    with pytest.raises(ApplyError, match="row 8"):
        do_import(applied, path, auth="shibboleth", confirm=taken_meanwhile(applied, "person6@falun.example.se"))
    assert mails_per_person(applied) == {}
    # 8 rows, bad 7th: [0-7] [0-3] [4-7] [4-5] [6-7] [6] [7], where one person per call would take 9
    assert applied.emulator.call_counts()["core_user_create_users"] - calls == 7
    users = [u for u in applied.api().users_by_field("email", [f"person{n}@falun.example.se" for n in range(8)])
             if u.username != "handmade"]
    assert len(users) == 7 and {u.auth for u in users} == {"shibboleth"}


def test_an_account_with_the_email_in_other_capitals_is_a_clear_row_failure_and_nothing_is_sent_for_it(
        applied: Site, tmp_path: Path) -> None:
    # Moodle keeps emails as typed; get_users_by_field compares exactly, create_users ignores case
    anna = applied.emulator.add_user("asvensson", "Anna", "Svensson", "Anna.Svensson@Kommun.se", "HR-77",
                                     department="Kvar")
    api = applied.api()
    assert api.users_by_field("email", ["anna.svensson@kommun.se"]) == []
    rows = [person(1), person(2, **{"E-post": "Anna.Svensson@Kommun.se", "Förnamn": "Anna", "Efternamn": "Nytt",
                                    "Enhet": ""})]
    path = write_roster(tmp_path / "w.csv", rows)
    preview = do_import(applied, path, dry_run=True)
    assert [b["row"] for b in preview.roster.to_dict()["blocked"]] == [3]
    assert [r.row for r in preview.roster.create] == [2]
    assert "! 1 person cannot be created (nothing is sent for them):\n    row 3 (anna.svensson@kommun.se): an " \
           "account with this e-mail exists" in render_roster_plan(preview.plan)
    with pytest.raises(ApplyError) as caught:
        do_import(applied, path)
    text = str(caught.value)
    assert "row 3 (anna.svensson@kommun.se): not created: an account with this e-mail exists with other " \
           "capitals or another username" in text
    assert f"user {anna}" in text and "give the row its employee id" in text.lower()
    assert "invalidparameter" not in text
    assert mails_per_person(applied) == {"person1@falun.example.se": 1}
    [kept] = api.users_by_field("id", [str(anna)])
    assert (kept.lastname, kept.department, kept.email) == ("Svensson", "Kvar", "Anna.Svensson@Kommun.se")
    cohort = next(c for c in api.search_cohorts("tg:socialsekreterare:W"))
    assert anna not in api.cohort_members([cohort.id])[cohort.id]
    assert len(api.users_with_email_like("anna.svensson@kommun.se")) == 1  # no second account

    # what the message says to do: the row carries the account's employee id, and it is matched
    rows[1] = person(2, **{"E-post": "Anna.Svensson@Kommun.se", "Förnamn": "Anna", "Efternamn": "Nytt",
                           "Enhet": "", "Anställnings-id": "HR-77"})
    report = do_import(applied, write_roster(tmp_path / "fixed.csv", rows))
    assert report.outcome is not None and report.outcome.failures == [] and report.outcome.created == 0
    [kept] = api.users_by_field("id", [str(anna)])
    assert kept.lastname == "Nytt" and kept.department == "Kvar"


def test_a_first_import_looks_for_other_capitals_once_per_domain_and_a_later_one_per_new_address(
        applied: Site, tmp_path: Path) -> None:
    taken = applied.emulator.add_user("p3", "P", "Tre", "Person3@Falun.Example.SE")
    reads = applied.emulator.call_counts()["core_user_get_users"]
    with pytest.raises(ApplyError, match=r"row 5 \(person3@falun.example.se\): not created: an account with this "
                                         r"e-mail exists with other capitals"):
        do_import(applied, write_roster(tmp_path / "w.csv", [person(n) for n in range(6)]))
    assert applied.emulator.call_counts()["core_user_get_users"] - reads == 1  # "%@falun.example.se"
    assert mails_per_person(applied).get("Person3@Falun.Example.SE") is None
    assert len(applied.api().users_with_email_like("person3@falun.example.se")) == 1
    reads = applied.emulator.call_counts()["core_user_get_users"]
    with pytest.raises(ApplyError, match=f"user {taken}"):
        do_import(applied, write_roster(tmp_path / "more.csv", [person(n) for n in range(8)]))
    assert applied.emulator.call_counts()["core_user_get_users"] - reads == 3  # persons 3, 6 and 7


def test_two_addresses_that_make_the_same_username_are_caught_before_any_mail(applied: Site, tmp_path: Path) -> None:
    rows = [person(1, **{"E-post": "anna+kurs@falun.example.se"}),
            person(2, **{"E-post": "anna_kurs@falun.example.se"})]
    with pytest.raises(ApplyError, match=r"row 3 \(anna_kurs@falun.example.se\): not created: its Moodle username "
                                         r"would be 'anna_kurs@falun.example.se', the same as row 2's"):
        do_import(applied, write_roster(tmp_path / "w.csv", rows))
    assert mails_per_person(applied) == {"anna+kurs@falun.example.se": 1}


def test_one_refused_update_value_does_not_hold_back_the_others(applied: Site, tmp_path: Path) -> None:
    do_import(applied, write_roster(tmp_path / "w.csv", [person(n) for n in range(4)]))
    # the parser refuses tags now; a roster built in code still reaches Moodle's whole-call check
    roster = read_roster(write_roster(tmp_path / "moved.csv", [person(n, Enhet="Barn och unga") for n in range(4)]),
                         target_groups={k: g.name for k, g in applied.specs().target_groups.items()})
    roster.rows[2] = dataclasses.replace(roster.rows[2], unit="<b>Barn</b> och unga")
    api = applied.api()
    plan = plan_roster(api, roster, county="W", scope=Scope())
    assert len(RosterView(plan).update) == 4
    outcome = apply_roster(api, applied.store(api), plan)
    assert outcome.updated == 3
    assert len(outcome.failures) == 1 and outcome.failures[0].startswith("row 4 (person2@falun.example.se)")
    assert "department" in outcome.failures[0]
    units = {u.email: u.department for u in api.users_by_field("email", [f"person{n}@falun.example.se"
                                                                           for n in range(4)])}
    assert units == {**{f"person{n}@falun.example.se": "Barn och unga" for n in (0, 1, 3)},
                     "person2@falun.example.se": "Socialtjänsten"}


def test_nologin_accounts_are_created_with_a_password_nobody_is_mailed(applied: Site, tmp_path: Path) -> None:
    # nologin is internal in Moodle 4.3: create_users refuses it without a password or createpassword
    report = do_import(applied, write_roster(tmp_path / "w.csv", [person(n) for n in range(3)]), auth="nologin")
    assert report.outcome is not None and report.outcome.created == 3 and report.outcome.failures == []
    assert mails_per_person(applied) == {}
    users = applied.api().users_by_field("email", [f"person{n}@falun.example.se" for n in range(3)])
    assert {u.auth for u in users} == {"nologin"}


def test_auth_none_gets_a_mailed_password_and_mnet_is_refused_before_anything_is_written(
        applied: Site, tmp_path: Path) -> None:
    writes = applied.emulator.write_calls()
    with pytest.raises(ConfigError, match="mnet"):
        do_import(applied, write_roster(tmp_path / "m.csv", [person(9)]), auth="mnet")
    assert applied.emulator.write_calls() == writes
    report = do_import(applied, write_roster(tmp_path / "w.csv", [person(n) for n in range(2)]), auth="none")
    assert report.outcome is not None and report.outcome.created == 2
    assert mails_per_person(applied) == {"person0@falun.example.se": 1, "person1@falun.example.se": 1}


REFUSED = {"exception": "invalid_parameter_exception", "errorcode": "invalidparameter",
           "message": "Invalid parameter value detected"}


def test_a_refused_cohort_call_is_a_failure_and_the_people_created_are_still_recorded(
        applied: Site, tmp_path: Path) -> None:
    applied.emulator.faults.add(Fault(kind="exception", wsfunction="core_cohort_add_cohort_members", error=REFUSED))
    with pytest.raises(ApplyError, match="adding 3 cohort members: Moodle refused the call"):
        do_import(applied, write_roster(tmp_path / "w.csv", [person(n) for n in range(3)]))
    api = applied.api()
    people = applied.store(api).persons("W")
    assert sorted(p.email for p in people.values()) == [f"person{n}@falun.example.se" for n in range(3)]
    report = do_import(applied, tmp_path / "w.csv")  # the next import adds them, creating no one twice
    assert report.outcome is not None and (report.outcome.created, report.outcome.added) == (0, 3)


def test_an_import_stopped_by_a_permission_error_still_records_the_people_it_created(
        applied: Site, tmp_path: Path) -> None:
    applied.emulator.faults.add(Fault(kind="exception", wsfunction="core_cohort_add_cohort_members", error={
        "exception": "required_capability_exception", "errorcode": "nopermissions",
        "message": "Sorry, but you do not currently have permissions to do that (Assign members to cohort)."}))
    with pytest.raises(ApplyError, match="nopermissions") as stopped:
        do_import(applied, write_roster(tmp_path / "w.csv", [person(n) for n in range(3)]))
    # the people were created before it stopped: part of the work was written (exit 3, "run again")
    assert stopped.value.partial and isinstance(stopped.value.__cause__, PermissionDenied)
    api = applied.api()
    assert len(applied.store(api).persons("W")) == 3


def test_people_already_in_the_cohort_are_not_counted_as_added(applied: Site, tmp_path: Path) -> None:
    api = applied.api()
    from moodle_sync.moodle.models import NewUser
    made = api.create_users([NewUser(username=f"person{n}@falun.example.se", createpassword=1, firstname=f"Förnamn{n}",
                                     lastname=f"Efternamn{n}", email=f"person{n}@falun.example.se",
                                     idnumber=f"EMP-{n:04d}", institution="Falu kommun", department="Socialtjänsten")
                             for n in range(3)])
    cohort = next(c for c in api.search_cohorts("tg:socialsekreterare:W"))

    def meanwhile(_plan: Any) -> bool:
        applied.emulator.add_cohort_member(cohort.id, made[0].id)  # added by hand after the plan
        return True

    report = do_import(applied, write_roster(tmp_path / "w.csv", [person(n) for n in range(3)]), confirm=meanwhile)
    assert len(report.roster.add) == 3
    assert report.outcome is not None and report.outcome.added == 2 and report.outcome.failures == []


def test_a_service_without_get_users_still_imports_and_moodle_names_the_row_it_refuses(
        applied: Site, tmp_path: Path) -> None:
    # core_user_get_users is optional: without it the any-case check is skipped, Moodle refuses the row
    # itself, the rest of its call goes one by one, and doctor says what the missing function costs
    applied.emulator.add_user("p3", "P", "Tre", "Person3@Falun.Example.SE")
    token = "nogetusers0123456789abcdef012345"
    applied.emulator.add_token(token, functions=MoodleApi.FUNCTIONS)
    api = connect(URL, token, mount=applied.emulator.handle)
    with pytest.raises(ApplyError) as caught:
        import_roster(api, applied.specs(), applied.store(api), write_roster(tmp_path / "w.csv",
                             [person(n) for n in range(6)]), scope=Scope.for_county("W"))
    assert "row 5 (person3@falun.example.se): Moodle refused the user" in str(caught.value)
    assert applied.emulator.call_counts()["core_user_get_users"] == 0
    assert sorted(mails_per_person(applied)) == [f"person{n}@falun.example.se" for n in (0, 1, 2, 4, 5)]
    [warning] = [w for w in run_doctor(api).warnings if "core_user_get_users" in w]
    assert "lacks core_user_get_users:" in warning
