from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from moodle_sync.errors import StoreError
from moodle_sync.store.db import MIGRATIONS, ManagedEnrolment, StateStore
from moodle_sync.store.intents import IntentStore


def test_runs_and_outcomes_are_recorded_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = StateStore(path, moodle_url="https://moodle.example.se")
    run = store.start_run("apply", specs_commit="abc123", specs_dirty=False, spec_digest="d1",
                          plan={"actions": []})
    store.record_outcome(run, "CreateCourse:x@1", "CreateCourse", "x@1", "done", 42)
    store.close()

    again = StateStore(path, moodle_url="https://moodle.example.se")
    [row] = again.runs()
    assert row["status"] == "running" and row["specs_commit"] == "abc123" and row["user"]
    assert again.outcomes(run)[0]["moodle_id"] == 42
    # a new run marks the one that never finished as interrupted
    again.start_run("apply")
    assert [r["status"] for r in again.runs()] == ["running", "interrupted"]


def test_remember_updates_only_the_given_fields(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.db", moodle_url="u")
    store.remember("course", "k@1", 7, spec_key="k", spec_version="1.0.0", imported=False)
    store.remember("course", "k@1", 7, imported=True)
    got = store.get("course", "k@1")
    assert got is not None
    assert (got.spec_version, got.imported, got.spec_key) == ("1.0.0", True, "k")


def test_objects_of_another_site_are_not_mixed_up(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    StateStore(path, moodle_url="https://a").remember("course", "k@1", 1)
    assert StateStore(path, moodle_url="https://b").get("course", "k@1") is None


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    StateStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer moodle-sync"):
        StateStore(path)


def test_a_store_written_before_enrolment_intents_migrates_and_keeps_its_enrolments(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:4], start=1):  # the schema of the release before intents
        db.executescript(f"BEGIN;{script};PRAGMA user_version={number};COMMIT;")
    db.execute("INSERT INTO enrolments (moodle_url, course_idnumber, userid, roleid, timestart, timeend, suspended,"
               " rule, updated_at, enrolled_at) VALUES ('u', 'k@1', 7, 5, 0, 0, 0, 'r', 't', 't')")
    db.commit()
    db.close()
    store = StateStore(path, moodle_url="u")
    assert int(store._db.execute("PRAGMA user_version").fetchone()[0]) == len(MIGRATIONS) >= 5
    assert store.managed_enrolments("k@1")[7].roleid == 5
    intents = IntentStore(store)
    [made] = intents.record(3, 42, [ManagedEnrolment("k@1", 8, 5, 0, 0, False, "r")])
    assert [(i.id, i.courseid, i.enrolment.userid) for i in intents.pending()] == [(made, 42, 8)]
    intents.close([made], "done")
    assert intents.pending() == []


def test_a_store_from_before_the_bulk_pull_migrates_and_keeps_its_completions(tmp_path: Path) -> None:
    path = tmp_path / "v7.db"
    db = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:7], start=1):  # the schema of the release before the bulk pull
        db.executescript(f"BEGIN;{script};PRAGMA user_version={number};COMMIT;")
    db.execute("INSERT INTO course_people (moodle_url, course_idnumber, userid, enrolled_since, status, completed_at,"
               " completed_source) VALUES ('u', 'k@1', 7, '2026-01-02', 'active', 1767300000, 'criteria')")
    db.commit()
    db.close()
    store = StateStore(path, moodle_url="u")
    assert int(store._db.execute("PRAGMA user_version").fetchone()[0]) == len(MIGRATIONS) >= 8
    from moodle_sync.store.completions import CompletionStore
    from moodle_sync.store.report_pull import Pass, ReportPullStore, Seen
    assert CompletionStore(store).people()[("k@1", 7)].completed_at == 1767300000
    pulls = ReportPullStore(store)
    stamp = "2026-02-01T00:00:00+00:00"
    pulls.save_page(Pass(3, stamp, 1, 10, 20, {"k@1": (1630454400, 0)}),
                    [Seen("k@1", 7, 1767400000, 1767222000, 0, "suspended")])
    assert pulls.open_pass() == Pass(3, stamp, 1, 10, 20, {"k@1": (1630454400, 0)})
    assert [(s.completed, s.completed_at, s.completed_source) for s in pulls.shown(stamp)] == \
        [(1767400000, 1767300000, "criteria")]
    pulls.keep_completions([("k@1", 7, 1767400000)], "report", stamp)  # Moodle's time once stored is kept
    assert CompletionStore(store).people()[("k@1", 7)].completed_at == 1767300000
    assert pulls.seen_enrolments("k@1")[7].status == "suspended"
    pulls.set_report_columns(3, {"course:idnumber": 11}, True)
    assert pulls.report_columns(3) == ({"course:idnumber": 11}, True)
