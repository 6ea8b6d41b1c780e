"""A hub's scope covers people, not only rows: one county's hub naming another county's person (by e-mail,
employee id or username) learns nothing about them and changes nothing for them, in a roster's plan, an
import, a personal-data report or a session; and its answers are the same as for an e-mail nobody has."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.commands.exits import EXIT_ERROR, EXIT_OK
from moodle_sync.config import Hub
from moodle_sync.identity import cohort_idnumber
from moodle_sync.jobs.site import connect, open_site_store
from moodle_sync.moodle.models import User
from moodle_sync.scope import Scope, outside_text
from moodle_sync.store.db import Person

from .conftest import TOKEN, Site, run
from .test_rosters import do_import, person, write_roster

DALARNA = Scope.for_hub("dalarna", Hub(county="W"))
#: a Stockholm social worker: nothing of this may reach Dalarna's hub
SIGRID = person(0, **{"E-post": "sigrid.ek@stockholm.example.se", "Förnamn": "Sigrid", "Efternamn": "Stockholmsson",
                      "Organisation": "Stockholms stad", "Enhet": "Hemliga enheten", "Anställnings-id": "AB-7777"})
SECRETS = ("Sigrid", "Stockholmsson", "Stockholms stad", "Hemliga enheten")


def attack_rows() -> list[dict[str, str]]:
    """Dalarna's own person, then Sigrid named by e-mail, then by employee id (with a Dalarna address)."""
    return [person(1),
            person(2, **{"E-post": SIGRID["E-post"], "Förnamn": "Ny", "Efternamn": "Namn", "Anställnings-id": ""}),
            person(3, **{"E-post": "ny.adress@falun.example.se", "Anställnings-id": SIGRID["Anställnings-id"]})]


def moodle_user(site: Site, email: str) -> User:
    [user] = site.api().users_by_field("email", [email])
    return user


def cohort_members(site: Site, county: str) -> set[int]:
    api = site.api()
    ids = [c.id for c in api.search_cohorts("tg:") if c.idnumber == cohort_idnumber("socialsekreterare", county)]
    return set().union(*api.cohort_members(ids).values())


@dataclass
class TwoHubs:
    """Stockholm's hub has imported Sigrid, Dalarna's hub its own person; completions pulled."""

    site: Site
    hub: tuple[str, ...]   # the options that make a command Dalarna's hub
    sigrid: User
    attack: Path

    def stored_persons(self) -> dict[int, Person]:
        store = open_site_store(self.site.state_path, connect(os.environ["MOODLE_URL"], TOKEN))
        try:
            return store.persons()
        finally:
            store.close()


@pytest.fixture
def two_hubs(served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> TwoHubs:
    config = tmp_path / "moodle-sync.toml"
    config.write_text('[hubs.dalarna]\ncounty = "W"\n[hubs.stockholm]\ncounty = "AB"\n', encoding="utf-8")
    hub = ("--config", str(config), "--hub", "dalarna")
    assert run("apply", "--yes") == EXIT_OK
    ab = write_roster(tmp_path / "ab.csv", [SIGRID])
    assert run("roster", "import", str(ab), "--county", "AB", "--config", str(config), "--hub", "stockholm",
               "--yes") == EXIT_OK
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", [person(1)])), *hub, "--county", "W",
               "--yes") == EXIT_OK
    assert run("pull") == EXIT_OK
    capsys.readouterr()
    return TwoHubs(served, hub, moodle_user(served, SIGRID["E-post"]),
                   write_roster(tmp_path / "attack.csv", attack_rows()))


def test_a_hubs_dry_run_refuses_rows_naming_another_countys_person_and_shows_nothing_of_them(
        two_hubs: TwoHubs, capsys: pytest.CaptureFixture[str]) -> None:
    sigrid = two_hubs.sigrid
    assert run("roster", "import", str(two_hubs.attack), *two_hubs.hub, "--county", "W", "--dry-run",
               "--json") == EXIT_OK
    said = capsys.readouterr().out
    plan: dict[str, Any] = json.loads(said)["plan"]
    assert not any(secret in said for secret in SECRETS), said
    assert [r["row"] for r in plan["refused"]] == [3, 4]
    [why] = {r["reason"] for r in plan["refused"]}  # by e-mail or by employee id: one text
    assert why.startswith("held for an administrator")
    assert plan["create"] == [] and [u["row"] for u in plan["update"]] == []
    assert str(sigrid.id) not in json.dumps({k: plan[k] for k in ("update", "add", "remove")})


