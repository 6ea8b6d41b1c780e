"""The local SQLite state store: who ran what when, each action's outcome, and what the tool owns.

It is a journal and a cache: it never decides what Moodle holds (reconcile/actual.py reads Moodle),
but it remembers what Moodle cannot tell (the spec version applied, whether a template was imported).
Every outcome is committed at once, so nothing is lost when a run is killed.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moodle_sync import clock
from moodle_sync.acting import whoami
from moodle_sync.errors import StoreError
from moodle_sync.store.migrations import MIGRATIONS as MIGRATIONS  # the schema, applied by _migrate


def now_iso() -> str:
    return clock.stamp()


@dataclass(frozen=True)
class OwnedObject:
    """What the store remembers about one object the tool created or adopted in Moodle."""

    kind: str
    idnumber: str
    moodle_id: int
    spec_key: str
    spec_version: str
    spec_hash: str
    imported: bool


class StateStore:
    """The SQLite state store. Rows are keyed by ``moodle_url``: the site's identity (store/sites.py)."""

    def __init__(self, path: Path | str, moodle_url: str = "") -> None:
        self.path = Path(path)
        self.moodle_url = moodle_url
        self._lock = threading.Lock()
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.execute("PRAGMA secure_delete=ON")  # deleted personal data is overwritten, not left in free pages
            self._migrate()
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the state store {self.path}: {e}",
                             hint="check the path (--state or state_path in moodle-sync.toml) and its "
                                  "permissions") from e

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StoreError(f"the state store {self.path} was written by a newer moodle-sync "
                             f"(schema {version}, this one knows {len(MIGRATIONS)})",
                             hint="upgrade moodle-sync")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # one transaction per step: a crash mid-migration leaves the previous version intact
            self._db.executescript(f"BEGIN;{script};PRAGMA user_version={number};COMMIT;")

    def close(self) -> None:
        self._db.close()

    # --- runs -------------------------------------------------------------------------------------

    def start_run(self, command: str, *, specs_commit: str | None = None, specs_dirty: bool | None = None,
                  spec_digest: str | None = None, plan: dict[str, Any] | None = None) -> int:
        """Record the start of a run; earlier runs still marked running were interrupted."""
        with self._lock:
            self._db.execute("UPDATE runs SET status='interrupted' WHERE status='running' AND moodle_url=?",
                             (self.moodle_url,))
            cur = self._db.execute(
                "INSERT INTO runs (command, started_at, user, host, moodle_url, specs_commit, specs_dirty,"
                " spec_digest, plan_json, status) VALUES (?,?,?,?,?,?,?,?,?, 'running')",
                (command, now_iso(), _whoami(), socket.gethostname(), self.moodle_url, specs_commit,
                 None if specs_dirty is None else int(specs_dirty), spec_digest,
                 json.dumps(plan, ensure_ascii=False) if plan is not None else None))
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._db.execute("UPDATE runs SET finished_at=?, status=?, summary=? WHERE id=?",
                             (now_iso(), status, json.dumps(summary or {}, ensure_ascii=False), run_id))

    def record_outcome(self, run_id: int, action_id: str, kind: str, target: str, status: str,
                       moodle_id: int | None = None, detail: str = "") -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO outcomes (run_id, action_id, kind, target, status, moodle_id, detail, at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (run_id, action_id, kind, target, status, moodle_id, detail, now_iso()))

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM runs WHERE moodle_url=? ORDER BY id DESC LIMIT ?",
                                (self.moodle_url, limit)).fetchall()
        return [dict(r) for r in rows]

    def outcomes(self, run_id: int) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM outcomes WHERE run_id=? ORDER BY id", (run_id,)).fetchall()
        return [dict(r) for r in rows]

    # --- owned objects ------------------------------------------------------------------------------

    def remember(self, kind: str, idnumber: str, moodle_id: int, *, spec_key: str = "",
                 spec_version: str | None = None, spec_hash: str | None = None,
                 imported: bool | None = None) -> None:
        """Insert or update what the tool knows of one owned object (only the given fields change)."""
        with self._lock:
            old = self._get(kind, idnumber)
            self._db.execute(
                "INSERT OR REPLACE INTO objects (kind, idnumber, moodle_id, spec_key, spec_version, spec_hash,"
                " imported, moodle_url, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (kind, idnumber, moodle_id, spec_key or (old.spec_key if old else ""),
                 spec_version if spec_version is not None else (old.spec_version if old else ""),
                 spec_hash if spec_hash is not None else (old.spec_hash if old else ""),
                 int(imported if imported is not None else (old.imported if old else False)),
                 self.moodle_url, now_iso()))

    def _get(self, kind: str, idnumber: str) -> OwnedObject | None:
        row = self._db.execute("SELECT * FROM objects WHERE moodle_url=? AND kind=? AND idnumber=?",
                               (self.moodle_url, kind, idnumber)).fetchone()
        return _owned(row) if row else None

    def get(self, kind: str, idnumber: str) -> OwnedObject | None:
        with self._lock:
            return self._get(kind, idnumber)

    # --- enrolments the tool manages -------------------------------------------------------------

    def managed_enrolments(self, course_idnumber: str) -> dict[int, ManagedEnrolment]:
        rows = self._db.execute("SELECT * FROM enrolments WHERE moodle_url=? AND course_idnumber=?",
                                (self.moodle_url, course_idnumber)).fetchall()
        return {r["userid"]: ManagedEnrolment(r["course_idnumber"], r["userid"], r["roleid"], r["timestart"],
                                              r["timeend"], bool(r["suspended"]), r["rule"], r["updated_at"])
                for r in rows}

    def enrolled_at(self, course_idnumber: str) -> dict[int, str]:
        """When the tool first enrolled each person in the course (ISO time, UTC)."""
        rows = self._db.execute("SELECT userid, enrolled_at FROM enrolments WHERE moodle_url=? AND course_idnumber=?"
                                " AND enrolled_at IS NOT NULL", (self.moodle_url, course_idnumber)).fetchall()
        return {r[0]: r[1] for r in rows}

    def set_enrolments(self, items: list[ManagedEnrolment]) -> None:
        """Record what was just sent to Moodle, in one transaction."""
        now = now_iso()
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO enrolments (moodle_url, course_idnumber, userid, roleid, timestart, timeend,"
                " suspended, rule, updated_at, enrolled_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(moodle_url, course_idnumber, userid) DO UPDATE SET roleid=excluded.roleid,"
                " timestart=excluded.timestart, timeend=excluded.timeend, suspended=excluded.suspended,"
                " rule=excluded.rule, updated_at=excluded.updated_at",  # enrolled_at stays the first one
                [(self.moodle_url, e.course_idnumber, e.userid, e.roleid, e.timestart, e.timeend, int(e.suspended),
                  e.rule, now, now) for e in items])
            self._db.execute("COMMIT")

    # --- people from rosters ------------------------------------------------------------------------

    def upsert_persons(self, people: list[Person]) -> None:
        now = now_iso()
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO persons (moodle_url, userid, county, target_groups, organisation, unit,"
                " employment_start, employee_id, email, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(self.moodle_url, p.userid, p.county, json.dumps(list(p.target_groups)), p.organisation, p.unit,
                  p.employment_start, p.employee_id, p.email, now) for p in people])
            self._db.execute("COMMIT")

    def persons(self, county: str | None = None) -> dict[int, Person]:
        sql, args = "SELECT * FROM persons WHERE moodle_url=?", [self.moodle_url]
        if county is not None:
            sql, args = sql + " AND county=?", [*args, county]
        return {r["userid"]: Person(r["userid"], r["county"], tuple(json.loads(r["target_groups"])),
                                    r["organisation"], r["unit"], r["employment_start"], r["employee_id"],
                                    r["email"]) for r in self._db.execute(sql, args).fetchall()}

    def record_roster_import(self, *, hub: str, county: str, file: str, sha256: str, mode: str, dry_run: bool,
                             counts: dict[str, Any]) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO roster_imports (moodle_url, at, user, host, hub, county, file, sha256, mode, dry_run,"
                " counts) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (self.moodle_url, now_iso(), _whoami(), socket.gethostname(), hub, county, file, sha256, mode,
                 int(dry_run), json.dumps(counts, ensure_ascii=False)))
            return int(cur.lastrowid or 0)

    def roster_imports(self, county: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM roster_imports WHERE moodle_url=?", [self.moodle_url]
        if county is not None:
            sql, args = sql + " AND county=?", [*args, county]
        return [dict(r) for r in self._db.execute(sql + " ORDER BY id", args).fetchall()]

    def owned(self, kind: str) -> Iterator[OwnedObject]:
        rows = self._db.execute("SELECT * FROM objects WHERE moodle_url=? AND kind=? ORDER BY idnumber",
                                (self.moodle_url, kind)).fetchall()
        return (_owned(r) for r in rows)


@dataclass(frozen=True)
class ManagedEnrolment:
    """What the tool last sent for one enrolment (Moodle never returns dates or status)."""

    course_idnumber: str
    userid: int
    roleid: int
    timestart: int
    timeend: int
    suspended: bool
    rule: str
    #: when the tool last sent it (ISO, UTC); "" for an enrolment not read from the store
    updated_at: str = ""


@dataclass(frozen=True)
class Person:
    """A person as a hub's roster described them (for enrolment deadlines and reports)."""

    userid: int
    county: str
    target_groups: tuple[str, ...]
    organisation: str
    unit: str
    employment_start: str | None
    employee_id: str | None
    email: str


def _owned(row: sqlite3.Row) -> OwnedObject:
    return OwnedObject(kind=row["kind"], idnumber=row["idnumber"], moodle_id=row["moodle_id"],
                       spec_key=row["spec_key"], spec_version=row["spec_version"],
                       spec_hash=row["spec_hash"], imported=bool(row["imported"]))


def _whoami() -> str:
    """Who the record is made for (moodle_sync/acting.py: the portal's user, else the OS user)."""
    return whoami()
