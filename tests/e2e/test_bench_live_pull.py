"""benchmarks/bench_live_pull.py against the emulator behind a real HTTP server: the figures it prints come from the
pull it times (its report pages, their rows saved) and from the pages it asks for beside it, so that a change to the
pull that moves what the benchmark watches shows here rather than as a benchmark that quietly prints less."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Site
from .test_bulk_pull import dalarna, make_report, routine  # noqa: F401 (dalarna: a fixture)
from .test_completions import County

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_live_pull.py"


def test_the_live_pull_benchmark_times_a_routine_pull_beside_its_pages(dalarna: County, served: Site,  # noqa: F811
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    make_report(served)
    routine(dalarna, monkeypatch)
    done = subprocess.run([sys.executable, str(BENCH), "--rounds", "2", "--target", "120"], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))
    assert done.returncode == 0, done.stdout + done.stderr
    rounds = [line for line in done.stdout.splitlines() if line.startswith("round ")]
    assert len(rounds) == 2, done.stdout
    for line in rounds:
        assert re.search(r"pull [\d.]+ s \(exit 0, [1-9]\d* report calls\) \| pages of [1-9]\d* rows: one alone "
                         r"[\d.]+ s, 1 side by side [\d.]+ s \| pages asked at [\d.]+ s, came by [\d.]+ s, rows saved "
                         r"by [\d.]+ s, returned [\d.]+ s$", line), line
        asked, came, saved, returned = (float(x) for x in re.findall(r"(?:at|by|returned) ([\d.]+) s", line))
        assert asked <= came <= saved <= returned, line
    assert "2 of 2 within 120 s" in done.stdout, done.stdout
    assert re.search(r"beyond the pages side by side: median -?[\d.]+ s", done.stdout), done.stdout


def test_the_live_pull_benchmark_says_what_is_missing_without_a_site(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOODLE_URL", "MOODLE_TOKEN", "MOODLE_SYNC_"))}
    done = subprocess.run([sys.executable, str(BENCH), "--rounds", "1"], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("probe: no Moodle URL given"), done.stderr
