"""The demo rosters in course_specs/rosters/ parse cleanly against the real target groups."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from moodle_sync.rosters.parse import read_roster

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "course_specs" / "rosters"


def target_groups() -> dict[str, str]:
    entries = YAML(typ="safe").load((ROOT / "course_specs" / "target_groups.yaml").read_text(encoding="utf-8"))
    return {str(e["key"]): str(e["name"]) for e in entries}


@pytest.mark.parametrize(("name", "fmt", "county", "organisations"), [
    ("dalarna-W.csv", "csv", "W", {"Falu kommun", "Borlänge kommun", "Mora kommun", "Ludvika kommun"}),
    ("stockholm-AB.xlsx", "xlsx", "AB", {"Södertälje kommun", "Huddinge kommun", "Solna stad"}),
])
def test_sample_rosters_parse_with_no_problems(name: str, fmt: str, county: str, organisations: set[str]) -> None:
    roster = read_roster(SAMPLES / name, target_groups=target_groups())
    assert roster.problems == [], [str(p) for p in roster.problems]
    assert roster.format == fmt and roster.ignored_columns == []
    assert 20 <= len(roster.rows) <= 30
    assert {r.county for r in roster.rows} == {county}
    assert organisations <= {r.organisation for r in roster.rows}
    assert all(r.email.endswith(".example.se") for r in roster.rows)     # fictitious people only
    assert all(r.employment_start is not None for r in roster.rows)
    assert any(len(r.target_groups) > 1 for r in roster.rows)


def test_the_csv_sample_is_what_swedish_excel_writes() -> None:
    roster = read_roster(SAMPLES / "dalarna-W.csv", target_groups=target_groups())
    assert (roster.encoding, roster.delimiter) == ("utf-8-sig", ";")
    assert (SAMPLES / "dalarna-W.csv").read_bytes().count(b"\r\n") == len(roster.rows) + 1
