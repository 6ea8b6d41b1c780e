"""A hub changes only its own county's people (issue: "a hub can take over any account outside the counties").

The attack that landed: Dalarna's hub (county W) named, in its roster, a teacher in no county by her employee id
with the attacker's e-mail, and the site admin by e-mail. The import planned "adopt" for both, showed the
teacher's old e-mail, and after --yes re-addressed her account (a password reset then reaches the attacker),
renamed the admin, moved them into a W cohort and enrolled them. Every existing account that is not already the
county's is held for an administrator, with the one answer whatever the account is, and the plan shows nothing
of it; an administrator's import adopts it as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.commands.exits import EXIT_ERROR, EXIT_OK
from moodle_sync.config import Hub
from moodle_sync.identity import cohort_idnumber
from moodle_sync.scope import Scope, outside_text

from .conftest import Site, run
from .test_rosters import do_import, person, write_roster

DALARNA = Scope.for_hub("dalarna", Hub(county="W"))
ADMIN_EMAIL = "admin@example.se"  # the emulator's site admin (user 2), as on a stock site
TEACHER = {"username": "tina.teacher", "firstname": "Tina", "lastname": "Lärarsson",
           "email": "tina.teacher@skolan.example.se", "idnumber": "T123"}
#: what only Moodle knows of the accounts the hub names (the roster itself says "Tina Teacher", "Site Admin")
SECRETS = ("Lärarsson", "Hemliga skolan", "Admin User", "tina.teacher'")


def attack_rows() -> list[dict[str, str]]:
    """The issue's rows: the teacher claimed by employee id with the attacker's address, the admin by e-mail; then
    someone of the county's own, then an unknown employee id claimed with the teacher's e-mail."""
    return [person(1, **{"E-post": "attacker@evil.example", "Förnamn": "Tina", "Efternamn": "Teacher",
                         "Anställnings-id": "T123", "Anställningsdatum": "2020-01-01"}),
            person(2, **{"E-post": ADMIN_EMAIL, "Förnamn": "Site", "Efternamn": "Admin", "Anställnings-id": ""}),
            person(3),
            person(4, **{"E-post": TEACHER["email"], "Förnamn": "Ny", "Efternamn": "Namn",
                         "Anställnings-id": "EMP-9999"})]


@dataclass
class Attack:
    site: Site
    hub: tuple[str, ...]
    roster: Path
    teacher: int

    def user(self, userid: int) -> dict[str, Any]:
        [user] = self.site.api().users_by_field("id", [str(userid)])
        return user.model_dump()

    def w_members(self) -> set[int]:
        api = self.site.api()
        ids = [c.id for c in api.search_cohorts("tg:") if c.idnumber.endswith(":W")]
        return set().union(*api.cohort_members(ids).values())

    def enrolled_anywhere(self, userid: int) -> list[int]:
        return [c["id"] for c in self.site.courses() if self.site.emulator.enrolment(c["id"], userid)]


@pytest.fixture
def attack(served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Attack:
    config = tmp_path / "moodle-sync.toml"
    config.write_text('[hubs.dalarna]\ncounty = "W"\n', encoding="utf-8")
    assert run("apply", "--yes") == EXIT_OK
    teacher = served.emulator.add_user(TEACHER["username"], TEACHER["firstname"], TEACHER["lastname"],
                                       TEACHER["email"], TEACHER["idnumber"], auth="manual",
                                       department="Hemliga skolan")
    capsys.readouterr()
    return Attack(served, ("--config", str(config), "--hub", "dalarna"),
                  write_roster(tmp_path / "attack.csv", attack_rows()), teacher)


def admin_id(site: Site) -> int:
    [admin] = site.api().users_by_field("email", [ADMIN_EMAIL])
    return admin.id


def test_a_hubs_plan_holds_every_account_outside_its_county_with_one_answer_and_shows_nothing_of_them(
        attack: Attack, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("roster", "import", str(attack.roster), *attack.hub, "--county", "W", "--dry-run",
               "--json") == EXIT_OK
    said = capsys.readouterr()
    plan: dict[str, Any] = json.loads(said.out)["plan"]
    assert [r["row"] for r in plan["refused"]] == [2, 3, 5]
    assert {r["reason"] for r in plan["refused"]} == {outside_text("W")}
    assert [p["row"] for p in plan["create"]] == [4] and plan["update"] == [] and plan["adopt"] == []
    shown = said.out + said.err
    assert not any(secret in shown for secret in SECRETS), shown
    assert str(attack.teacher) not in json.dumps({k: plan[k] for k in ("update", "add", "remove")})


def test_a_hubs_import_takes_over_no_account_outside_its_county(
        attack: Attack, capsys: pytest.CaptureFixture[str]) -> None:
    admin = admin_id(attack.site)
    before = {uid: attack.user(uid) for uid in (attack.teacher, admin)}
    assert run("roster", "import", str(attack.roster), *attack.hub, "--county", "W", "--yes") == EXIT_ERROR
    said = capsys.readouterr()
    assert all(f"row {n}" in said.err for n in (2, 3, 5)) and "held for an administrator" in said.err
    assert {uid: attack.user(uid) for uid in (attack.teacher, admin)} == before  # not re-addressed nor renamed
    assert attack.teacher not in attack.w_members() and admin not in attack.w_members()
    assert attack.enrolled_anywhere(attack.teacher) == [] and attack.enrolled_anywhere(admin) == []
    [own] = attack.site.api().users_by_field("email", [person(3)["E-post"]])
    assert own.id in attack.w_members()  # the county's own row went through


def test_an_administrators_import_adopts_the_accounts_a_hub_could_not(attack: Attack, tmp_path: Path) -> None:
    path = write_roster(tmp_path / "w.csv", [person(5, **{"E-post": TEACHER["email"], "Förnamn": "Tina",
                                                          "Efternamn": "Teacher", "Anställnings-id": "T123"})])
    held = do_import(attack.site, path, scope=DALARNA, dry_run=True).roster
    assert [r.row for r, _why in held.refused] == [2] and held.adopted == []
    admin = do_import(attack.site, path)
    assert admin.outcome is not None and not admin.outcome.failures
    assert attack.teacher in attack.w_members()
    # from then on she is the county's: the hub's next list names her and nothing is held
    again = do_import(attack.site, path, scope=DALARNA, dry_run=True).roster
    assert again.refused == [] and again.adopted == []


def test_an_account_an_administrator_placed_in_the_countys_cohort_is_the_hubs(attack: Attack, tmp_path: Path) -> None:
    api = attack.site.api()
    [cohort] = [c.id for c in api.search_cohorts("tg:") if c.idnumber == cohort_idnumber("socialsekreterare", "W")]
    api.add_cohort_members([(cohort, attack.teacher)])
    path = write_roster(tmp_path / "w.csv", [person(5, **{"E-post": TEACHER["email"], "Förnamn": "Tina",
                                                          "Efternamn": "Lärare", "Anställnings-id": "T123"})])
    plan = do_import(attack.site, path, scope=DALARNA, dry_run=True).roster
    assert plan.refused == [] and [p.row for p in plan.adopted] == [2]
    assert [sorted(u.changes) for u in plan.update] == [["department", "institution", "lastname"]]


def hub_answer(site: Site, tmp_path: Path, row: dict[str, str]) -> list[tuple[int, str]]:
    path = write_roster(tmp_path / "one.csv", [row])
    return [(r.row, why) for r, why in do_import(site, path, scope=DALARNA, dry_run=True).roster.refused]


def test_the_hubs_answer_is_the_same_for_another_countys_person_an_account_in_no_county_and_the_admin(
        attack: Attack, tmp_path: Path) -> None:
    other = do_import(attack.site, write_roster(tmp_path / "ab.csv", [person(7, **{
        "E-post": "sigrid@stockholm.example.se", "Anställnings-id": "AB-1"})]), county="AB")
    assert other.outcome is not None and not other.outcome.failures
    answers = [hub_answer(attack.site, tmp_path, person(1, **over)) for over in (
        {"E-post": "sigrid@stockholm.example.se", "Anställnings-id": ""},   # another county's, by e-mail
        {"E-post": "ny@falun.example.se", "Anställnings-id": "AB-1"},       # another county's, by employee id
        {"E-post": TEACHER["email"], "Anställnings-id": ""},                # in no county, by e-mail
        {"E-post": "ny@falun.example.se", "Anställnings-id": "T123"},       # in no county, by employee id
        {"E-post": ADMIN_EMAIL, "Anställnings-id": ""},                     # the site admin
        {"E-post": "Tina.Teacher@Skolan.example.se", "Anställnings-id": ""},  # in other capitals
        {"E-post": "tina.teacher@skolan.example.se", "Anställnings-id": "EMP-4242"})]  # unknown id, taken e-mail
    assert answers == [[(2, outside_text("W"))]] * len(answers)


def test_a_hubs_plan_shows_no_old_value_of_its_own_countys_accounts_and_the_store_still_learns_moodles(
        attack: Attack, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = do_import(attack.site, write_roster(tmp_path / "w.csv", [person(1)]), scope=DALARNA)
    assert first.outcome is not None and not first.outcome.failures
    moved = write_roster(tmp_path / "w2.csv", [person(1, **{"E-post": "ny.adress@falun.example.se",
                                                            "Efternamn": "Nyström"})])
    assert run("roster", "import", str(moved), *attack.hub, "--county", "W", "--dry-run") == EXIT_OK
    text = capsys.readouterr()
    assert "new e-post: ny.adress@falun.example.se" in text.out
    assert run("roster", "import", str(moved), *attack.hub, "--county", "W", "--dry-run", "--json") == EXIT_OK
    said = capsys.readouterr()
    shown = said.out + said.err + text.out + text.err
    assert person(1)["E-post"] not in shown and "Efternamn1" not in shown
    [change] = json.loads(said.out)["plan"]["update"]
    assert change["changes"] == {"lastname": [None, "Nyström"], "email": [None, "ny.adress@falun.example.se"]}
    assert run("roster", "import", str(moved), *attack.hub, "--county", "W", "--yes") == EXIT_OK
    [user] = attack.site.api().users_by_field("email", ["ny.adress@falun.example.se"])
    stored = attack.site.store(attack.site.api()).persons()[user.id]
    assert user.lastname == "Nyström" and stored.email == "ny.adress@falun.example.se"
