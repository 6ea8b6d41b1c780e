"""The state store's enrolment intents: what an enrol call is about to set, written before it is sent.

An intent is ``pending`` from before the call until its answer is recorded (``done``) or Moodle refused
it (``refused``). One still pending at the start of a run belongs to a run that was killed mid-call or
whose answer was lost: :mod:`moodle_sync.reconcile.intents` settles it from what Moodle lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from moodle_sync.store.db import ManagedEnrolment, StateStore, now_iso


@dataclass(frozen=True)
class EnrolIntent:
    """One enrolment an enrol call was about to set (course id as Moodle knows it)."""

    id: int
    courseid: int
    enrolment: ManagedEnrolment


class IntentStore:
    """Enrolment intents of one site, on top of the state store."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.db = store._db
        self.url = store.moodle_url

    def record(self, run_id: int | None, courseid: int, items: Sequence[ManagedEnrolment]) -> list[int]:
        """Write one pending intent per item, in one transaction; their ids."""
        now = now_iso()
        ids: list[int] = []
        with self.store._lock:
            self.db.execute("BEGIN")
            for e in items:
                cur = self.db.execute(
                    "INSERT INTO enrol_intents (moodle_url, run_id, course_idnumber, courseid, userid, roleid,"
                    " timestart, timeend, suspended, rule, status, at) VALUES (?,?,?,?,?,?,?,?,?,?, 'pending', ?)",
                    (self.url, run_id, e.course_idnumber, courseid, e.userid, e.roleid, e.timestart, e.timeend,
                     int(e.suspended), e.rule, now))
                ids.append(int(cur.lastrowid or 0))
            self.db.execute("COMMIT")
        return ids

    def close(self, ids: Sequence[int], status: str) -> None:
        """Mark intents ``done`` (recorded as managed enrolments), ``refused`` or ``settled``."""
        if not ids:
            return
        with self.store._lock:
            self.db.executemany("UPDATE enrol_intents SET status=?, at=? WHERE id=?",
                                [(status, now_iso(), i) for i in ids])

    def pending(self) -> list[EnrolIntent]:
        """Pending intents, oldest first."""
        rows = self.db.execute("SELECT * FROM enrol_intents WHERE moodle_url=? AND status='pending' ORDER BY id",
                               (self.url,)).fetchall()
        return [EnrolIntent(r["id"], r["courseid"], ManagedEnrolment(
            r["course_idnumber"], r["userid"], r["roleid"], r["timestart"], r["timeend"], bool(r["suspended"]),
            r["rule"])) for r in rows]
