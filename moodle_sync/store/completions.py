"""The state store's completion tables: who is (or was) in each course version, and when they completed.

A completion, once seen, is kept – even when the person is later suspended, unenrolled, or the course
changes – so reports always say who was trained on which version.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from moodle_sync.store.db import StateStore, _whoami, now_iso


@dataclass(frozen=True)
class CoursePerson:
    course_idnumber: str
    userid: int
    enrolled_since: str
    status: str                    # active / suspended / gone
    lastcourseaccess: int
    checked_access: int | None     # lastcourseaccess when completion was last asked
    last_checked: str | None
    completed_at: int | None
    completed_source: str | None   # report / criteria / first_seen (see SOURCES)


#: where a completion date came from: Moodle's own time, as the completion report shows it ("report") or as the
#: completion criteria carry it ("criteria"), or the day a pull first saw the completion ("first_seen", where Moodle
#: gave no time)
SOURCES = ("report", "criteria", "first_seen")

#: a date is stored where the store has none, and replaces one only a pull's first sight gave with Moodle's time
#: (whichever was recorded first): the SET clause of an UPDATE with the parameters :at and :source
_BETTER = ("(:at IS NOT NULL AND (completed_at IS NULL OR (COALESCE(completed_source, 'first_seen') = 'first_seen'"
           " AND :source != 'first_seen')))")
SET_COMPLETION = (f"completed_at=CASE WHEN {_BETTER} THEN :at ELSE completed_at END,"
                  f" completed_source=CASE WHEN {_BETTER} THEN :source ELSE completed_source END")


class CompletionStore:
    """Completion rows of one site, on top of the state store."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.db = store._db
        self.url = store.moodle_url

    def people(self, course_idnumber: str | None = None) -> dict[tuple[str, int], CoursePerson]:
        sql, args = "SELECT * FROM course_people WHERE moodle_url=?", [self.url]
        if course_idnumber is not None:
            sql, args = sql + " AND course_idnumber=?", [*args, course_idnumber]
        return {(r["course_idnumber"], r["userid"]): CoursePerson(
            r["course_idnumber"], r["userid"], r["enrolled_since"], r["status"], r["lastcourseaccess"],
            r["checked_access"], r["last_checked"], r["completed_at"], r["completed_source"])
            for r in self.db.execute(sql, args).fetchall()}

    def enrolled(self, course_idnumbers: Iterable[str]) -> int:
        """How many people the store holds as enrolled (not gone) in the courses ``course_idnumbers``."""
        wanted = sorted(set(course_idnumbers))
        if not wanted:
            return 0
        return int(self.db.execute(
            f"SELECT COUNT(*) FROM course_people WHERE moodle_url=? AND status != 'gone' AND course_idnumber IN"
            f" ({','.join('?' * len(wanted))})", [self.url, *wanted]).fetchone()[0])

    def save_roster(self, course_idnumber: str, seen: dict[int, tuple[str, int]], today: str) -> None:
        """Record who is enrolled now (status, lastcourseaccess); people no longer listed become 'gone'.

        A person new to the list is enrolled since the tool enrolled them when it did (the store knows
        when), else since ``today``: Moodle's web services do not say when an enrolment was made.
        """
        enrolled_at = self.store.enrolled_at(course_idnumber)
        with self.store._lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT INTO course_people (moodle_url, course_idnumber, userid, enrolled_since, status,"
                " lastcourseaccess) VALUES (?,?,?,?,?,?) ON CONFLICT(moodle_url, course_idnumber, userid) DO UPDATE SET"
                " status=excluded.status, lastcourseaccess=excluded.lastcourseaccess",
                [(self.url, course_idnumber, uid, min(enrolled_at.get(uid, today), today), status, access)
                 for uid, (status, access) in seen.items()])
            known = {r[0] for r in self.db.execute(
                "SELECT userid FROM course_people WHERE moodle_url=? AND course_idnumber=? AND status!='gone'",
                (self.url, course_idnumber))}
            gone = known - set(seen)
            self.db.executemany(
                "UPDATE course_people SET status='gone' WHERE moodle_url=? AND course_idnumber=? AND userid=?",
                [(self.url, course_idnumber, uid) for uid in gone])
            self.db.execute("COMMIT")

    def save_checks(self, course_idnumber: str, results: Iterable[tuple[int, int, int | None, str | None]], *,
                    checked_at: str | None = None) -> None:
        """Store completion checks: (userid, lastcourseaccess checked, completed_at, source). A date replaces only
        a worse one (``SET_COMPLETION``).

        ``checked_at`` is the pull's own clock (its start); the wall clock when not given.
        """
        now = checked_at or now_iso()
        with self.store._lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                f"UPDATE course_people SET checked_access=:access, last_checked=:now, {SET_COMPLETION}"
                " WHERE moodle_url=:url AND course_idnumber=:idnumber AND userid=:userid",
                [{"access": access, "now": now, "at": completed_at, "source": source if completed_at else None,
                  "url": self.url, "idnumber": course_idnumber, "userid": uid}
                 for uid, access, completed_at, source in results])
            self.db.execute("COMMIT")

    def save_cohort_places(self, members: dict[str, set[int]], seen_at: str) -> None:
        """Record the tool cohorts each listed person is in now (cohort idnumber → member ids, every tool cohort
        read). A person in none of them now keeps the cohorts they were last seen in, as a roster's people keep
        their county after they leave it."""
        now_in: dict[int, set[str]] = {}
        for idnumber, users in members.items():
            for uid in users:
                now_in.setdefault(uid, set()).add(idnumber)
        with self.store._lock:
            self.db.execute("BEGIN")
            self.db.executemany("DELETE FROM cohort_places WHERE moodle_url=? AND userid=?",
                                [(self.url, uid) for uid in now_in])
            self.db.executemany(
                "INSERT INTO cohort_places (moodle_url, userid, cohort_idnumber, seen_at) VALUES (?,?,?,?)",
                [(self.url, uid, idn, seen_at) for uid, idns in now_in.items() for idn in sorted(idns)])
            self.db.execute("COMMIT")

    def cohort_places(self) -> dict[int, set[str]]:
        """user id → the tool cohorts (idnumbers) a pull last saw them in."""
        out: dict[int, set[str]] = {}
        for r in self.db.execute("SELECT userid, cohort_idnumber FROM cohort_places WHERE moodle_url=?", (self.url,)):
            out.setdefault(r[0], set()).add(r[1])
        return out

    def course_state(self, course_idnumber: str) -> tuple[bool, str | None]:
        row = self.db.execute("SELECT no_criteria, last_sweep FROM pull_courses WHERE moodle_url=? AND "
                              "course_idnumber=?", (self.url, course_idnumber)).fetchone()
        return (bool(row["no_criteria"]), row["last_sweep"]) if row else (False, None)

    def set_course_state(self, course_idnumber: str, *, no_criteria: bool | None = None,
                         last_sweep: str | None = None) -> None:
        old_nc, old_sweep = self.course_state(course_idnumber)
        with self.store._lock:
            self.db.execute(
                "INSERT OR REPLACE INTO pull_courses (moodle_url, course_idnumber, no_criteria, last_sweep)"
                " VALUES (?,?,?,?)", (self.url, course_idnumber, int(old_nc if no_criteria is None else no_criteria),
                                      last_sweep or old_sweep))

    def log_personal_export(self, scope: str, what: str, rows: int) -> None:
        with self.store._lock:
            self.db.execute("INSERT INTO personal_exports (moodle_url, at, user, host, scope, what, rows)"
                            " VALUES (?,?,?,?,?,?,?)",
                            (self.url, now_iso(), _whoami(), socket.gethostname(), scope, what, rows))

    def rounding_secret(self) -> bytes:
        """This site's secret for reports' random rounding, made (at random) the first time it is asked for."""
        with self.store._lock:
            self.db.execute("INSERT OR IGNORE INTO report_secrets (moodle_url, secret) VALUES (?, ?)",
                            (self.url, secrets.token_hex(32)))
            row = self.db.execute("SELECT secret FROM report_secrets WHERE moodle_url=?", (self.url,)).fetchone()
        return bytes.fromhex(row[0])

    def personal_exports(self) -> list[dict[str, object]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM personal_exports WHERE moodle_url=? ORDER BY id",
                                                 (self.url,)).fetchall()]

    def last_reminder(self, userid: int, course_idnumber: str) -> str | None:
        row = self.db.execute("SELECT MAX(sent_at) FROM reminders WHERE moodle_url=? AND userid=? AND "
                              "course_idnumber=?", (self.url, userid, course_idnumber)).fetchone()
        return row[0] if row else None

    def reminders_sent(self, userid: int, course_idnumber: str, kind: str) -> int:
        """How many reminders of ``kind`` ('deadline' or 'overdue') the person got about the course."""
        row = self.db.execute("SELECT COUNT(*) FROM reminders WHERE moodle_url=? AND userid=? AND course_idnumber=?"
                              " AND kind=?", (self.url, userid, course_idnumber, kind)).fetchone()
        return int(row[0])

    def record_reminder(self, userid: int, course_idnumber: str, msgid: int | None, kind: str = "deadline") -> None:
        with self.store._lock:
            self.db.execute("INSERT INTO reminders (moodle_url, userid, course_idnumber, sent_at, msgid, kind)"
                            " VALUES (?,?,?,?,?,?)", (self.url, userid, course_idnumber, now_iso(), msgid, kind))
