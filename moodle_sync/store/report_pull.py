"""The state store's side of the bulk pull (completions/bulk.py): what the completion report showed per person, the
columns the tool added to the report, and where an interrupted pass through its pages stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from moodle_sync.store.completions import SET_COMPLETION
from moodle_sync.store.db import StateStore


class Seen(NamedTuple):
    """One person's rows in one course version, as the report shows them: dates as wall-clock minutes
    (completions/report_dates.py ``parse_shown``), turned into times once the pass knows its timezone."""

    course_idnumber: str
    userid: int
    completed: int | None          # "Time completed"; None when not completed, 0 when completed but unreadable
    start: int | None              # the manual enrolment's "Time started" (its creation time when none was set)
    end: int | None                # its "Time ended"; 0 when none is set
    status: str | None             # active / suspended / not current; None without a manual enrolment
    enrolled: int | None = None    # the earliest "Time started" of any of the person's enrolment methods
    active: bool = False           # one of their methods shows "Active"
    roster: str = "active"         # their state in the course as far as the pass has shown: active / suspended
    since: str = ""                # when they are enrolled since if new to the store (ISO time)


class Shown(NamedTuple):
    """What a finished pass showed of one person (Seen, as stored) and what the store holds of them."""

    course_idnumber: str
    userid: int
    completed: int | None
    start: int | None
    end: int | None
    status: str | None
    enrolled: int | None
    completed_at: int | None
    completed_source: str | None
    enrolled_since: str
    #: what the store holds as read of the dates (Read's fields; None: not read): kept while the pass showed the same
    read: tuple[int | None, int | None, int | None, int | None] = (None, None, None, None)


class Read(NamedTuple):
    """One person's dates as a pass read them (Unix times; None: not certain)."""

    course_idnumber: str
    userid: int
    completed_at: int | None       # 0: completed, its time not certain
    start: int | None
    end: int | None
    enrolled: int | None = None    # the earliest start, of people the tool did not enrol (None for those it did)


@dataclass(frozen=True)
class Pass:
    """A pass through the report's pages that has not finished (so a rerun goes on from ``next_page``)."""

    reportid: int
    stamp: str
    next_page: int
    per_page: int
    total: int
    #: course idnumber → its start and end date as the report shows them (wall-clock minutes; end 0: none)
    course_dates: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)


class Stored(NamedTuple):
    """What the store holds of one person in one course as the report last showed them (Seen's fields)."""

    rowid: int
    status: str
    completed: int | None
    start: int | None
    end: int | None
    seen_status: str | None
    enrolled: int | None


@dataclass(frozen=True)
class SeenEnrolment:
    """What the last pull read of a manual enrolment (minute precision), for the plan to compare with what the
    tool sent."""

    start: int | None
    end: int | None
    status: str | None
    seen_at: str


#: a person's earliest start after a page of a pass: theirs on this page, or the earlier of it and an earlier page's
_ENROLLED = ("(CASE WHEN seen_at IS NOT :stamp THEN :enrolled"
             " ELSE MIN(COALESCE(shown_enrolled, :enrolled), COALESCE(:enrolled, shown_enrolled)) END)")

#: a person whose dates a pass must read (completions/pass_dates.py): a date shown that the store holds no read of
#: (shown otherwise than when last read, or not certain then); an earliest start of someone the tool did not enrol
#: that was not read; a completion the store holds without Moodle's time
_UNREAD = ("shown_completed IS NOT NULL AND report_completed_at IS NULL"
           " OR shown_start IS NOT NULL AND seen_start IS NULL OR shown_end IS NOT NULL AND seen_end IS NULL"
           " OR shown_completed IS NOT NULL AND (completed_at IS NULL OR completed_source = 'first_seen')"
           " OR shown_enrolled IS NOT NULL AND read_enrolled IS NULL AND NOT EXISTS"
           " (SELECT 1 FROM enrolments e WHERE e.moodle_url = p.moodle_url AND e.course_idnumber = p.course_idnumber"
           " AND e.userid = p.userid AND e.enrolled_at IS NOT NULL)")


