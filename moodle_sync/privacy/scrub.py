"""Lines of text that name a person (run plans, outcomes, import counts, export logs; the portal's audit log,
previews and scheduled runs), found, removed or blanked; and the freed pages of a database overwritten.

A line names a person when it holds their e-mail address or name, as written or as JSON escapes it. Rows that
are the record of an event (an outcome, an audit line, an export) are deleted; a run or an import keeps its row
and loses the text that named someone. SQLite keeps deleted rows in free pages and old pages in the write-ahead
log: :func:`wipe` overwrites both (``secure_delete``, VACUUM, a truncating checkpoint).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from moodle_sync.errors import StoreError

#: table → (key column, the text columns that may name someone, whether the row goes or only its text)
STORE_TEXT: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "runs": ("id", ("plan_json", "summary"), False),
    "outcomes": ("id", ("target", "detail"), True),
    "roster_imports": ("id", ("counts", "file"), False),
    "personal_exports": ("id", ("what",), True),
}
PORTAL_TEXT: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "audit": ("id", ("detail", "who"), True),
    "previews": ("id", ("plan", "outcome", "filename"), False),
    "scheduled": ("id", ("detail",), False),
    "held": ("id", ("filename",), False),
}
#: what a blanked text column holds afterwards
BLANK: dict[str, Any] = {"plan_json": None, "summary": "{}", "counts": "{}", "plan": "", "outcome": "", "detail": "",
                         "file": "(borttaget)", "filename": "(borttaget)"}


@dataclass(frozen=True)
class Line:
    """One row of text that names the person: where it is and what it says."""

    table: str
    key: Any
    text: str


def needles(words: Iterable[str]) -> list[str]:
    """The forms to look for, lower case: each word as written and as JSON escapes it."""
    out: set[str] = set()
    for word in words:
        if word.strip():
            out |= {word.lower(), json.dumps(word.lower())[1:-1]}
    return sorted(out)


def find(db: sqlite3.Connection, tables: dict[str, tuple[str, tuple[str, ...], bool]], words: list[str],
         ) -> list[Line]:
    """Every row of ``tables`` whose text holds one of ``words`` (see :func:`needles`)."""
    if not words:
        return []
    found: list[Line] = []
    for table, (key, columns, _) in tables.items():
        for row in db.execute(f"SELECT {key}, {', '.join(columns)} FROM {table}"):  # noqa: S608 - our own names
            text = " | ".join(str(v) for v in row[1:] if v)
            if any(w in text.lower() for w in words):
                found.append(Line(table, row[0], text))
    return found


def remove(db: sqlite3.Connection, tables: dict[str, tuple[str, tuple[str, ...], bool]], lines: list[Line]) -> int:
    """Delete the rows ``lines`` name, or blank their text where the row itself stays; returns how many."""
    for line in lines:
        key, columns, whole = tables[line.table]
        if whole:
            db.execute(f"DELETE FROM {line.table} WHERE {key}=?", (line.key,))  # noqa: S608
        else:
            sets = ", ".join(f"{c}=?" for c in columns)
            db.execute(f"UPDATE {line.table} SET {sets} WHERE {key}=?",  # noqa: S608
                       (*(BLANK.get(c, "") for c in columns), line.key))
    return len(lines)


def secure(db: sqlite3.Connection) -> None:
    """From now on, what this connection deletes is overwritten with zeros, not left in free pages."""
    db.execute("PRAGMA secure_delete=ON")


def wipe(db: sqlite3.Connection, path: object) -> None:
    """Overwrite every free page (VACUUM rebuilds the file) and empty the write-ahead log.

    Raises:
        StoreError: another process kept the database busy, so old pages may remain (nothing is lost).
    """
    secure(db)
    try:
        db.execute("VACUUM")
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.Error as e:
        busy, why = 1, str(e)
    else:
        why = "another process is reading it"
    if busy:
        raise StoreError(f"the records are deleted, but the old pages of {path} could not be overwritten yet ({why})",
                         hint="run the same command again when no other moodle-sync process (serve, apply, pull) "
                              "is using the database")
