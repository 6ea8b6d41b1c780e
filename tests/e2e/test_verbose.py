"""-v logs each Moodle call on stderr, before or after the subcommand; --debug adds bodies, never the token."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from moodle_sync.emulator import Fault

from .conftest import TOKEN, Site, run


@pytest.fixture(autouse=True)
def quiet_again() -> Iterator[None]:
    """Each test starts from the default level, as a fresh process would."""
    logger = logging.getLogger("moodle_sync")
    yield
    logger.setLevel(logging.NOTSET)


@pytest.mark.parametrize("args", [("plan", "-v"), ("-v", "plan"), ("plan", "--verbose")])
def test_verbose_logs_each_call_with_function_items_time(served: Site, capsys: pytest.CaptureFixture[str],
                                                         args: tuple[str, ...]) -> None:
    assert run(*args) == 0
    err = capsys.readouterr().err
    calls = [line for line in err.splitlines() if line.startswith("moodle: ")]
    assert calls, err
    assert any(line.startswith("moodle: core_course_get_categories, ") and line.endswith(" ms") for line in calls)
    assert any(" items, ok, " in line or " item, ok, " in line or " form values, ok, " in line for line in calls)
    assert sum(served.emulator.call_counts().values()) == len(calls)


def test_without_verbose_no_call_is_logged(served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("plan") == 0
    assert "moodle: " not in capsys.readouterr().err


def test_verbose_names_the_retry(served: Site, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_SYNC_RETRIES", "3")
    assert run("doctor") in (0, 1)  # the site has answered once
    served.emulator.faults.add(Fault(kind="http", wsfunction="core_course_get_categories", status=502,
                                     body="<html><head><title>502 Bad Gateway</title></head></html>"))
    assert run("plan", "-v") == 0
    err = capsys.readouterr().err
    assert "Warning: core_course_get_categories: attempt 1 failed (HTTP 502: an HTML page titled \"502 Bad " \
           "Gateway\"); retrying in " in err
    assert "moodle: core_course_get_categories, 1 form value, ok, " in err and "(attempt 2)" in err
    assert "TransportError" not in err and "<html" not in err


@pytest.mark.parametrize("args", [("doctor", "--debug"), ("--debug", "doctor")])
def test_debug_shows_bodies_with_the_token_hidden_and_nothing_from_urllib3(
        served: Site, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    assert run(*args) in (0, 1)
    captured = capsys.readouterr()
    err = captured.err
    assert "moodle: → " in err and "wstoken=***&wsfunction=core_webservice_get_site_info" in err
    assert "moodle: ← HTTP 200 {" in err and '"release"' in err
    assert TOKEN not in err + captured.out
    assert "urllib3" not in err and "Starting new HTTP connection" not in err