#: rowids in one ``IN (...)`` list: with the stamp, SQLite's smallest limit of host parameters (999, before 3.32)
_IN_LIST = 998


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
            self.db.execute("INSERT INTO completion_reports (moodle_url, reportid, columns, sorted) VALUES (?,?,?,?)"
                            " ON CONFLICT (moodle_url, reportid) DO UPDATE SET columns=excluded.columns,"
                            " sorted=excluded.sorted", (self.url, reportid, json.dumps(columns, sort_keys=True),
                                                        int(sorted_)))

    def anchors(self) -> int:
        """How many times the last finished pass read as Moodle holds them as numbers (completions/report_dates.py
        anchors): completions whose stored time (the report's, or Moodle's criteria time) is what the pass read,
        and starts of the tool's enrolments the pass read as sent. A pass that read no date with certainty stored
        none (0), and a pass in progress has cleared what it read, so neither counts."""
        return int(self.db.execute(
            "SELECT (SELECT COUNT(*) FROM course_people WHERE moodle_url=:url AND completed_at > 0 AND"
            "  completed_source IN ('report', 'criteria') AND report_completed_at = completed_at - completed_at % 60)"
            " + (SELECT COUNT(*) FROM course_people p JOIN enrolments e ON e.moodle_url = p.moodle_url AND"
            "  e.course_idnumber = p.course_idnumber AND e.userid = p.userid WHERE p.moodle_url=:url AND"
            "  e.timestart > 0 AND p.seen_start = e.timestart - e.timestart % 60)", {"url": self.url}).fetchone()[0])

    # --- passes ----------------------------------------------------------------------------------------------

    def open_pass(self) -> Pass | None:
        row = self.db.execute("SELECT * FROM report_passes WHERE moodle_url=?", (self.url,)).fetchone()
        if row is None:
            return None
        dates = {idn: (start, end) for idn, (start, end) in json.loads(row["course_dates"]).items()}
        return Pass(row["reportid"], row["stamp"], row["next_page"], row["per_page"], row["total"], dates)

    def shown_before(self) -> dict[tuple[str, int], Stored]:
        """What the store holds of everyone as the report showed them (to tell :meth:`save_page` who is unchanged)."""
        return {(r[0], r[1]): Stored._make(r[2:]) for r in self.db.execute(
            "SELECT course_idnumber, userid, rowid, status, shown_completed, shown_start, shown_end, seen_status,"
            " shown_enrolled FROM course_people WHERE moodle_url=?", (self.url,))}

    def save_page(self, progress: Pass, rows: Iterable[Seen], before: dict[tuple[str, int], Stored] | None = None
                  ) -> None:
        """One page's rows and where the pass stands after it, in one transaction (what a crash can lose: a page).
        ``before``: what :meth:`shown_before` gave when the pass (re)started, less whoever a page of it wrote since;
        someone it holds as this page shows them is only marked seen (all the statement below would change of them,
        whether or not an earlier page of the pass showed them).

        A person's rows in one course may fall on two pages (one per enrolment method): what an earlier page of the
        same pass showed of their manual enrolment stays, and the earliest start of any method is kept. The dates
        read from the last finished pass are cleared: they are known again when this pass finishes. A person new to the
        store is added (enrolled since ``Seen.since``); their state in the course is active once a row of the pass
        showed them active."""
        rows = list(rows)
        seen: list[int] = []
        if before:
            changed: list[Seen] = []
            for s in rows:
                held = before.get((s.course_idnumber, s.userid))
                if held is not None and held[1:7] == (s.roster, s.completed, s.start, s.end, s.status, s.enrolled):
                    seen.append(held.rowid)
                else:
                    # written below: a later page's row of theirs (another method) is merged with what it writes
                    before.pop((s.course_idnumber, s.userid), None)
                    changed.append(s)
            rows = changed
        with self.store._lock:
            self.db.execute("BEGIN")
            for at in range(0, len(seen), _IN_LIST):  # a statement per list of rowids: faster than one per person
                chunk = seen[at:at + _IN_LIST]
                self.db.execute(f"UPDATE course_people SET seen_at=? WHERE rowid IN ({','.join('?' * len(chunk))})",
                                (progress.stamp, *chunk))
            # one statement per person: someone new is added as shown; for someone known, what an earlier page of
            # the same pass showed of their manual enrolment stays (``seen_at`` is then this pass's stamp)
            self.db.executemany(
                "INSERT INTO course_people (moodle_url, course_idnumber, userid, enrolled_since, status,"
                " shown_completed, shown_start, shown_end, seen_status, shown_enrolled, seen_at)"
                " VALUES (:url, :idnumber, :userid, :since, :roster, :completed, :start, :end, :status, :enrolled,"
                " :stamp) ON CONFLICT (moodle_url, course_idnumber, userid) DO UPDATE SET"
                " status=CASE WHEN seen_at IS :stamp AND status='active' THEN 'active' ELSE :roster END,"
                " shown_completed=:completed,"
                " shown_start=CASE WHEN :status IS NULL AND seen_at IS :stamp THEN shown_start ELSE :start END,"
                " shown_end=CASE WHEN :status IS NULL AND seen_at IS :stamp THEN shown_end ELSE :end END,"
                " seen_status=CASE WHEN :status IS NULL AND seen_at IS :stamp THEN seen_status ELSE :status END,"
                f" shown_enrolled={_ENROLLED},"
                f" read_enrolled=CASE WHEN shown_enrolled IS {_ENROLLED} THEN read_enrolled END,"
                # what the last finished pass read of a date stays while it shows the same (_read_dates rewrites
                # only the reads that differ); a date shown otherwise is not known until this pass finishes
                " report_completed_at=CASE WHEN shown_completed IS :completed THEN report_completed_at END,"
                " seen_start=CASE WHEN :status IS NULL AND seen_at IS :stamp OR shown_start IS :start"
                "  THEN seen_start END,"
                " seen_end=CASE WHEN :status IS NULL AND seen_at IS :stamp OR shown_end IS :end THEN seen_end END,"
                " seen_at=:stamp",
                [{"completed": s.completed, "start": s.start, "end": s.end, "status": s.status, "roster": s.roster,
                  "enrolled": s.enrolled, "stamp": progress.stamp, "url": self.url, "idnumber": s.course_idnumber,
                  "userid": s.userid, "since": s.since or progress.stamp} for s in rows])
            self.db.execute(
                "INSERT OR REPLACE INTO report_passes (moodle_url, reportid, stamp, next_page, per_page, total,"
                " course_dates) VALUES (?,?,?,?,?,?,?)",
                (self.url, progress.reportid, progress.stamp, progress.next_page, progress.per_page, progress.total,
                 json.dumps(progress.course_dates, sort_keys=True)))
            self.db.execute("COMMIT")

    def read_in(self, reportid: int) -> str | None:
        """The timezone(s) the last finished pass through the report read its dates in (None: it read none)."""
        row = self.db.execute("SELECT read_in FROM completion_reports WHERE moodle_url=? AND reportid=?",
                              (self.url, reportid)).fetchone()
        return row[0] if row else None

    def set_read_in(self, reportid: int, zones: str | None) -> None:
        with self.store._lock:
            self.db.execute("INSERT INTO completion_reports (moodle_url, reportid, read_in) VALUES (?,?,?)"
                            " ON CONFLICT (moodle_url, reportid) DO UPDATE SET read_in=excluded.read_in",
                            (self.url, reportid, zones))

    def begin_pass(self, stamp: str) -> None:
        """A new pass (from the first page) under ``stamp``: rows an earlier pass marked with the same stamp (a pass in
        the same second, or one that started over) are not yet seen by this one."""
        with self.store._lock:
            self.db.execute("UPDATE course_people SET seen_at=NULL WHERE moodle_url=? AND seen_at=?", (self.url, stamp))

    def close_roster(self, stamp: str, courses: Iterable[str]) -> None:
        """People of the managed ``courses`` the pass ``stamp`` did not show are gone (no longer enrolled)."""
        with self.store._lock:
            self.db.executemany(
                "UPDATE course_people SET status='gone' WHERE moodle_url=? AND course_idnumber=? AND status!='gone'"
                " AND seen_at IS NOT ?", [(self.url, idn, stamp) for idn in courses])

    def close_pass(self) -> None:
        """The pass is finished: how many rows it read is kept for the next pull (:meth:`last_pass`)."""
        progress = self.open_pass()
        with self.store._lock:
            if progress is not None and progress.total >= 0:
                self.db.execute("INSERT INTO completion_reports (moodle_url, reportid, rows, finished) VALUES (?,?,?,?)"
                                " ON CONFLICT (moodle_url, reportid) DO UPDATE SET rows=excluded.rows,"
                                " finished=excluded.finished", (self.url, progress.reportid, progress.total,
                                                                progress.stamp))
            self.db.execute("DELETE FROM report_passes WHERE moodle_url=?", (self.url,))

    def last_pass(self) -> tuple[int, int] | None:
        """The report the last finished pass read and how many rows it had; None before any."""
        row = self.db.execute("SELECT reportid, rows FROM completion_reports WHERE moodle_url=? AND rows IS NOT NULL"
                              " ORDER BY finished DESC LIMIT 1", (self.url,)).fetchone()
        return (row[0], row[1]) if row else None

    # --- after a pass ----------------------------------------------------------------------------------------

    def shown(self, stamp: str, *, unread: bool = False, sample: int = 0) -> list[Shown]:
        """Every person the pass ``stamp`` showed, with what the store holds of them; ``unread``: only those with a
        date the store holds no read of (shown otherwise than before, or never read), or a completion it holds
        without Moodle's time; ``sample``: about that many of them, evenly spread."""
        where = ""
        params: tuple[object, ...] = (self.url, stamp)
        if unread:
            where = f" AND ({_UNREAD})"
        elif sample:
            count = self.db.execute("SELECT COUNT(*) FROM course_people WHERE moodle_url=? AND seen_at=?",
                                    params).fetchone()[0]
            where, params = " AND p.rowid % ? = 0", (*params, max(1, count // sample))
        return [Shown._make([*r[:10], tuple(r[10:])]) for r in self.db.execute(
            "SELECT course_idnumber, userid, shown_completed, shown_start, shown_end, seen_status, shown_enrolled,"
            " completed_at, completed_source, enrolled_since, report_completed_at, seen_start, seen_end, read_enrolled"
            f" FROM course_people p WHERE moodle_url=? AND seen_at=?{where} ORDER BY course_idnumber, userid", params)]

    def unsettled(self, stamp: str) -> int:
        """Completions the pass ``stamp`` showed whose time it could not read (held as 0)."""
        return int(self.db.execute(
            "SELECT COUNT(*) FROM course_people WHERE moodle_url=? AND seen_at=? AND shown_completed != 0 AND"
            " report_completed_at = 0", (self.url, stamp)).fetchone()[0])

    def save_read(self, rows: Iterable[Read], enrolled_since: Iterable[tuple[str, int, str]]) -> None:
        """The dates the pass read (None where not certain) where they differ from what the store holds, and earlier
        enrolment days (course, user, ISO time)."""
        with self.store._lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                "UPDATE course_people SET report_completed_at=?, seen_start=?, seen_end=?, read_enrolled=? WHERE"
                " moodle_url=? AND course_idnumber=? AND userid=?",
                [(r.completed_at, r.start, r.end, r.enrolled, self.url, r.course_idnumber, r.userid) for r in rows])
            self.db.executemany(
                "UPDATE course_people SET enrolled_since=? WHERE moodle_url=? AND course_idnumber=? AND userid=?",
                [(at, self.url, idn, uid) for idn, uid, at in enrolled_since])
            self.db.execute("COMMIT")

    def keep_completions(self, rows: Iterable[tuple[str, int, int]], source: str, checked_at: str) -> int:
        """Store Moodle's completion times where the store has none or only the day a pull first saw it
        (store/completions.py ``SET_COMPLETION``); returns how many rows were given."""
        items = [{"at": at, "source": source, "checked": checked_at, "url": self.url, "idnumber": idn, "userid": uid}
                 for idn, uid, at in rows]
        with self.store._lock:
            self.db.execute("BEGIN")
            self.db.executemany(f"UPDATE course_people SET {SET_COMPLETION}, last_checked=:checked WHERE"
                                " moodle_url=:url AND course_idnumber=:idnumber AND userid=:userid", items)
            self.db.execute("COMMIT")
        return len(items)

    def seen_enrolments(self, course_idnumber: str) -> dict[int, SeenEnrolment]:
        """user id → what the last pull read of their manual enrolment in the course."""
        return {r[0]: SeenEnrolment(r[1], r[2], r[3], r[4]) for r in self.db.execute(
            "SELECT userid, seen_start, seen_end, seen_status, seen_at FROM course_people WHERE moodle_url=? AND"
            " course_idnumber=? AND seen_at IS NOT NULL AND seen_status IS NOT NULL", (self.url, course_idnumber))}
