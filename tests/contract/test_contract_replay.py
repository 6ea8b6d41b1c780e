"""The emulator against the recorded Moodle 4.3 contracts: every one of the 72 steps (web services at large) and of
the 36 report builder steps must match."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from moodle_sync.emulator import Emulator, serve

HERE = Path(__file__).parent
TOKEN = "c0ntract0123456789abcdef01234567"
PERFECT = "contract: 72/72 steps match (100%)"
REPORTBUILDER = "contract-reportbuilder-4.3.json"
PERFECT_REPORTBUILDER = "contract: 36/36 steps match (100%)"
# The report builder recording's clock: its enrolment dates (2025-12-31 to 2026-12-31) are current then, so
# statuses read "Active" as recorded whatever day the suite runs.
RECORDED_AT = 1795781195


def replay(url: str, *extra: str, contract: str = "contract-4.3.json") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(HERE / "replay_contract.py"), str(HERE / contract), url,
                           TOKEN, "-v", *extra], capture_output=True, text=True, timeout=120)


def assert_perfect(run: subprocess.CompletedProcess[str], perfect: str = PERFECT) -> None:
    lines = run.stdout.strip().splitlines()
    assert lines and lines[-1] == perfect, run.stdout + run.stderr
    assert run.returncode == 0


def test_the_emulator_matches_every_recorded_step() -> None:
    with serve(Emulator(token=TOKEN)) as server:
        assert_perfect(replay(server.url))


def test_replays_under_new_prefixes_against_the_same_server_still_match() -> None:
    emulator = Emulator(token=TOKEN)
    with serve(emulator) as server:
        assert_perfect(replay(server.url, "--prefix", "other"))
        assert_perfect(replay(server.url, "--prefix", "third"))
    # state accumulated: both runs' users exist (deleted, as the contract's clean-up leaves them)
    deleted = [u for u in emulator.state.users if u.deleted]
    assert len(deleted) == 6


def test_the_emulator_matches_every_recorded_report_builder_step() -> None:
    with serve(Emulator(token=TOKEN, now=lambda: RECORDED_AT)) as server:
        assert_perfect(replay(server.url, contract=REPORTBUILDER), PERFECT_REPORTBUILDER)


def test_report_builder_replays_twice_on_one_site_still_match() -> None:
    """The second run's report sees only its own prefix's courses (its condition), beside the first run's."""
    emulator = Emulator(token=TOKEN, now=lambda: RECORDED_AT)
    with serve(emulator) as server:
        assert_perfect(replay(server.url, "--prefix", "rb1", contract=REPORTBUILDER), PERFECT_REPORTBUILDER)
        assert_perfect(replay(server.url, "--prefix", "rb2", contract=REPORTBUILDER), PERFECT_REPORTBUILDER)
    assert len(emulator.state.reports) == 2


def test_the_report_builder_replay_notices_a_wrong_answer() -> None:
    """Past the recorded enrolment end (2026-12-31) u1 is 'Not current': the scorer must see that difference."""
    with serve(Emulator(token=TOKEN, now=lambda: 1798800000)) as server:
        run = replay(server.url, contract=REPORTBUILDER)
    assert run.returncode == 1
    assert "DIFF  retrieve report (core_reportbuilder_retrieve_report)" in run.stdout


def test_the_replay_notices_a_wrong_answer() -> None:
    """The scorer is strict enough to catch a broken emulator (so 72/72 above means something)."""
    emulator = Emulator(token=TOKEN)
    emulator.state.config.env.languages.add("")  # an empty lang would now be accepted: step 16 must fail
    with serve(emulator) as server:
        run = replay(server.url)
    assert run.returncode == 1
    assert "DIFF  course with empty lang is rejected" in run.stdout
    assert run.stdout.strip().splitlines()[-1] != PERFECT


def test_run_server_as_the_cli_starts_it_scores_perfectly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", "from moodle_sync.emulator import run_server; "
                               f"run_server({port}, {TOKEN!r})"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "run_server did not start"
                time.sleep(0.05)
        assert_perfect(replay(f"http://127.0.0.1:{port}"))
        assert_perfect(replay(f"http://127.0.0.1:{port}", "--prefix", "other"))
    finally:
        server.terminate()
        server.wait(timeout=10)
