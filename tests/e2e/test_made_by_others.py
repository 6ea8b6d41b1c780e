"""People, cohort members and enrolments made by others (README "What the tool will and will never do"),
through the command line against the emulator.

A real site holds accounts from Moodle's own CSV upload (admin/tool/uploaduser: auth manual, the username
lower-cased, here the e-mail address, no ID number), members an admin added by hand to the tool's cohorts,
and enrolments by other methods (self enrolment) or by an admin, in the courses the tool manages.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from moodle_sync.commands.exits import EXIT_OK
from moodle_sync.scope import Scope

from .conftest import Site, run
from .test_completions import course_ids, csv_rows, facts_of, run_pull
from .test_rosters import person, write_roster

SOC = "hrv-socialtjanst@1"  # rules: socialsekreterare of every county
NCK = "nck-grundkurs-vinr@2"
SOCIALSEKRETERARE_W = "tg:socialsekreterare:W"


def uploaded(site: Site, email: str, firstname: str, lastname: str) -> int:
    """An account as admin/tool/uploaduser makes it: auth manual, username the lower-cased e-mail (uploaduser
    cleans usernames with core_user::clean_field), the e-mail as given, no ID number."""
    return site.emulator.add_user(email.lower(), firstname, lastname, email, auth="manual")


def cohort_id(site: Site, idnumber: str) -> int:
    return next(c.id for c in site.api().search_cohorts("tg:") if c.idnumber == idnumber)


def members(site: Site, idnumber: str) -> set[int]:
    cid = cohort_id(site, idnumber)
    return site.api().cohort_members([cid])[cid]


@dataclass
class Others:
    """A county (Dalarna, W) whose four roster people the tool enrolled, and four people made by others."""

    site: Site
    roster: Path
    hand_self: int     # added by hand to tg:socialsekreterare:W, enrolled themselves in SOC, by an admin in NCK
    hand_suspended: int  # added by hand to tg:socialsekreterare:W, enrolled by an admin in SOC and NCK, suspended
    selfie: int        # in no cohort, enrolled themselves in SOC
    manual: int        # in no cohort, enrolled by an admin in SOC

    def by_others(self) -> list[int]:
        return [self.hand_self, self.hand_suspended, self.selfie, self.manual]


@pytest.fixture
def others(served: Site, tmp_path: Path) -> Others:
    site = served
    assert run("apply", "--yes") == EXIT_OK
    roster = write_roster(tmp_path / "w.csv", [person(n) for n in range(4)])
    assert run("roster", "import", str(roster), "--county", "W", "--yes") == EXIT_OK
    courses = course_ids(site)
    soc, nck = courses[SOC], courses[NCK]
    cohort = cohort_id(site, SOCIALSEKRETERARE_W)
    hand_self = uploaded(site, "Hand.Sjalv@falun.example.se", "Hand", "Själv")
    hand_suspended = uploaded(site, "hand.avstangd@falun.example.se", "Hand", "Avstängd")
    selfie = uploaded(site, "sjalv@borlange.example.se", "Själv", "Anmäld")
    manual = uploaded(site, "manuell@borlange.example.se", "Manuellt", "Inskriven")
    for uid in (hand_self, hand_suspended):
        site.emulator.add_cohort_member(cohort, uid)
    site.emulator.self_enrol(soc, hand_self)
    site.emulator.enrol_user(nck, hand_self)
    for course in (soc, nck):
        site.emulator.enrol_user(course, hand_suspended, suspended=True)
    site.emulator.self_enrol(soc, selfie)
    site.emulator.enrol_user(soc, manual)
    return Others(site, roster, hand_self, hand_suspended, selfie, manual)


def their_rows(site: Site, users: list[int]) -> dict[str, list[object]]:
    """Every emulator row about these people: accounts, cohort memberships, enrolments, roles."""
    snap = site.emulator.snapshot()
    wanted = set(users)
    return {table: [r for r in rows if isinstance(r, dict) and (r.get("userid") in wanted or
                                                                (table == "user" and r.get("id") in wanted))]
            for table, rows in snap.items() if isinstance(rows, list)}


def test_plan_and_apply_leave_enrolments_made_by_others_alone(
        others: Others, capsys: pytest.CaptureFixture[str]) -> None:
    site = others.site
    before = their_rows(site, others.by_others())
    assert any(before.values())
    capsys.readouterr()
    # enrolled themselves, enrolled or suspended by an admin: nothing to enrol, reactivate, suspend or re-date
    assert run("plan", "--detailed-exitcode") == EXIT_OK
    assert "No changes" in capsys.readouterr().out
    writes = site.emulator.write_calls()
    assert run("apply", "--yes") == EXIT_OK
    assert site.emulator.write_calls() == writes
    assert their_rows(site, others.by_others()) == before


def test_a_roster_import_keeps_cohort_members_no_roster_placed_and_says_so(
        others: Others, capsys: pytest.CaptureFixture[str]) -> None:
    site = others.site
    before = their_rows(site, others.by_others())
    capsys.readouterr()
    # the same roster again: it does not name the two members an admin added by hand
    assert run("roster", "import", str(others.roster), "--county", "W", "--yes") == EXIT_OK
    said = capsys.readouterr().out
    assert "keep 2 cohort memberships no roster made (added in Moodle by someone else)" in said
    assert f"user {others.hand_self} in {SOCIALSEKRETERARE_W}" in said and "never takes them out" in said
    assert "- remove" not in said
    assert {others.hand_self, others.hand_suspended} <= members(site, SOCIALSEKRETERARE_W)
    assert their_rows(site, others.by_others()) == before

    assert run("roster", "import", str(others.roster), "--county", "W", "--dry-run", "--json") == EXIT_OK
    plan = json.loads(capsys.readouterr().out)["plan"]
    assert plan["remove"] == [] and plan["counts"]["keep_members"] == 2
    assert {m["userid"] for m in plan["keep_members"]} == {others.hand_self, others.hand_suspended}


def test_a_roster_still_takes_out_the_people_it_placed(others: Others, tmp_path: Path) -> None:
    site = others.site
    first = site.api().users_by_field("email", ["person0@falun.example.se"])[0].id
    fewer = write_roster(tmp_path / "fewer.csv", [person(n) for n in range(1, 4)])
    assert run("roster", "import", str(fewer), "--county", "W", "--yes", "--allow-mass-removal") == EXIT_OK
    left = members(site, SOCIALSEKRETERARE_W)
    assert first not in left and {others.hand_self, others.hand_suspended} <= left


def test_a_roster_naming_an_uploaded_account_adopts_it_without_a_duplicate(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = served
    assert run("apply", "--yes") == EXIT_OK
    anna = uploaded(site, "Anna.Berg@Falun.example.se", "Anna", "Berg")
    rows = [person(1, **{"E-post": "anna.berg@falun.example.se", "Förnamn": "Anna", "Efternamn": "Berg"}), person(2)]
    roster = write_roster(tmp_path / "w.csv", rows)
    capsys.readouterr()
    assert run("roster", "import", str(roster), "--county", "W", "--dry-run") == EXIT_OK
    said = capsys.readouterr().out
    assert f"= adopt 1 existing account no roster named before (no new account is made): Anna Berg (user {anna})" \
        in said
    assert "+ create 1 user: Förnamn2 Efternamn2" in said

    assert run("roster", "import", str(roster), "--county", "W", "--yes") == EXIT_OK
    accounts = [u for u in site.emulator.snapshot()["user"] if u["email"].lower() == "anna.berg@falun.example.se"]
    assert [(u["id"], u["username"], u["auth"], u["idnumber"]) for u in accounts] == \
        [(anna, "anna.berg@falun.example.se", "manual", "EMP-0001")]
    assert anna in members(site, SOCIALSEKRETERARE_W)
    assert anna in {u.id for u in site.api().enrolled_users(course_ids(site)[SOC], only_active=True)}

    capsys.readouterr()
    assert run("roster", "import", str(roster), "--county", "W", "--dry-run") == EXIT_OK
    assert "No changes" in capsys.readouterr().out  # adopted once: the roster's own from now on
    # … so a roster that no longer names her takes her out, as anyone a roster placed
    assert run("roster", "import", str(write_roster(tmp_path / "w2.csv", rows[1:])), "--county", "W", "--yes",
               "--allow-mass-removal") == EXIT_OK
    assert anna not in members(site, SOCIALSEKRETERARE_W)


def person_rows(capsys: pytest.CaptureFixture[str], *args: str) -> dict[int, tuple[str, str]]:
    """userid → (county, target groups) of every person-level row of ``report --personal-data``."""
    capsys.readouterr()
    assert run("report", "--personal-data", *args) == EXIT_OK
    header, *rows = csv_rows(capsys.readouterr().out)
    county, groups = header.index("county"), header.index("target_groups")
    return {int(r[0]): (r[county], r[groups]) for r in rows}


def test_reports_count_cohort_members_under_their_county_and_target_group_whoever_enrolled_them(
        others: Others, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = others.site
    cohorts = len([c for c in site.api().search_cohorts("tg:") if c.idnumber.startswith("tg:")])
    reads = site.emulator.call_counts()["core_cohort_get_cohort_members"]
    assert run("pull") == EXIT_OK
    # the members of every tool cohort in one batched read (100 cohorts a call), never a call per person
    assert site.emulator.call_counts()["core_cohort_get_cohort_members"] - reads == math.ceil(cohorts / 100)

    everyone = person_rows(capsys)
    for hand in (others.hand_self, others.hand_suspended):  # self-enrolled, enrolled and suspended by an admin
        assert everyone[hand] == ("W", "socialsekreterare")
    for nobody in (others.selfie, others.manual):  # in no tool cohort: unknown county, no target group
        assert everyone[nobody] == ("", "")
    dalarna = tmp_path / "moodle-sync.toml"
    dalarna.write_text('[hubs.dalarna]\ncounty = "W"\n', encoding="utf-8")
    hub = person_rows(capsys, "--config", str(dalarna), "--hub", "dalarna")
    assert {others.hand_self, others.hand_suspended} <= set(hub)
    assert not {others.selfie, others.manual} & set(hub)

    out = tmp_path / "report.csv"
    assert run("report", "--by", "county,target_group", "--format", "csv", "--out", str(out),
               "--threshold", "2") == EXIT_OK
    rows = {(r[0], r[1]): r[2] for r in csv_rows(out.read_text(encoding="utf-8"))[1:]}
    # who is counted where is exact in the person rows above; the published counts are sums of small groups
    # each rounded to base 3 (reports/groups.py), so here only: both buckets are published, as multiples of 3
    for bucket in (("Dalarnas län", "Socialsekreterare och biståndsbedömare"), ("Okänt län", "Ingen målgrupp angiven")):
        assert int(rows[bucket]) % 3 == 0


def test_the_plan_says_when_the_rules_enrol_someone_added_to_a_cohort_by_hand(
        others: Others, capsys: pytest.CaptureFixture[str]) -> None:
    site = others.site
    newcomer = uploaded(site, "ny@falun.example.se", "Ny", "Medlem")
    site.emulator.add_cohort_member(cohort_id(site, SOCIALSEKRETERARE_W), newcomer)
    capsys.readouterr()
    assert run("plan") == EXIT_OK
    said = capsys.readouterr().out
    assert "Ny Medlem" in said
    assert (f"i {SOC}: the one person to enrol is in its cohorts without any roster placing them there (added "
            f"in Moodle by someone else); the rules enrol every member of the cohorts they name") in said
    assert run("apply", "--yes") == EXIT_OK
    assert site.emulator.enrolment(course_ids(site)[SOC], newcomer) is not None  # a manual enrolment the tool made


def test_someone_taken_out_of_every_tool_cohort_counts_where_they_were_last_seen(others: Others) -> None:
    site = others.site
    run_pull(site)
    api = site.api()
    api.delete_cohort_members([(cohort_id(site, SOCIALSEKRETERARE_W), others.hand_self)])
    api.add_cohort_members([(cohort_id(site, "tg:socialsekreterare:AB"), others.hand_suspended)])  # moved by hand
    run_pull(site)
    where = {f.person: (f.county, f.target_groups) for f in facts_of(site, Scope())}
    assert where[others.hand_self] == ("W", ("socialsekreterare",))
    assert where[others.hand_suspended] == ("AB", ("socialsekreterare",))
