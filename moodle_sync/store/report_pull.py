"""The state store's side of the bulk pull (completions/bulk.py): what the completion report showed per person, the
columns the tool added to the report, and where an interrupted pass through its pages stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from moodle_sync.store.db import StateStore


@dataclass(frozen=True)
class Seen:
    """One person's row in one course version, as the report showed it (times to the minute, Unix seconds)."""

    course_idnumber: str
    userid: int
    completed_at: int | None       # the report's "Time completed"; None when not completed (or not readable)
    start: int | None              # the manual enrolment's "Time started" (its creation time when none was set)
    end: int | None                # its "Time ended"; 0 when none is set
    status: str | None             # active / suspended / not current; None without a manual enrolment


@dataclass(frozen=True)
class Pass:
    """A pass through the report's pages that has not finished (so a rerun goes on from ``next_page``)."""

    reportid: int
    stamp: str
    next_page: int
    per_page: int
    total: int
    anchors: int
    anchors_ok: int


@dataclass(frozen=True)
class SeenEnrolment:
    """What the last pull read of a manual enrolment (minute precision), for the plan to compare with what the
    tool sent."""

    start: int | None
    end: int | None
    status: str | None
    seen_at: str


class ReportPullStore:
    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.db = store._db
        self.url = store.moodle_url

    # --- the report's columns --------------------------------------------------------------------------------

    def report_columns(self, reportid: int) -> tuple[dict[str, int], bool]:
        """uniqueidentifier → column id of the columns the tool added to the report, and whether it set the sort."""
        row = self.db.execute("SELECT columns, sorted FROM completion_reports WHERE moodle_url=? AND reportid=?",
                              (self.url, reportid)).fetchone()
        return (json.loads(row[0]), bool(row[1])) if row else ({}, False)

    def set_report_columns(self, reportid: int, columns: dict[str, int], sorted_: bool) -> None:
        with self.store._lock:
            self.db.execute("INSERT OR REPLACE INTO completion_reports (moodle_url, reportid, columns, sorted)"
                            " VALUES (?,?,?,?)", (self.url, reportid, json.dumps(columns, sort_keys=True),
                                                  int(sorted_)))

    # --- passes ----------------------------------------------------------------------------------------------

    def open_pass(self) -> Pass | None:
        row = self.db.execute("SELECT * FROM report_passes WHERE moodle_url=?", (self.url,)).fetchone()
        if row is None:
            return None
        return Pass(row["reportid"], row["stamp"], row["next_page"], row["per_page"], row["total"], row["anchors"],
                    row["anchors_ok"])

    def save_page(self, progress: Pass, rows: Iterable[Seen]) -> None:
        """One page's rows and where the pass stands after it, in one transaction (what a crash can lose: a page)."""
        with self.store._lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                "UPDATE course_people SET report_completed_at=?, seen_start=?, seen_end=?, seen_status=?, seen_at=?"
                " WHERE moodle_url=? AND course_idnumber=? AND userid=?",
                [(s.completed_at, s.start, s.end, s.status, progress.stamp, self.url, s.course_idnumber, s.userid)
                 for s in rows])
            self.db.execute(
                "INSERT OR REPLACE INTO report_passes (moodle_url, reportid, stamp, next_page, per_page, total,"
                " anchors, anchors_ok) VALUES (?,?,?,?,?,?,?,?)",
                (self.url, progress.reportid, progress.stamp, progress.next_page, progress.per_page, progress.total,
                 progress.anchors, progress.anchors_ok))
            self.db.execute("COMMIT")

    def close_pass(self) -> None:
        with self.store._lock:
            self.db.execute("DELETE FROM report_passes WHERE moodle_url=?", (self.url,))

    # --- after a pass ----------------------------------------------------------------------------------------

    def newly_completed(self, stamp: str) -> list[tuple[str, int, int | None]]:
        """(course idnumber, user id, the report's completion time) of people the report showed completed in the
        pass ``stamp`` whose completion the store does not have yet."""
        return [(r[0], r[1], r[2]) for r in self.db.execute(
            "SELECT course_idnumber, userid, report_completed_at FROM course_people WHERE moodle_url=? AND seen_at=?"
            " AND report_completed_at IS NOT NULL AND completed_at IS NULL ORDER BY course_idnumber, userid",
            (self.url, stamp))]

    def keep_completions(self, rows: Iterable[tuple[str, int, int]], source: str, checked_at: str) -> int:
        """Store Moodle's completion times (a completion once stored is never changed); returns how many."""
        items = [(at, source, checked_at, self.url, idn, uid) for idn, uid, at in rows]
        with self.store._lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                "UPDATE course_people SET completed_at=COALESCE(completed_at, ?), completed_source=COALESCE("
                "completed_source, ?), last_checked=? WHERE moodle_url=? AND course_idnumber=? AND userid=?", items)
            self.db.execute("COMMIT")
        return len(items)

    def forget_dates(self, stamp: str) -> None:
        """The pass's dates could not be read with certainty: keep no date it showed (status stays)."""
        with self.store._lock:
            self.db.execute("UPDATE course_people SET seen_start=NULL, seen_end=NULL, report_completed_at=NULL"
                            " WHERE moodle_url=? AND seen_at=?", (self.url, stamp))

    def seen_enrolments(self, course_idnumber: str) -> dict[int, SeenEnrolment]:
        """user id → what the last pull read of their manual enrolment in the course."""
        return {r[0]: SeenEnrolment(r[1], r[2], r[3], r[4]) for r in self.db.execute(
            "SELECT userid, seen_start, seen_end, seen_status, seen_at FROM course_people WHERE moodle_url=? AND"
            " course_idnumber=? AND seen_at IS NOT NULL AND seen_status IS NOT NULL", (self.url, course_idnumber))}
