"""Issue 15: a roster import sends its independent write batches side by side, shows per phase where the time
goes (-v), and explains once when creating accounts is slow (Moodle's case-insensitive e-mail check)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from moodle_sync import email_cost
from moodle_sync.emulator import Fault
from moodle_sync.errors import ApplyError, PermissionDenied
from moodle_sync.rosters import write_people as importer

from .conftest import Site, run
from .test_rosters import do_import, person, write_roster


class Overlap:
    """Wraps the emulator's request handler: counts the calls of one function in flight at once, holding each
    one back (up to a second) until another is in flight too, so calls sent side by side meet."""

    def __init__(self, site: Site, wsfunction: str) -> None:
        self.inner, self.wsfunction = site.emulator.handle, wsfunction
        self.lock, self.met = threading.Lock(), threading.Event()
        self.now = self.most = self.calls = 0
        site.emulator.handle = self.handle  # type: ignore[method-assign]

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Any:
        if f"wsfunction={self.wsfunction}".encode() not in body + url.encode():
            return self.inner(method, url, headers, body)
        with self.lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
            if self.now > 1:
                self.met.set()
        try:
            if self.calls > 1:  # the first create call goes alone by design (it is timed)
                self.met.wait(1.0)
            return self.inner(method, url, headers, body)
        finally:
            with self.lock:
                self.now -= 1


def test_user_batches_go_out_side_by_side_and_everyone_is_created_once(applied: Site, tmp_path: Path) -> None:
    overlap = Overlap(applied, "core_user_create_users")
    rows = [person(n) for n in range(4 * importer.USERS_PER_CREATE + 10)]
    report = do_import(applied, write_roster(tmp_path / "w.csv", rows), workers=4)
    assert overlap.calls == 5 and overlap.most >= 2
    assert report.outcome is not None and report.outcome.failures == []
    assert (report.outcome.created, report.outcome.added) == (len(rows), len(rows))
    api = applied.api()
    assert len(api.users_with_email_like("%@falun.example.se")) == len(rows)
    assert len(applied.store(api).persons("W")) == len(rows)


def test_with_one_worker_batches_go_one_after_another(applied: Site, tmp_path: Path) -> None:
    overlap = Overlap(applied, "core_user_create_users")
    rows = [person(n) for n in range(2 * importer.USERS_PER_CREATE + 10)]
    do_import(applied, write_roster(tmp_path / "w.csv", rows), workers=1)
    assert overlap.calls == 3 and overlap.most == 1


def test_a_stop_in_one_parallel_batch_still_records_everyone_the_other_batches_created(
        applied: Site, tmp_path: Path) -> None:
    applied.emulator.faults.add(Fault(kind="exception", wsfunction="core_user_create_users", after=2, error={
        "exception": "required_capability_exception", "errorcode": "nopermissions",
        "message": "Sorry, but you do not currently have permissions to do that (Create users)."}))
    rows = [person(n) for n in range(4 * importer.USERS_PER_CREATE)]
    with pytest.raises(ApplyError, match="nopermissions") as stopped:
        do_import(applied, write_roster(tmp_path / "w.csv", rows), workers=4)
    assert stopped.value.partial and isinstance(stopped.value.__cause__, PermissionDenied)
    api = applied.api()
    made = {u.email for u in api.users_with_email_like("%@falun.example.se")}
    # the refused call made nobody; the calls before it did, and one sent beside it may have (not one started
    # after the stop)
    assert len(made) in (2 * importer.USERS_PER_CREATE, 3 * importer.USERS_PER_CREATE)
    assert {p.email for p in applied.store(api).persons("W").values()} == made
    report = do_import(applied, tmp_path / "w.csv", workers=4)  # the next import makes only the rest
    assert report.outcome is not None and report.outcome.created == len(rows) - len(made)


def test_verbose_import_logs_calls_items_and_wall_time_per_phase(
        served: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # -v sets logging to INFO (cli.py); under pytest the records go to caplog instead of stderr
    assert run("apply", "--yes") == 0
    path = write_roster(tmp_path / "w.csv", [person(n) for n in range(150)])
    caplog.set_level(logging.INFO, logger="moodle_sync.jobs.roster_import")
    assert run("-v", "roster", "import", str(path), "--county", "W", "--yes") == 0
    lines = {m.split()[0]: m for m in caplog.messages if " calls " in m}
    assert set(lines) >= {"read", "create", "cohort", "enrolments"}
    assert "2 calls (2 writes)     150 items" in lines["create"]
    assert "1 calls (1 writes)     150 items" in lines["cohort"]
    assert "300 items" in lines["enrolments"]  # two courses' rules for social workers
    assert all(m.rstrip().endswith(" s") for m in lines.values())


@pytest.fixture
def slow_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every reading of the import's and doctor's clocks is 2 s after the one before."""
    ticks = iter(range(0, 10**6, 2))
    monkeypatch.setattr(importer, "CLOCK", lambda: float(next(ticks)))
    monkeypatch.setattr(email_cost, "CLOCK", lambda: float(next(ticks)))
    yield


