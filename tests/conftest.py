"""What every test starts from, whichever tests ran before it in the same process (pytest-xdist deals the
modules out to its workers in another order than a plain run)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodle_sync import email_cost
from moodle_sync.jobs import site as site_job
from moodle_sync.rosters import write_people

RAM_DISK = Path("/dev/shm")


def pytest_configure(config: pytest.Config) -> None:
    """Test files on the RAM disk where the machine has one (Linux): every state store commit is an fsync (a
    third of some end-to-end tests' wall time on the development machine's disk), and test files need not
    survive a power cut. pytest
    keeps its last three runs' directories there (PYTEST_DEBUG_TEMPROOT, pytest's documented switch); a
    PYTEST_DEBUG_TEMPROOT or --basetemp given wins."""
    if "PYTEST_DEBUG_TEMPROOT" not in os.environ and RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(RAM_DISK)


#: 23:30 UTC: already tomorrow in Sweden, still today on the servers (and 00:30 Stockholm time on the next day)
LATE_EVENING = "2026-12-07T23:30:00+00:00"


@pytest.fixture(params=[None, LATE_EVENING], ids=["now", "at-23.30-utc"])
def any_hour(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Run a test twice: at the machine's time, and with the tool's one clock (moodle_sync/clock.py, which the
    emulator keeps too) started at :data:`LATE_EVENING`, as ``MOODLE_SYNC_CLOCK_AT`` starts it for a whole process
    (a test module that depends on the day marks itself ``pytest.mark.usefixtures("any_hour")``)."""
    if request.param is not None:
        from moodle_sync import clock

        monkeypatch.setenv("MOODLE_SYNC_CLOCK_AT", request.param)
        monkeypatch.setattr(clock, "OFFSET", clock._offset())
    return request.param


@pytest.fixture(autouse=True)
def logging_as_in_a_fresh_process() -> Iterator[None]:
    """The command line only ever raises the "moodle_sync" logger's level (logs.configure_logging): after a
    run with -v every later test would log each call, and after any run the DEBUG records a client test
    captures would be dropped."""
    logger = logging.getLogger("moodle_sync")
    logger.setLevel(logging.NOTSET)
    yield
    logger.setLevel(logging.NOTSET)


@pytest.fixture(autouse=True)
def specs_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands and portal pages a test runs load the specs through ``jobs.site.load_specs``: a tree whose files
    hold the same bytes is parsed once per process (e2e/conftest.py ``load_specs``)."""
    from e2e.conftest import load_specs

    monkeypatch.setattr(site_job, "load_specs", load_specs)


@pytest.fixture(autouse=True)
def lookups_and_creates_take_no_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor times Moodle's e-mail lookups and the roster import its account creates, and each warns when they
    are slow (email_cost.py); on a loaded machine the emulator's can be. Their clocks stand still unless a
    test sets its own (tests/e2e/test_roster_speed.py does), so no other test depends on the machine's load."""
    monkeypatch.setattr(email_cost, "CLOCK", lambda: 0.0)
    monkeypatch.setattr(write_people, "CLOCK", lambda: 0.0)


#: the modules whose tests take longest (benchmarks/README.md, "Test suite time"), run first: pytest-xdist deals
#: tests out in the order collected, so a long test dealt out last kept one core busy while the other had nothing
#: left (longest first is the usual greedy schedule). Whole modules move, so a module-scoped set-up is still built
#: once per worker; the order of everything else is unchanged, and no test depends on it.
LONGEST_FIRST = (
    "tests/browser/test_portal_walk.py",
    "tests/e2e/test_apply.py",
    "tests/e2e/test_enrolment_intents.py",
    "tests/emulator/test_scale.py",
    "tests/portal/test_portal_browser.py",
    "tests/browser/test_report_page.py",
    "tests/portal/test_portal_access.py",
    "tests/contract/test_contract_replay.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}

    def order(item: pytest.Item) -> int:
        try:
            return rank.get(item.path.relative_to(root).as_posix(), len(rank))
        except ValueError:
            return len(rank)

    items.sort(key=order)  # stable: within a module, and for the rest, the collected order
