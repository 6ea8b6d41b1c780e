"""Logs and messages name nobody (issue 23, part 4): the main commands run end to end with every log record
captured down to --debug's bodies, and no line holds a fixture person's e-mail address or name.

Commands whose output is about named people (roster import, session assign, remind --dry-run, report
--personal-data, person show) may print them; their log records may not. The others' output may not either.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from moodle_sync import clock

from .conftest import Site, run
from .test_rosters import person, write_roster

PEOPLE = [person(n, **{"Förnamn": f"Ylva{n}q", "Efternamn": f"Zetterqvist{n}x",
                       "E-post": f"ylva{n}.zetterqvist@mora.example.se"}) for n in range(4)]


def traces(text: str) -> list[str]:
    """The fixture people's addresses and names found in ``text`` (any case)."""
    low = text.lower()
    words = [w for p in PEOPLE for w in (p["E-post"], p["Förnamn"], p["Efternamn"])]
    return [w for w in words if w.lower() in low]


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of the tool, --debug's bodies included (Moodle's own, the emulator's, aside)."""
    caplog.set_level(logging.DEBUG, logger="moodle_sync")
    return caplog


def tool_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if not r.name.startswith("moodle_sync.emulator")]


def test_no_log_line_of_the_main_commands_names_a_person(
        served: Site, tmp_path: Path, records: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    roster = write_roster(tmp_path / "mora.csv", PEOPLE)
    said: dict[str, str] = {}

    def step(*args: str, personal: bool = False, code: int = 0) -> None:
        capsys.readouterr()
        assert run(*args) == code, args
        out = capsys.readouterr()
        if not personal:
            said[" ".join(args)] = out.out + out.err

    step("apply", "--yes", "-v")
    step("roster", "import", str(roster), "--county", "W", "--yes", "-v", personal=True)
    soc = served.api().course_by_idnumber("hrv-socialtjanst@1")
    assert soc is not None
    users = served.api().enrolled_users(soc.id, only_active=True)
    for cm in (m["id"] for m in served.emulator.course_modules(soc.id) if m["completion"]):
        served.emulator.set_activity_completion(cm, users[0].id, 1, clock.epoch() - 60)
    step("pull", "-v")
    step("session", "assign", "--course", "hrv-socialtjanst", "--session", "falun-2026-03", "--email",
         PEOPLE[1]["E-post"], "-v", personal=True)
    step("remind", "--before-deadline", "3650d", "--dry-run", "-v", personal=True)
    step("remind", "--before-deadline", "3650d", "-v")
    step("report", "--by", "county,target_group", "-v")
    step("report", "--personal-data", "-v", personal=True)
    step("plan", "-v", code=0)
    step("runs", "-v")
    step("roster", "import", str(write_roster(tmp_path / "mora-2.csv", PEOPLE[1:])), "--county", "W", "--yes",
         "--allow-mass-removal", "-v", personal=True)
    step("apply", "--yes", "-v")
    step("purge", "-v")

    lines = tool_lines(records)
    assert len(lines) > 50 and any("core_user_create_users" in line for line in lines), "the calls were logged"
    named = [f"{line[:200]} → {traces(line)}" for line in lines if traces(line)]
    assert named == []
    assert {args: traces(text) for args, text in said.items() if traces(text)} == {}
