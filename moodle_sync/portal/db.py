"""The portal's own SQLite file: accounts, sessions, the audit log, roster previews, rows held for an
administrator and scheduled runs.

Kept apart from the state store (which is the sync's journal): nothing here is needed to sync, and
the state store never holds a password hash.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from moodle_sync import clock
from moodle_sync.errors import StoreError

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'hub')),
        hub TEXT NOT NULL DEFAULT '',
        county TEXT NOT NULL DEFAULT '',
        personal_data INTEGER NOT NULL DEFAULT 0,
        must_change INTEGER NOT NULL DEFAULT 1,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        county TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE previews (
        id TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL,
        county TEXT NOT NULL,
        filename TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        options TEXT NOT NULL,
        plan TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE scheduled (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job TEXT NOT NULL,
        reason TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        notified TEXT NOT NULL DEFAULT ''
    );
    """,
    # v2: sessions are kept by the SHA-256 of their id (the cookie alone holds the id); sessions of v1, kept
    # by the id itself, are dropped: their holders log in again
    """
    DROP TABLE sessions;
    CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """,
    # v3: rows a hub's import held for an administrator (portal/held.py)
    """
    CREATE TABLE held (
        id TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL,
        county TEXT NOT NULL,
        filename TEXT NOT NULL,
        path TEXT NOT NULL,
        rows TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # v4: an account's name, as the county's history names who uploaded a list ("" for accounts made before)
    """
    ALTER TABLE accounts ADD COLUMN name TEXT NOT NULL DEFAULT '';
    """,
)


#: a preview's statuses while its uploaded file is kept: before Bekräfta (``uploaded``, ``previewed``, and
#: ``refused`` – a plan that needs another look, e.g. skipping invalid rows) and while it is being imported
KEEPS_FILE = ("uploaded", "previewed", "refused", "applying")


def now() -> datetime:
    return clock.now()


def stamp(when: datetime | None = None) -> str:
    return (when or now()).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    role: str
    hub: str
    county: str
    personal_data: bool
    must_change: bool
    disabled: bool
    password_hash: str
    #: the person's name ("" when the account was made without one)
    name: str = ""

    @property
    def shown(self) -> str:
        """How pages name the account's holder: their name, else their e-mail."""
        return self.name or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class PortalDB:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.execute("PRAGMA secure_delete=ON")  # deleted personal data is overwritten, not left in free pages
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                self._db.executescript(f"BEGIN;{script};PRAGMA user_version={number};COMMIT;")
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the portal's database {path}: {e}",
                             hint="check [portal] data_dir in moodle-sync.toml and its permissions") from e
        path.chmod(0o600)

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    def close(self) -> None:
        self._db.close()

    # --- accounts -----------------------------------------------------------------------------------

    def add_account(self, *, email: str, password_hash: str, role: str, hub: str = "", county: str = "",
                    personal_data: bool = False, must_change: bool = True, name: str = "") -> int:
        try:
            cur = self._run("INSERT INTO accounts (email, password_hash, role, hub, county, personal_data, must_change,"
                            " created_at, name) VALUES (?,?,?,?,?,?,?,?,?)",
                            (email, password_hash, role, hub, county, int(personal_data), int(must_change), stamp(),
                             name))
        except sqlite3.IntegrityError as e:
            raise StoreError(f"an account for {email} already exists",
                             hint="use `moodle-sync portal user password` to give it a new password") from e
        return int(cur.lastrowid or 0)

    def account(self, *, email: str | None = None, account_id: int | None = None) -> Account | None:
        row = (self._run("SELECT * FROM accounts WHERE email=?", (email,)) if email is not None
               else self._run("SELECT * FROM accounts WHERE id=?", (account_id,))).fetchone()
        return _account(row) if row else None

    def accounts(self) -> list[Account]:
        return [_account(r) for r in self._run("SELECT * FROM accounts ORDER BY email").fetchall()]

    def set_password(self, account_id: int, password_hash: str, *, must_change: bool) -> None:
        self._run("UPDATE accounts SET password_hash=?, must_change=? WHERE id=?",
                  (password_hash, int(must_change), account_id))
        self.end_sessions(account_id)

    def set_disabled(self, account_id: int, disabled: bool) -> None:
        self._run("UPDATE accounts SET disabled=? WHERE id=?", (int(disabled), account_id))
        self.end_sessions(account_id)

    # --- sessions -----------------------------------------------------------------------------------

    # A session is found by the SHA-256 of its id: the file (or a copy, a backup) holds no id that would
    # let its reader act as someone logged in.

    def start_session(self, session_id: str, account_id: int, csrf: str, hours: float) -> None:
        self._run("DELETE FROM sessions WHERE expires_at < ?", (stamp(),))
        self._run("INSERT INTO sessions (id_sha256, account_id, csrf, created_at, expires_at) VALUES (?,?,?,?,?)",
                  (_digest(session_id), account_id, csrf, stamp(), stamp(now() + timedelta(hours=hours))))

    def session(self, session_id: str) -> tuple[Account, str] | None:
        row = self._run("SELECT a.*, s.csrf AS s_csrf FROM sessions s JOIN accounts a ON a.id = s.account_id "
                        "WHERE s.id_sha256=? AND s.expires_at > ? AND a.disabled = 0",
                        (_digest(session_id), stamp())).fetchone()
        return (_account(row), str(row["s_csrf"])) if row else None

    def end_session(self, session_id: str) -> None:
        self._run("DELETE FROM sessions WHERE id_sha256=?", (_digest(session_id),))

    def end_sessions(self, account_id: int) -> None:
        self._run("DELETE FROM sessions WHERE account_id=?", (account_id,))

    # --- audit --------------------------------------------------------------------------------------

    def log(self, who: str, action: str, *, county: str = "", detail: str = "", address: str = "") -> None:
        self._run("INSERT INTO audit (at, who, county, action, detail, address) VALUES (?,?,?,?,?,?)",
                  (stamp(), who, county, action, detail, address))

    def audit(self, limit: int = 100, county: str | None = None) -> list[dict[str, Any]]:
        if county is None:
            rows = self._run("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._run("SELECT * FROM audit WHERE county=? ORDER BY id DESC LIMIT ?", (county, limit))
        return [dict(r) for r in rows.fetchall()]

    # --- previews -----------------------------------------------------------------------------------

    def add_preview(self, preview_id: str, *, account_id: int, county: str, filename: str, path: str, sha256: str,
                    options: dict[str, Any]) -> None:
        self._run("INSERT INTO previews (id, account_id, county, filename, path, sha256, options, status, created_at)"
                  " VALUES (?,?,?,?,?,?,?,?,?)", (preview_id, account_id, county, filename, path, sha256,
                                                  json.dumps(options), "uploaded", stamp()))

    def preview(self, preview_id: str) -> dict[str, Any] | None:
        row = self._run("SELECT * FROM previews WHERE id=?", (preview_id,)).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["options"] = json.loads(out["options"])
        out["plan"] = json.loads(out["plan"]) if out["plan"] else None
        out["outcome"] = json.loads(out["outcome"]) if out["outcome"] else None
        return out

    def update_preview(self, preview_id: str, *, status: str, plan: dict[str, Any] | None = None,
                       outcome: dict[str, Any] | None = None, options: dict[str, Any] | None = None) -> None:
        sets, args = ["status=?"], [status]
        for name, value in (("plan", plan), ("outcome", outcome), ("options", options)):
            if value is not None:
                sets.append(f"{name}=?")
                args.append(json.dumps(value, sort_keys=True))
        self._run(f"UPDATE previews SET {', '.join(sets)} WHERE id=?", (*args, preview_id))

    def previews_of(self, county: str, limit: int = 20) -> list[dict[str, Any]]:
        """A county's latest uploads, newest first, with their plans (what the coordinator's history tells)."""
        rows = self._run("SELECT id, account_id, county, filename, status, created_at, plan FROM previews "
                         "WHERE county=? ORDER BY created_at DESC, rowid DESC LIMIT ?", (county, limit)).fetchall()
        return [{**dict(r), "plan": json.loads(r["plan"]) if r["plan"] else None} for r in rows]

    def previews_with_files(self, county: str | None = None) -> list[dict[str, Any]]:
        """The previews whose uploaded file is kept (not yet imported, replaced or expired), oldest first."""
        marks = ",".join("?" * len(KEEPS_FILE))
        where, args = f"status IN ({marks})", list(KEEPS_FILE)
        if county is not None:
            where, args = f"{where} AND county=?", [*args, county]
        return [dict(r) for r in self._run("SELECT id, account_id, county, filename, path, status, created_at FROM "
                                           f"previews WHERE {where} ORDER BY created_at, id", tuple(args)).fetchall()]

    # --- rows held for an administrator ---------------------------------------------------------------

    def add_held(self, held_id: str, *, account_id: int, county: str, filename: str, path: str,
                 rows: list[int]) -> None:
        self._run("INSERT INTO held (id, account_id, county, filename, path, rows, status, created_at) "
                  "VALUES (?,?,?,?,?,?,?,?)", (held_id, account_id, county, filename, path, json.dumps(rows),
                                               "waiting", stamp()))

    def held(self, held_id: str) -> dict[str, Any] | None:
        row = self._run("SELECT * FROM held WHERE id=?", (held_id,)).fetchone()
        return _held(row) if row is not None else None

    def update_held(self, held_id: str, *, status: str) -> None:
        self._run("UPDATE held SET status=? WHERE id=?", (status, held_id))

    def held_lists(self) -> list[dict[str, Any]]:
        """The held lists still waiting for an administrator, oldest first, with who sent them."""
        rows = self._run("SELECT held.*, accounts.email AS sent_by FROM held LEFT JOIN accounts "
                         "ON accounts.id = held.account_id WHERE status='waiting' ORDER BY created_at, held.id")
        return [_held(r) for r in rows.fetchall()]

    # --- scheduled runs -----------------------------------------------------------------------------

    def start_scheduled(self, job: str, reason: str) -> int:
        cur = self._run("INSERT INTO scheduled (job, reason, started_at, status) VALUES (?,?,?,?)",
                        (job, reason, stamp(), "running"))
        return int(cur.lastrowid or 0)

    def finish_scheduled(self, run_id: int, status: str, detail: str = "", notified: str = "") -> None:
        self._run("UPDATE scheduled SET finished_at=?, status=?, detail=?, notified=? WHERE id=?",
                  (stamp(), status, detail, notified, run_id))

    def close_left_running(self, detail: str, *, but: int = 0) -> int:
        """Mark the scheduled runs still "running" (but the run ``but``) interrupted: their process is gone.
        Returns how many there were."""
        cur = self._run("UPDATE scheduled SET finished_at=?, status='interrupted', detail=? "
                        "WHERE status='running' AND id != ?", (stamp(), detail, but))
        return int(cur.rowcount)

    def scheduled(self, limit: int = 50) -> list[dict[str, Any]]:
        return [dict(r) for r in self._run("SELECT * FROM scheduled ORDER BY id DESC LIMIT ?", (limit,)).fetchall()]


def _held(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["rows"] = json.loads(out["rows"])
    return out


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _account(row: sqlite3.Row) -> Account:
    return Account(id=row["id"], email=row["email"], role=row["role"], hub=row["hub"], county=row["county"],
                   personal_data=bool(row["personal_data"]), must_change=bool(row["must_change"]),
                   disabled=bool(row["disabled"]), password_hash=row["password_hash"], name=row["name"])