def test_slow_account_creation_is_explained_once_with_the_index_statements(
        applied: Site, tmp_path: Path, slow_clock: None) -> None:
    said: list[str] = []

    class Console:
        def say(self, text: str = "") -> None:
            said.append(text)

    rows = [person(n) for n in range(3 * importer.USERS_PER_CREATE)]
    report = do_import(applied, write_roster(tmp_path / "w.csv", rows), console=Console())  # type: ignore[arg-type]
    assert report.outcome is not None
    notes = [n for n in report.outcome.notes if "per person" in n]
    assert len(notes) == 1 and sum("per person" in s for s in said) == 1
    assert "20 ms per person" in notes[0]  # 2 s for the first call of 100
    assert email_cost.POSTGRES in notes[0] and email_cost.MYSQL in notes[0] and "MariaDB" in notes[0]


def test_fast_account_creation_says_nothing(applied: Site, tmp_path: Path) -> None:
    rows = [person(n) for n in range(importer.USERS_PER_CREATE)]
    report = do_import(applied, write_roster(tmp_path / "w.csv", rows))
    assert report.outcome is not None and not [n for n in report.outcome.notes if "per person" in n]


def test_doctor_times_a_case_insensitive_email_lookup_and_explains_the_remedy(
        served: Site, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    times = iter([0.0, 0.030, 1.0, 1.031, 2.0, 2.032,   # three case-insensitive lookups: 30 ms at best
                  3.0, 3.004, 4.0, 4.005, 5.0, 5.006])  # three indexed ones: 4 ms
    monkeypatch.setattr(email_cost, "CLOCK", lambda: next(times))
    assert run("doctor") == 0
    out = capsys.readouterr().out
    assert "case-insensitive e-mail lookup takes 30 ms here, an indexed one 4 ms" in out
    assert "about 26 ms more" in out and email_cost.POSTGRES in out


def test_doctor_on_a_small_site_says_new_accounts_are_cheap(served: Site, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    times = iter([0.0, 0.005, 1.0, 1.005, 2.0, 2.005, 3.0, 3.004, 4.0, 4.004, 5.0, 5.004])
    monkeypatch.setattr(email_cost, "CLOCK", lambda: next(times))
    assert run("doctor") == 0
    out = capsys.readouterr().out
    assert "new accounts are cheap" in out and email_cost.POSTGRES not in out


def test_a_large_enrolment_change_is_spread_so_every_worker_has_calls(applied: Site, tmp_path: Path) -> None:
    """Two courses' 820 enrolments went out as one call per course, leaving two of four workers idle; spread
    over calls of at most a third of a worker's share (no fewer than 100), every worker has work to the end."""
    sizes: list[int] = []
    inner = applied.emulator.handle

    def handle(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Any:
        if b"wsfunction=enrol_manual_enrol_users" in body + url.encode():
            sizes.append(body.count(b"%5Buserid%5D") + body.count(b"[userid]"))
        return inner(method, url, headers, body)

    applied.emulator.handle = handle  # type: ignore[method-assign]
    rows = [person(n) for n in range(4 * importer.USERS_PER_CREATE + 10)]
    report = do_import(applied, write_roster(tmp_path / "w.csv", rows), workers=4)
    assert report.enrolments is not None and report.enrolments.ok
    assert sum(sizes) == 2 * len(rows)  # everyone into both courses of the rules, once
    assert len(sizes) >= 2 * 4 and max(sizes) == 100
