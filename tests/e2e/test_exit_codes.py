"""Exit codes tell the truth: a run that wrote part of its work exits 3 ("run again"), and its record
in the state store is always closed, never left "running"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.commands.exits import EXIT_ERROR, EXIT_PARTIAL
from moodle_sync.emulator import Fault, SimulatedCrash
from moodle_sync.writing import settle as settle_module

from .conftest import Site, run
from .test_rosters import do_import, person, write_roster

ENROL = "enrol_manual_enrol_users"
REFUSAL: dict[str, Any] = {"exception": "moodle_exception", "errorcode": "wsnoinstance",
                           "message": "Manual enrolment plugin instance doesn't exist or is disabled for the course"}


MAINTENANCE: dict[str, Any] = {"exception": "moodle_exception", "errorcode": "sitemaintenance",
                               "message": "The site is undergoing maintenance and is currently not available"}


def runs(site: Site) -> list[dict[str, Any]]:
    """The runs the library recorded (the site's in-process URL)."""
    api = site.api()
    store = site.store(api)
    try:
        return store.runs(50)
    finally:
        store.close()


def cli_runs(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The runs the command line recorded, as `moodle-sync runs --json` shows them."""
    capsys.readouterr()
    assert run("runs", "--json") == 0
    return list(json.loads(capsys.readouterr().out))


@pytest.fixture
def one_try(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_SYNC_RETRIES", "1")
    monkeypatch.setattr(settle_module, "LOST_ANSWER_WAIT", 0.0)


def test_a_roster_import_whose_enrolments_are_refused_exits_3_after_creating_the_people(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    served.apply()
    served.emulator.faults.add(Fault(kind="exception", wsfunction=ENROL, error=REFUSAL, times=None))
    path = write_roster(tmp_path / "w.csv", [person(n) for n in range(3)])
    capsys.readouterr()
    assert run("roster", "import", "--county", "W", str(path), "--yes") == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert "finished partly" in err and "run the same roster import again" in err
    assert cli_runs(capsys)[0]["status"] == "partial"


def blocked_roster(site: Site, tmp_path: Path) -> Path:
    """Two new people; Moodle already has row 3's e-mail with other capitals, so that row is never sent."""
    site.emulator.add_user("versal", "Vera", "Versal", "Person1@Falun.example.se")
    return write_roster(tmp_path / "w.csv", [person(0), person(1)])


def test_a_roster_import_whose_only_failures_are_rows_it_refused_exits_1_naming_them_and_what_to_fix(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # row 2 is created; row 3 can never be (a rerun plans the same refusal): exit 1 and the fix, not 3 "run again"
    served.apply()
    path = blocked_roster(served, tmp_path)
    capsys.readouterr()
    assert run("roster", "import", "--county", "W", str(path), "--yes") == EXIT_ERROR
    err = capsys.readouterr().err
    assert "row 3 (person1@falun.example.se)" in err and "Give the row its employee id" in err
    assert "run the same roster import again" not in err and "converges" not in err
    assert "the rest of the import is done" in err
    assert served.api().users_by_field("email", ["person0@falun.example.se"])


def test_a_roster_import_with_refused_rows_and_a_moodle_failure_exits_3_and_says_which_a_rerun_fixes(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    served.apply()
    served.emulator.faults.add(Fault(kind="exception", wsfunction=ENROL, error=REFUSAL, times=None))
    path = blocked_roster(served, tmp_path)
    capsys.readouterr()
    assert run("roster", "import", "--county", "W", str(path), "--yes") == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert "run the same roster import again" in err
    assert "row 3 (person1@falun.example.se)" in err and "a rerun does not change" in err


def test_a_roster_import_stopped_after_creating_people_exits_3_and_closes_its_run(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str], one_try: None) -> None:
    # the site goes into maintenance after the people were created: the import stops, but it wrote part of
    # its work, so the user must hear "run again", and the run must not stay "running"
    served.apply()
    served.emulator.faults.add(Fault(kind="exception", wsfunction="core_cohort_add_cohort_members",
                                     error=MAINTENANCE, times=None))
    args = ["roster", "import", "--county", "W", str(write_roster(tmp_path / "w.csv", [person(0)])), "--yes"]
    capsys.readouterr()
    assert run(*args) == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert "stopped part-way" in err and "run the same roster import again" in err
    latest = cli_runs(capsys)[0]
    assert latest["status"] == "partial" and latest["finished_at"]
    served.emulator.faults.clear()
    assert run(*args) == 0  # and it converges


def test_an_apply_whose_writes_all_went_unanswered_exits_3(served: Site, capsys: pytest.CaptureFixture[str],
                                                          one_try: None) -> None:
    # every create got a proxy's 503 (nothing shows as done): Moodle may have made them, so this is not
    # "nothing was done"
    for create in ("core_course_create_categories", "core_cohort_create_cohorts"):
        served.emulator.faults.add(Fault.gateway(503, create, ran=False, times=None))
    assert run("apply", "--yes") == EXIT_PARTIAL
    assert cli_runs(capsys)[0]["status"] == "partial"


def test_a_run_that_wrote_nothing_before_its_error_exits_1(served: Site, capsys: pytest.CaptureFixture[str],
                                                           one_try: None) -> None:
    served.emulator.faults.add(Fault(kind="exception", wsfunction="core_course_create_categories",
                                     error=MAINTENANCE, times=None))
    assert run("apply", "--yes") == EXIT_ERROR
    assert cli_runs(capsys)[0]["status"] == "failed"


@pytest.mark.parametrize("command", ["apply", "roster import"])
def test_a_run_killed_mid_way_is_recorded_as_interrupted_not_running(site: Site, tmp_path: Path,
                                                                      command: str) -> None:
    if command == "apply":
        site.emulator.faults.add(Fault(kind="crash", wsfunction="core_course_create_courses"))
        with pytest.raises(SimulatedCrash):
            site.apply()
    else:
        site.apply()
        site.emulator.faults.add(Fault(kind="crash", wsfunction=ENROL))
        with pytest.raises(SimulatedCrash):
            do_import(site, write_roster(tmp_path / "w.csv", [person(0)]))
    statuses = [r["status"] for r in runs(site)]
    assert "running" not in statuses
    assert statuses[0] == "interrupted"


def ctrl_c_after(monkeypatch: pytest.MonkeyPatch, wsfunction: str) -> None:
    """The person presses Ctrl-C the moment the first call of ``wsfunction`` has been answered."""
    from moodle_sync.moodle.client import MoodleClient

    real = MoodleClient.call

    def call(self: MoodleClient, function: str, *args: Any, **kwargs: Any) -> Any:
        answer = real(self, function, *args, **kwargs)
        if function == wsfunction:
            raise KeyboardInterrupt
        return answer

    monkeypatch.setattr(MoodleClient, "call", call)


def test_ctrl_c_after_a_write_exits_3_saying_run_it_again(served: Site, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    ctrl_c_after(monkeypatch, "core_course_create_categories")
    capsys.readouterr()
    assert run("apply", "--yes") == EXIT_PARTIAL  # was 1, "Aborted."
    err = capsys.readouterr().err
    assert "interrupted after part of the work was written to Moodle" in err and "run the same command again" in err
    assert "Traceback" not in err
    assert cli_runs(capsys)[0]["status"] == "interrupted"


def test_ctrl_c_before_any_write_exits_1_saying_nothing_was_written(served: Site, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ctrl_c_after(monkeypatch, "core_webservice_get_site_info")
    capsys.readouterr()
    assert run("apply", "--yes") == EXIT_ERROR
    assert capsys.readouterr().err.strip() == "Aborted: nothing was written to Moodle."


def test_ctrl_c_while_the_command_line_loads_is_one_line_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import builtins
    import sys

    from moodle_sync import entry

    real_import = builtins.__import__

    def slow_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "moodle_sync.cli":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "moodle_sync.cli")
    monkeypatch.setattr(builtins, "__import__", slow_import)
    with pytest.raises(SystemExit) as stopped:
        entry.main()
    assert stopped.value.code == EXIT_ERROR
    assert capsys.readouterr().err == "Aborted: nothing was written to Moodle.\n"


@pytest.mark.parametrize(("args", "said"), [
    (("--format", "csv", "--out", "r.xlsx"), "--format csv but --out r.xlsx ends in .xlsx"),
    (("--out", "r.pdf"), "the suffix .pdf names no report format"),
])
def test_report_out_whose_suffix_disagrees_or_names_no_format_is_a_usage_error(
        args: tuple[str, ...], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("report", *args) == 64
    assert said in capsys.readouterr().err and not list(tmp_path.iterdir())  # nothing written
