"""One site, one store: the state store knows a site by what Moodle says it is (site info's siteurl), not by
how its URL was typed; another site is refused; report, runs and personal-data exports need no URL or token."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from moodle_sync.commands.exits import EXIT_ERROR, EXIT_OK
from moodle_sync.emulator import Emulator, serve
from moodle_sync.store.db import MIGRATIONS

from .conftest import TOKEN, Site, run
from .test_rosters import person, write_roster


def without_moodle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOODLE_URL", raising=False)
    monkeypatch.delenv("MOODLE_TOKEN", raising=False)


def runs_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    capsys.readouterr()
    assert run("runs", "--json", *args) == EXIT_OK
    return list(json.loads(capsys.readouterr().out))


def test_localhost_and_127_0_0_1_with_a_slash_are_one_site_and_reading_needs_no_url_or_token(
        served: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    url = os.environ["MOODLE_URL"]  # http://127.0.0.1:PORT
    assert run("apply", "--yes") == EXIT_OK
    rows = [person(n) for n in range(4)]
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", rows)), "--county", "W", "--yes") == EXIT_OK
    monkeypatch.setenv("MOODLE_URL", url.replace("127.0.0.1", "localhost"))
    assert run("plan", "--detailed-exitcode") == EXIT_OK  # the same site: nothing to do, the store knows it all
    monkeypatch.setenv("MOODLE_URL", url + "/")
    assert run("pull") == EXIT_OK

    without_moodle(monkeypatch)
    commands = [r["command"] for r in runs_json(capsys)]
    assert {"apply", "plan"} <= set(commands), commands  # runs made under both addresses, as one site's
    assert run("report", "--personal-data") == EXIT_OK
    people = [line for line in capsys.readouterr().out.splitlines()[1:] if line]
    assert len(people) == 8  # four people, two courses each
    assert run("report", "--by", "county") == EXIT_OK
    assert "Dalarnas län" in capsys.readouterr().out


def test_a_store_used_against_another_site_refuses_naming_both(
        served: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("apply", "--yes") == EXIT_OK
    other = Emulator(token=TOKEN, site_url="https://annan.example.se")
    with serve(other) as server:
        monkeypatch.setenv("MOODLE_URL", server.url)
        capsys.readouterr()
        assert run("plan") == EXIT_ERROR
        err = " ".join(capsys.readouterr().err.split())
    assert "belongs to another Moodle site (http://127.0.0.1:8081)" in err
    assert "https://annan.example.se" in err and "--state" in err
    assert other.call_counts().get("core_course_get_categories", 0) == 0  # refused before reading anything


def old_store(path: Path, *keys: str) -> None:
    """A state store as the release before site identities wrote it: rows keyed by the URL as typed."""
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:9], start=1):
        db.executescript(f"BEGIN;{script};PRAGMA user_version={number};COMMIT;")
    for n, key in enumerate(keys):
        db.execute("INSERT INTO runs (command, started_at, user, host, moodle_url, status) VALUES "
                   "(?, ?, 'u', 'h', ?, 'done')", (f"old-{n}", f"2026-01-0{n + 1}T00:00:00+00:00", key))
        db.execute("INSERT INTO report_secrets (moodle_url, secret) VALUES (?, ?)", (key, "ab" * 32))
    db.commit()
    db.close()


def test_an_old_store_keyed_by_the_typed_url_keeps_working_and_moves_to_the_site_identity(
        served: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    url = os.environ["MOODLE_URL"]
    old_store(served.state_path, url)
    monkeypatch.delenv("MOODLE_URL")
    assert [r["command"] for r in runs_json(capsys)] == ["old-0"]  # readable at once, without Moodle
    # an old key is only a typed URL: reached under another address, nobody can tell it is the same site
    monkeypatch.setenv("MOODLE_URL", url.replace("127.0.0.1", "localhost"))
    capsys.readouterr()
    assert run("plan") == EXIT_ERROR
    assert f"belongs to another Moodle site ({url})" in " ".join(capsys.readouterr().err.split())
    monkeypatch.setenv("MOODLE_URL", url)
    assert run("apply", "--yes") == EXIT_OK  # the address it was used with: its rows move to the site identity
    monkeypatch.setenv("MOODLE_URL", url.replace("127.0.0.1", "localhost"))
    assert run("plan", "--detailed-exitcode") == EXIT_OK  # and from now on any address of the site will do
    db = sqlite3.connect(served.state_path)
    keys = {r[0] for r in db.execute("SELECT DISTINCT moodle_url FROM runs")}
    secrets = db.execute("SELECT moodle_url, secret FROM report_secrets").fetchall()
    db.close()
    assert keys == {"http://127.0.0.1:8081"}  # what the emulator's site info names itself
    assert secrets == [("http://127.0.0.1:8081", "ab" * 32)]  # the same rounding secret: the same numbers
    without_moodle(monkeypatch)
    assert [r["command"] for r in runs_json(capsys)][-1] == "old-0"


def test_a_store_with_two_sites_needs_site_to_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "state.db"
    old_store(path, "https://a.example.se", "https://b.example.se")
    without_moodle(monkeypatch)
    monkeypatch.setenv("MOODLE_SYNC_STATE_PATH", str(path))
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert run("runs") == EXIT_ERROR
    err = capsys.readouterr().err
    assert "holds 2 sites: https://a.example.se, https://b.example.se" in err and "--site" in err
    assert [r["command"] for r in runs_json(capsys, "--site", "https://B.example.se/")] == ["old-1"]
    assert run("runs", "--site", "https://c.example.se") == EXIT_ERROR
    assert "nothing of the site https://c.example.se" in capsys.readouterr().err
    assert run("runs", "--state", str(tmp_path / "none.db")) == EXIT_ERROR
    assert "no state store at" in capsys.readouterr().err and not (tmp_path / "none.db").exists()