def test_a_hubs_import_changes_nothing_for_another_countys_person(
        two_hubs: TwoHubs, capsys: pytest.CaptureFixture[str]) -> None:
    site, sigrid = two_hubs.site, two_hubs.sigrid
    assert run("roster", "import", str(two_hubs.attack), *two_hubs.hub, "--county", "W",
               "--yes") == EXIT_ERROR  # two rows failed; the hub's own row went through
    out = capsys.readouterr()
    assert "row 3" in out.err and "row 4" in out.err
    assert not any(secret in out.out + out.err for secret in SECRETS)
    assert moodle_user(site, SIGRID["E-post"]).model_dump() == sigrid.model_dump()
    assert sigrid.id not in cohort_members(site, "W") and sigrid.id in cohort_members(site, "AB")
    stored = two_hubs.stored_persons()[sigrid.id]
    assert stored.county == "AB" and stored.email == SIGRID["E-post"] and stored.unit == "Hemliga enheten"


def test_a_hubs_personal_data_report_lists_only_its_own_county_after_such_an_import(
        two_hubs: TwoHubs, capsys: pytest.CaptureFixture[str]) -> None:
    run("roster", "import", str(two_hubs.attack), *two_hubs.hub, "--county", "W", "--yes")
    assert run("pull") == EXIT_OK
    capsys.readouterr()
    assert run("report", *two_hubs.hub, "--personal-data", "--format", "csv") == EXIT_OK
    report = capsys.readouterr().out
    assert person(1)["E-post"] in report
    assert SIGRID["E-post"] not in report
    assert not any(line.startswith(f"{two_hubs.sigrid.id};") for line in report.splitlines())


def test_a_hubs_session_assign_answers_alike_for_another_countys_person_and_for_nobody(
        two_hubs: TwoHubs, capsys: pytest.CaptureFixture[str]) -> None:
    def place(email: str) -> tuple[int, str]:
        code = run("session", "assign", *two_hubs.hub, "--course", "hrv-socialtjanst", "--session",
                   "falun-2026-03", "--email", email)
        captured = capsys.readouterr()
        return code, (captured.out + captured.err).replace(email, "<e-post>")

    writes = two_hubs.site.emulator.write_calls()
    hers, nobodys = place(SIGRID["E-post"]), place("finns.inte@stockholm.example.se")
    assert hers == nobodys and hers[0] == EXIT_ERROR and "held for an administrator" in hers[1]
    assert two_hubs.site.emulator.write_calls() == writes  # nobody placed
    assert place(person(1)["E-post"])[0] == EXIT_OK  # its own person is placed


def test_a_hub_cannot_reach_another_countys_person_by_username_or_other_capitals(
        applied: Site, tmp_path: Path) -> None:
    # Stockholm's people: one whose username is made from "ola+ek@…", one whose e-mail has capitals
    do_import(applied, write_roster(tmp_path / "ab.csv", [
        person(5, **{"E-post": "ola+ek@stockholm.example.se", "Organisation": "Stockholms stad",
                     "Anställnings-id": "AB-0005"})]), county="AB")
    api = applied.api()
    kalle = applied.emulator.add_user("kalle", "Kalle", "Stockholmsson", "Kalle.Ek@Stockholm.example.se",
                                      department="Hemliga enheten")
    [ab_cohort] = [c.id for c in api.search_cohorts("tg:") if c.idnumber == cohort_idnumber("socialsekreterare", "AB")]
    api.add_cohort_members([(ab_cohort, kalle)])
    # and an account of no county whose e-mail has capitals: a refusal that tells it exists shares the text
    applied.emulator.add_user("versal", "Vera", "Versalsson", "Vera.Versal@Falun.example.se")
    rows = [person(1), person(2, **{"E-post": "ola_ek@stockholm.example.se", "Anställnings-id": ""}),
            person(3, **{"E-post": "kalle.ek@stockholm.example.se", "Anställnings-id": ""}),
            person(4, **{"E-post": "vera.versal@falun.example.se", "Anställnings-id": ""})]
    path = write_roster(tmp_path / "w.csv", rows)
    report = do_import(applied, path, scope=DALARNA, dry_run=True)
    plan = report.to_dict()["plan"]
    text = json.dumps(plan, ensure_ascii=False) + render(report)
    assert [r["row"] for r in plan["refused"]] == [3, 4, 5] and len({r["reason"] for r in plan["refused"]}) == 1
    assert "Versalsson" not in text and "Vera.Versal" not in text
    assert plan["blocked"] == [] and "Stockholmsson" not in text and "Hemliga" not in text and "'kalle'" not in text \
        and "Kalle.Ek" not in text
    assert str(kalle) not in json.dumps(plan["update"]) + json.dumps(plan["add"])

    # an admin is unaffected: the same file updates them, and is told which account has the e-mail
    admin = do_import(applied, path, dry_run=True).roster
    assert admin.refused == [] and {u.person.row for u in admin.update} >= {3}
    assert [(r.row, "Kalle.Ek@" in why or "Vera.Versal@" in why) for r, why in admin.blocked] == [(4, True), (5, True)]


