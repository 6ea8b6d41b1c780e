"""Quiet, informative output: apply of the national set is a summary by kind, each item only with -v;
no internal class name reaches people; a roster import prints its plan once, with the right plural forms."""

from __future__ import annotations

import io
import itertools
import logging
import re
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodle_sync import console as console_module
from moodle_sync.console import Console
from moodle_sync.jobs.sync import apply as apply_specs

from .conftest import Site, run
from .test_rosters import person, write_roster

ACTION_CLASS = re.compile(r"\b(Create|Update|Hide|Record|Import|Sync)[A-Z][a-z]+\b")


@pytest.fixture(autouse=True)
def quiet_again() -> Iterator[None]:
    yield
    logging.getLogger("moodle_sync").setLevel(logging.NOTSET)


def test_apply_of_the_national_set_prints_a_summary_by_kind(served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("apply", "--yes") == 0
    out, err = capsys.readouterr()
    assert not [line for line in err.splitlines() if line.lstrip().startswith("done")], "no line per item"
    assert out.strip().startswith("Applied: 5 categories created, 6 courses created, 3 templates copied into "
                                  "their courses, 5 session groups created, ")
    cohorts = len(served.specs().target_groups) * 21
    assert f"{cohorts} cohorts created (run " in out
    assert not ACTION_CLASS.search(out + err), ACTION_CLASS.search(out + err)
    assert "change(s)" not in err and "Plan: 250 changes (" in err
    assert f"  … and {cohorts - 12} more cohorts to create (all of them are in `plan --json`)" in err


def test_apply_verbose_shows_each_item_in_words(served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("apply", "--yes", "-v") == 0
    err = capsys.readouterr().err
    done = [line for line in err.splitlines() if line.lstrip().startswith("done")]
    assert len(done) == 250
    assert any(re.fullmatch(r"  done     cohort tg:utbildare:W created \(id \d+\)", line) for line in done)
    assert not ACTION_CLASS.search(err)


def test_apply_draws_a_progress_bar_on_a_terminal(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    # the bar is redrawn at most every 0.1 s: a clock a second further on at each look, however fast the apply
    seconds = itertools.count()
    monkeypatch.setattr(console_module, "time", types.SimpleNamespace(monotonic=lambda: float(next(seconds))))
    err = io.StringIO()
    console = Console(progress=True, err=err)
    api = site.api()
    apply_specs(api, site.specs(), site.store(api), console=console)
    drawn = err.getvalue()
    assert "\r\033[K[" in drawn and "/250 applied" in drawn
    assert "done " not in drawn


def test_a_roster_import_prints_its_plan_once_with_right_plurals(served: Site, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert run("apply", "--yes") == 0
    one = write_roster(tmp_path / "one.csv", [person(1)])
    capsys.readouterr()
    assert run("roster", "import", "--county", "W", str(one), "--yes") == 0
    out, err = capsys.readouterr()
    both = out + err
    assert both.count("Roster for Dalarnas län") == 1, both
    assert "  1 person in the file" in both and "+ create 1 user: " in both and "+ add 1 cohort membership\n" in both
    assert "1 people" not in both and "(s)" not in both
    assert "Done: 1 person created, 0 updated, 1 cohort membership added, 0 removed." in out
    two = write_roster(tmp_path / "two.csv", [person(1), person(2)])
    assert run("roster", "import", "--county", "W", str(two), "--dry-run") == 0
    out, err = capsys.readouterr()
    assert (out + err).count("Roster for Dalarnas län") == 1
    assert "  2 people in the file" in out + err
