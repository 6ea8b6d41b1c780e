"""Issue 22: a roster import's plan holds the enrolments that follow from it (for people it creates too, by row),
its dry run lists them, and applying writes exactly those; the applier decides nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.commands.exits import EXIT_OK

from .conftest import Site, run
from .test_rosters import person, write_roster

Enrolments = dict[tuple[str, str], tuple[int, int, int]]


def enrolments(site: Site) -> Enrolments:
    """(course idnumber, e-mail) → (status, timestart, timeend) of every manual enrolment in the emulated site."""
    tables = site.emulator.snapshot()
    courses = {c["id"]: c["idnumber"] for c in tables["course"]}
    instances = {e["id"]: courses[e["courseid"]] for e in tables["enrol"]}
    emails = {u["id"]: u["email"] for u in tables["user"]}
    return {(instances[ue["enrolid"]], emails[ue["userid"]]): (ue["status"], ue["timestart"], ue["timeend"])
            for ue in tables["user_enrolments"]}


def changed(before: Enrolments, after: Enrolments) -> set[tuple[str, str]]:
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def dry_run(roster: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert run("roster", "import", str(roster), "--config", str(config), "--hub", "dalarna", "--dry-run",
               "--json") == EXIT_OK
    plan: dict[str, Any] = json.loads(capsys.readouterr().out)["plan"]
    return plan


@pytest.fixture
def config(served: Site, tmp_path: Path) -> Path:
    path = tmp_path / "moodle-sync.toml"
    path.write_text('[hubs.dalarna]\ncounty = "W"\n', encoding="utf-8")
    assert run("apply", "--yes") == EXIT_OK
    return path


def test_a_hubs_dry_run_lists_the_enrolments_that_follow_and_the_import_writes_exactly_those(
        served: Site, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [person(n) for n in range(6)]
    roster = write_roster(tmp_path / "w.csv", rows)
    plan = dry_run(roster, config, capsys)
    listed = plan["enrolments"]
    # social workers: two rules (hrv-socialtjanst, nck-grundkurs-vinr), for each of the six new people, by row
    assert {(e["course"], e["person"]["email"]) for e in listed} == {
        (c, r["E-post"]) for c in ("hrv-socialtjanst@1", "nck-grundkurs-vinr@2") for r in rows}
    first = next(e for e in listed if e["person"]["email"] == "person0@falun.example.se")
    assert first["what"] == "enrol" and first["role"] == "student" and first["method"] == "manual"
    assert first["person"] == {"userid": None, "row": 2, "name": "Förnamn0 Efternamn0",
                               "email": "person0@falun.example.se", "created_by_this_import": True}
    assert plan["counts"]["enrolments"] == 12

    before = enrolments(served)
    capsys.readouterr()
    assert run("roster", "import", str(roster), "--config", str(config), "--hub", "dalarna", "--yes") == EXIT_OK
    said = capsys.readouterr()
    text = said.out + said.err  # the plan is said before the confirmation
    assert "then enrolments in hrv-socialtjanst@1: enrol 6" in text
    assert "enrol Förnamn0 Efternamn0 <person0@falun.example.se> (created by this import, row 2) as student" in text
    after = enrolments(served)
    assert changed(before, after) == {(e["course"], e["person"]["email"]) for e in listed}
    assert {after[(e["course"], e["person"]["email"])] for e in listed} == {
        (0, e["timestart"], e["timeend"]) for e in listed}

    # nothing is left to do: the same file plans nothing, and the spec sync has nothing either
    again = dry_run(roster, config, capsys)
    assert again["enrolments"] == [] and [a["action"] for a in again["actions"]] == ["RecordPeople"]
    assert run("plan", "--detailed-exitcode") == EXIT_OK
    assert "No changes" in capsys.readouterr().out

    # one leaves: the plan names whose enrolments are suspended (never removed), in every course version
    fewer = write_roster(tmp_path / "fewer.csv", rows[1:])
    leaving = dry_run(fewer, config, capsys)["enrolments"]
    assert {(e["course"], e["what"], e["person"]["name"], e["person"]["userid"] is not None) for e in leaving} == {
        ("hrv-socialtjanst@1", "suspend", "Förnamn0 Efternamn0", True),
        ("nck-grundkurs-vinr@2", "suspend", "Förnamn0 Efternamn0", True)}
    before = enrolments(served)
    assert run("roster", "import", str(fewer), "--config", str(config), "--hub", "dalarna", "--yes") == EXIT_OK
    after = enrolments(served)
    assert changed(before, after) == {(e["course"], "person0@falun.example.se") for e in leaving}
    assert {after[(e["course"], "person0@falun.example.se")][0] for e in leaving} == {1}


def test_the_plan_file_of_an_import_says_which_person_an_enrolment_waits_for(
        served: Site, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    roster = write_roster(tmp_path / "w.csv", [person(1)])
    actions = dry_run(roster, config, capsys)["actions"]
    follow = [a for a in actions if a["action"] == "FollowEnrolments"]
    assert {a["idnumber"] for a in follow} == {"hrv-socialtjanst@1", "nck-grundkurs-vinr@2"}
    assert all(a["course_id"] and a["county"] == "W" for a in follow)
    assert {(i["userid"], i["row"], i["email"]) for a in follow for i in a["enrol"]} == {
        (0, 2, "person1@falun.example.se")}