def test_a_hub_refusal_never_removes_the_person_from_its_own_cohorts(applied: Site, tmp_path: Path) -> None:
    # someone an admin put in both counties' cohorts stays where they are when Dalarna's full list names them
    do_import(applied, write_roster(tmp_path / "w.csv", [person(n) for n in range(6)]), scope=DALARNA)
    both = do_import(applied, write_roster(tmp_path / "ab.csv", [person(0)]), county="AB")
    assert both.outcome is not None and not both.outcome.failures
    uid = moodle_user(applied, person(0)["E-post"]).id
    again = do_import(applied, write_roster(tmp_path / "w2.csv", [person(n) for n in range(6)]), scope=DALARNA,
                      dry_run=True).roster
    assert [r.row for r, _why in again.refused] == [2]
    assert all(u != uid for _c, u in again.remove)


def test_a_hubs_e_mail_change_to_an_address_another_account_has_is_refused_with_the_same_text(
        applied: Site, tmp_path: Path) -> None:
    do_import(applied, write_roster(tmp_path / "w.csv", [person(1)]), scope=DALARNA)
    applied.emulator.add_user("annan", "Annan", "Hemlighet", "Annan.Adress@Falun.example.se")
    path = write_roster(tmp_path / "w2.csv", [person(1, **{"E-post": "annan.adress@falun.example.se",
                                                            "Förnamn": "Nytt"})])
    hub = do_import(applied, path, scope=DALARNA, dry_run=True).roster
    assert [(r.row, why) for r, why in hub.refused] == [(2, outside_text("W"))]
    assert hub.update == [] and hub.email_held == [] and hub.remove == []
    admin = do_import(applied, path, dry_run=True).roster  # an admin is told, and the name still changes
    assert [r.row for r, _why in admin.email_held] == [2] and [list(u.changes) for u in admin.update] == [["firstname"]]


def render(report: Any) -> str:
    from moodle_sync.explainer import render_roster_plan

    return render_roster_plan(report.plan)


def test_a_hubs_import_whose_only_failures_are_rows_it_may_not_use_exits_1_saying_who_can_import_them(
        two_hubs: TwoHubs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # its own new person (row 5) is created; rows 3 and 4 name Stockholm's Sigrid: a rerun can never change them,
    # so the exit is 1 with what to do, not 3 and "run it again"
    path = write_roster(tmp_path / "mixed.csv", [*attack_rows(), person(4)])
    for _ in range(2):
        assert run("roster", "import", str(path), *two_hubs.hub, "--county", "W", "--yes") == EXIT_ERROR
        err = capsys.readouterr().err
        assert "row 3 " in err and "row 4 " in err
        assert "an administrator can import these rows without --hub" in err
        assert "run the same roster import again" not in err and "converges" not in err
        assert not any(secret in err for secret in SECRETS)
    assert moodle_user(two_hubs.site, person(4)["E-post"]).id in cohort_members(two_hubs.site, "W")
