"""The command line over real HTTP to the emulator on loopback: exit codes, --json, saved plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moodle_sync.commands.exits import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_USAGE
from moodle_sync.emulator import serve

from .conftest import TOKEN, Site, run


def test_plan_detailed_exitcode_is_2_with_changes_and_0_in_sync(
        served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("plan", "--detailed-exitcode") == EXIT_CHANGES
    assert run("plan") == EXIT_OK  # without the flag, pending changes are not an error
    assert run("apply", "--yes") == EXIT_OK
    capsys.readouterr()
    assert run("plan", "--detailed-exitcode") == EXIT_OK
    assert "No changes" in capsys.readouterr().out


def test_usage_errors_do_not_look_like_pending_changes(served: Site) -> None:
    assert run("plan", "--no-such-flag") == EXIT_USAGE
    assert run("frobnicate") == EXIT_USAGE


def test_errors_exit_1_with_a_message_naming_the_file(served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    served.edit_course("webbkurs-heder", version="ett")
    assert run("plan", "--detailed-exitcode") == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("Error:") and "webbkurs-heder" in err and "version" in err


def test_json_plan_is_one_document_on_stdout_and_never_holds_the_token(
        served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("plan", "--json") == EXIT_OK
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["summary"]["changes"] == len(doc["actions"]) > 0
    assert TOKEN not in out and TOKEN not in err


def test_saved_plan_applies_exactly_and_is_refused_when_stale(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    assert run("plan", "--out", str(plan_file)) == EXIT_OK
    capsys.readouterr()
    saved = json.loads(plan_file.read_text())
    assert run("apply", str(plan_file), "--yes", "--json") == EXIT_OK
    outcome = json.loads(capsys.readouterr().out)["outcome"]
    assert set(outcome) == {a["id"] for a in saved["actions"]}
    # the same plan again: Moodle has changed since (it was applied)
    assert run("apply", str(plan_file), "--yes") == EXIT_ERROR
    assert "changed since" in capsys.readouterr().err


def test_apply_without_yes_and_without_a_terminal_changes_nothing(served: Site) -> None:
    assert run("apply") == EXIT_ERROR
    assert served.emulator.write_calls() == 0


def test_validate_reports_every_problem_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = Site(tmp_path)
    site.edit_course("webbkurs-heder", version="1.0")
    site.edit_course("hrv-utbildare", category="finns-inte")
    assert run("validate", str(site.specs_dir), "--json") == EXIT_ERROR
    problems = json.loads(capsys.readouterr().out)["problems"]
    files = {Path(p["file"]).name for p in problems}
    assert {"webbkurs-heder.yaml", "hrv-utbildare.yaml"} <= files
    assert all(p["line"] for p in problems)
    assert run("validate", str(Site(tmp_path / "ok").specs_dir)) == EXIT_OK


def test_validate_and_plan_never_print_a_file_linked_from_outside_the_specs(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA\n", encoding="utf-8")
    (served.specs_dir / "courses" / "ny-kurs.yaml").symlink_to(secret)
    for command in (("validate", str(served.specs_dir)), ("plan",)):
        assert run(*command) == EXIT_ERROR
        out, err = capsys.readouterr()
        assert "courses/ny-kurs.yaml" in err and "leads outside the spec directory" in err
        assert "PRIVATE KEY" not in out + err and "b3Blbn" not in out + err
    assert served.emulator.write_calls() == 0


def test_doctor_names_missing_functions(site: Site, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    site.emulator.add_token("limited0123456789abcdef012345678",
                            functions=["core_webservice_get_site_info", "core_course_get_categories"])
    with serve(site.emulator) as server:
        monkeypatch.setenv("MOODLE_URL", server.url)
        monkeypatch.setenv("MOODLE_TOKEN", "limited0123456789abcdef012345678")
        assert run("doctor") == EXIT_ERROR
        out = capsys.readouterr().out
        assert "core_course_create_courses" in out and "core_course_get_categories" not in out.split("Missing")[1]
        monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
        assert run("doctor") == EXIT_OK


def test_plain_http_to_a_remote_host_is_refused(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MOODLE_URL", "http://moodle.example.se")
    monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
    assert run("doctor") == EXIT_ERROR
    assert "--allow-http" in capsys.readouterr().err


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("validate", "plan", "apply", "doctor", "runs", "emulator", "demo"):
        assert run(command, "--help") == EXIT_OK
        assert "Example:" in capsys.readouterr().out


def test_doctor_names_template_courses_missing_from_moodle(served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("doctor") == EXIT_OK
    served.edit_course("hrv-utbildare", template="mall-saknas")
    capsys.readouterr()
    assert run("doctor") == EXIT_ERROR
    assert "mall-saknas" in capsys.readouterr().out


def test_a_bad_setting_in_the_config_file_stops_before_moodle_is_touched(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "moodle-sync.toml").write_text("max_input_vars = 0\n")
    before = served.courses()
    assert run("apply", "--yes") == EXIT_ERROR
    assert ("0 is not allowed: it should be greater than or equal to 1 (max_input_vars from moodle-sync.toml)"
            in capsys.readouterr().err)
    assert served.courses() == before


def test_plan_and_validate_take_the_specs_as_every_command_does(served: Site, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """`plan --specs DIR` as `roster import --specs DIR` (it was "No such option"), or `plan DIR`; both differing
    is a usage error, not a guess."""
    monkeypatch.delenv("MOODLE_SYNC_SPECS")
    specs = str(served.specs_dir)
    assert run("validate", "--specs", specs) == EXIT_OK
    assert run("plan", "--specs", specs, "--detailed-exitcode") == EXIT_CHANGES
    assert run("plan", specs, "--specs", specs, "--detailed-exitcode") == EXIT_CHANGES
    capsys.readouterr()
    assert run("plan", specs, "--specs", str(tmp_path)) == EXIT_USAGE
    assert "two specs directories" in capsys.readouterr().err
    assert run("validate", "--specs", str(tmp_path / "nothing")) == EXIT_ERROR
