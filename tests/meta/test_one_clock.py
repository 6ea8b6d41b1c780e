"""One clock (moodle_sync/clock.py): nothing else in the tool asks the machine what time or day it is, so the
report, the plan, the reminders and the portal agree on Sweden's day whatever the server's timezone."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path

import pytest

import moodle_sync
from moodle_sync import clock

PACKAGE = Path(moodle_sync.__file__).parent
#: calls that read the machine's clock: (what they are called on, the method)
CLOCK_CALLS = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
               ("time", "time")}


def _reads_the_clock(node: ast.Call) -> bool:
    func = node.func
    if not isinstance(func, ast.Attribute):
        return False
    owner = func.value
    name = owner.attr if isinstance(owner, ast.Attribute) else owner.id if isinstance(owner, ast.Name) else ""
    return (name, func.attr) in CLOCK_CALLS


def test_only_the_clock_module_reads_the_machines_clock() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "clock.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _reads_the_clock(node):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == [], f"use moodle_sync.clock instead: {found}"


@pytest.mark.parametrize(("utc", "swedish_day"), [
    ("2026-12-07T23:30:00+00:00", "2026-12-08"),   # winter: Stockholm is UTC+1, already tomorrow
    ("2026-06-30T22:30:00+00:00", "2026-07-01"),   # summer: UTC+2
    ("2026-12-07T12:00:00+00:00", "2026-12-07"),
])
def test_today_is_swedens_day_whatever_the_machines(utc: str, swedish_day: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    moment = datetime.datetime.fromisoformat(utc)
    monkeypatch.setattr(clock, "now", lambda: moment)
    assert clock.today().isoformat() == swedish_day
    assert clock.shown(utc) == (moment.astimezone(clock.STOCKHOLM)).strftime("%Y-%m-%d %H:%M")
    assert clock.shown("2026-12-06T23:04:58+00:00") == "2026-12-07 00:04"  # what the portal used to show in UTC
