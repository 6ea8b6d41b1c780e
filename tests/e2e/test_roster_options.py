"""Roster import options as a county coordinator meets them: --skip-invalid lists what it skipped, a dry run
is never blocked by the mass-removal guard, --hub implies its county, --sheet picks a worksheet."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from .conftest import Site, run
from .test_rosters import HEADER, course_id, enrolment, person, write_roster


def moodle_id(site: Site, n: int) -> int:
    [user] = site.api().users_by_field("email", [person(n)["E-post"]])
    return user.id


@pytest.fixture
def applied(served: Site, capsys: pytest.CaptureFixture[str]) -> Site:
    assert run("apply", "--yes") == 0
    capsys.readouterr()
    return served


def test_skip_invalid_lists_each_skipped_row_with_its_reason(applied: Site, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = write_roster(tmp_path / "w.csv", [person(1), person(2, **{"E-post": "inte-en-adress"}),
                                             person(3, **{"Målgrupp": "okänd grupp"})])
    assert run("roster", "import", "--county", "W", str(path), "--skip-invalid", "--dry-run") == 0
    text = capsys.readouterr().out
    assert "  1 person in the file, 2 invalid rows skipped" in text
    assert [line for line in text.splitlines() if line.startswith("    row ")][:2] == [
        line for line in text.splitlines() if "skipped: column" in line]
    assert '    row 3 skipped: column "E-post": ' in text and "inte-en-adress" in text
    assert '    row 4 skipped: column "Målgrupp": ' in text
    assert run("roster", "import", "--county", "W", str(path), "--skip-invalid", "--dry-run", "--json") == 0
    skipped = json.loads(capsys.readouterr().out)["plan"]["skipped_invalid"]
    assert [s["row"] for s in skipped] == [3, 4]
    assert all(s["reasons"] and s["reasons"][0].startswith("column ") for s in skipped)


def test_a_dry_run_shows_who_would_leave_where_the_import_would_stop(applied: Site, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    full = write_roster(tmp_path / "full.csv", [person(n) for n in range(1, 6)])
    assert run("roster", "import", "--county", "W", str(full), "--yes") == 0
    short = write_roster(tmp_path / "short.csv", [person(1)])
    capsys.readouterr()
    assert run("roster", "import", "--county", "W", str(short), "--dry-run") == 0
    text = capsys.readouterr().out
    assert "! this import would take 4 of 5 members (80%) out of Dalarnas län's cohorts" in text
    assert "--allow-mass-removal" in text
    assert "- 4 people leave:" in text
    leaving = [line for line in text.splitlines() if " leaves socialsekreterare" in line]
    # each named as people know them, with what they lose (the rules of socialsekreterare: two courses)
    assert sorted(line.split()[0] for line in leaving) == [f"Förnamn{n}" for n in range(2, 6)]
    assert all(f"(person{line.split()[0][7:]}@falun.example.se, Falu kommun; user " in line for line in leaving)
    assert all(line.endswith("; enrolment suspended in hrv-socialtjanst@1, nck-grundkurs-vinr@2") for line in leaving)
    assert run("roster", "import", "--county", "W", str(short), "--dry-run", "--json") == 0
    leavers = json.loads(capsys.readouterr().out)["plan"]["leavers"]
    assert [(p["name"], p["organisation"], p["target_groups"], p["suspended_in"]) for p in leavers] == [
        (f"Förnamn{n} Efternamn{n}", "Falu kommun", ["socialsekreterare"],
         ["hrv-socialtjanst@1", "nck-grundkurs-vinr@2"]) for n in range(2, 6)]
    assert run("roster", "import", "--county", "W", str(short), "--yes") == 1
    err = capsys.readouterr().err
    assert "would take 4 of 5 members" in err and "nothing was written" in err


@pytest.fixture
def hubs(applied: Site, tmp_path: Path) -> Path:
    (tmp_path / "moodle-sync.toml").write_text('[hubs.dalarna]\ncounty = "W"\n', encoding="utf-8")
    return tmp_path


def test_hub_implies_its_county(hubs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_roster(hubs / "w.csv", [person(1)])
    assert run("roster", "import", "--hub", "dalarna", str(path), "--dry-run") == 0
    assert "Roster for Dalarnas län (W)" in capsys.readouterr().out


def test_a_mistyped_hub_gets_did_you_mean(hubs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_roster(hubs / "w.csv", [person(1)])
    assert run("roster", "import", "--hub", "dalarana", str(path), "--dry-run") == 1
    assert "unknown hub 'dalarana'; did you mean 'dalarna'?" in capsys.readouterr().err


def test_neither_county_nor_hub_is_a_usage_error(applied: Site, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write_roster(tmp_path / "w.csv", [person(1)])
    assert run("roster", "import", str(path), "--dry-run") == 64
    assert "--county" in capsys.readouterr().err


def workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.title = "Instruktioner"
    book.active.append(["Fyll i personalen på bladet Personal"])
    staff = book.create_sheet("Personal")
    staff.append(HEADER)
    row = person(1)
    staff.append([row[h] for h in HEADER])
    book.save(path)
    return path


def test_sheet_picks_the_worksheet_and_a_wrong_first_sheet_names_the_others(
        applied: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = workbook(tmp_path / "w.xlsx")
    assert run("roster", "import", "--county", "W", str(path), "--dry-run") == 1
    err = capsys.readouterr().err
    assert 'this was sheet "Instruktioner"; the workbook also has "Personal"' in err and "--sheet" in err
    assert run("roster", "import", "--county", "W", str(path), "--dry-run", "--sheet", "Personal") == 0
    assert "  1 person in the file" in capsys.readouterr().out
    assert run("roster", "import", "--county", "W", str(path), "--dry-run", "--sheet", "Blad9") == 1
    assert "no sheet 'Blad9'" in capsys.readouterr().err


def test_nobody_leaves_because_their_only_rows_were_skipped(applied: Site, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    # issue 19: a person listed twice (both rows invalid) was treated as leaving, and their enrolments suspended
    assert run("roster", "import", "--county", "W", str(write_roster(tmp_path / "full.csv", [
        person(n) for n in range(1, 6)])), "--yes") == 0
    rows = [person(1), person(2), person(3), person(3, **{"Förnamn": "Tredje"}),
            person(4, **{"Anställningsdatum": "inte ett datum"}), person(5)]
    path = write_roster(tmp_path / "again.csv", rows)
    capsys.readouterr()
    assert run("roster", "import", "--county", "W", str(path), "--skip-invalid", "--dry-run", "--json") == 0
    plan = json.loads(capsys.readouterr().out)["plan"]
    assert [s["row"] for s in plan["skipped_invalid"]] == [4, 5, 6]
    assert plan["remove"] == [] and plan["leavers"] == [] and plan["kept_for_unused_rows"] == 2
    assert run("roster", "import", "--county", "W", str(path), "--skip-invalid", "--dry-run") == 0
    assert "= keep 2 cohort memberships of people whose only rows were skipped" in capsys.readouterr().out
    soc = course_id(applied, "hrv-socialtjanst@1")
    before = {n: enrolment(applied, soc, moodle_id(applied, n)) for n in (3, 4)}
    assert run("roster", "import", "--county", "W", str(path), "--skip-invalid", "--yes") == 0
    assert {n: enrolment(applied, soc, moodle_id(applied, n)) for n in (3, 4)} == before
    assert all(e is not None and e[0] == 0 for e in before.values())  # still active
