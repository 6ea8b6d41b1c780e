"""One person's records: everything the state store and the portal hold about them (a registerutdrag, for a
subject access request), and their erasure.

A person is found by e-mail address: the rosters' people with that address (their Moodle user numbers), the
rows about those numbers, and every line of text, portal row and kept file that names the address or the
names the plans gave it. Erasure keeps the anonymous facts reports count (privacy/kept.py), like a purge, and
removes the rest; freed pages are overwritten. Moodle's own data is erased with Moodle's privacy tools.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moodle_sync.privacy import scrub
from moodle_sync.privacy.purge import erase_people, wipe
from moodle_sync.privacy.retention import PERSON_TABLES
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore

if TYPE_CHECKING:
    from moodle_sync.portal.db import PortalDB

#: the Swedish heading of each part of a registerutdrag, in the order shown
HEADINGS: dict[str, str] = {
    "persons": "Uppgifter från personallistor (län, målgrupper, organisation, enhet, anställning, e-post)",
    "enrolments": "Kursregistreringar som verktyget har gjort",
    "enrol_intents": "Registreringsanrop till Moodle",
    "course_people": "Kursdeltagande och slutföranden som hämtats från Moodle",
    "cohort_places": "Kohorter i Moodle",
    "reminders": "Påminnelser som skickats",
    "kept_facts": "Avidentifierade uppgifter för statistik",
    "store_lines": "Loggrader i tillståndsdatabasen som nämner personen",
    "accounts": "Konto i portalen",
    "portal_lines": "Rader i portalens databas som nämner personen",
    "files": "Sparade filer som nämner personen",
}
#: the Swedish words for the store's columns in the text of a registerutdrag (others are shown as they are)
LABELS: dict[str, str] = {
    "userid": "Moodle-användarnummer", "person": "Moodle-användarnummer", "county": "län",
    "target_groups": "målgrupper", "unit": "enhet", "employment_start": "anställningsdatum",
    "employee_id": "anställnings-id", "email": "e-post", "updated_at": "senast ändrad", "course_idnumber": "kurs",
    "roleid": "roll", "timestart": "start (Unix-tid)", "timeend": "slut (Unix-tid)", "suspended": "avstängd",
    "rule": "regel", "enrolled_at": "registrerad", "enrolled_since": "registrerad sedan", "at": "tid",
    "completed_at": "slutförd (Unix-tid)", "completed_on": "slutförd", "completed_source": "källa för slutförandet",
    "lastcourseaccess": "senaste besök (Unix-tid)", "last_checked": "senast kontrollerad",
    "cohort_idnumber": "kohort", "seen_at": "sedd", "sent_at": "skickad", "kind": "slag", "deadline": "sista dag",
    "deadline_kind": "slag av sista dag", "refresher_due": "repetition senast", "kept_on": "avidentifierad",
    "run_id": "körning", "tabell": "tabell", "rad": "rad", "text": "text", "fil": "fil",
}
MOODLE_ERASURE = ("Moodle's own data about this person (account, enrolments, grades, logs) is not erased by "
                  "moodle-sync: erase it with Moodle's privacy tools (Site administration > Users > Privacy and "
                  "policies > Data requests).")


@dataclass
class Records:
    """What the store and the portal hold about one person, by part (see :data:`HEADINGS`)."""

    email: str
    userids: list[int]
    names: list[str]
    parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"email": self.email, "userids": self.userids, "names": self.names,
                "parts": {k: self.parts.get(k, []) for k in HEADINGS}}

    def text(self) -> str:
        out = [f"Registerutdrag för {self.email}",
               f"Moodle-användarnummer: {', '.join(map(str, self.userids)) or '–'}",
               f"Namn i sparade planer: {', '.join(self.names) or '–'}"]
        for key, heading in HEADINGS.items():
            rows = self.parts.get(key, [])
            out.append(f"\n{heading} ({len(rows)})")
            out += [("  " + "; ".join(f"{LABELS.get(k, k)}: {v}" for k, v in row.items() if v not in (None, "")))
                    for row in rows]
        return "\n".join(out)

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.parts.values())


def collect(store: StateStore, portal: PortalDB | None, email: str, *, portal_dir: Path | None = None) -> Records:
    """Everything about the person with ``email`` (any case) in the store, the portal and its kept files."""
    db, url = store._db, store.moodle_url
    userids = sorted(r[0] for r in db.execute("SELECT userid FROM persons WHERE moodle_url=? AND lower(email)=?",
                                              (url, email.lower())))
    records = Records(email=email, userids=userids, names=[])
    for table in PERSON_TABLES:
        records.parts[table] = [_plain(r) for uid in userids for r in db.execute(
            f"SELECT * FROM {table} WHERE moodle_url=? AND userid=?", (url, uid))]  # noqa: S608
    records.parts["kept_facts"] = [_plain(r) for uid in userids for r in db.execute(
        "SELECT * FROM kept_facts WHERE moodle_url=? AND person=?", (url, uid))]
    lines = scrub.find(db, scrub.STORE_TEXT, scrub.needles([email]))
    records.names = sorted(set(_names(email, (line.text for line in lines))))
    words = scrub.needles([email, *records.names])
    records.parts["store_lines"] = [_line(line) for line in scrub.find(db, scrub.STORE_TEXT, words)]
    if portal is not None:
        records.parts["accounts"] = [
            {"e-post": a.email, "namn": a.name, "roll": a.role, "hubb": a.hub, "län": a.county,
             "personuppgifter": a.personal_data, "avstängt": a.disabled}
            for a in portal.accounts() if a.email.lower() == email.lower()]
        portal_lines = scrub.find(portal._db, scrub.PORTAL_TEXT, scrub.needles([email]))
        records.names = sorted(set(records.names) | set(_names(email, (line.text for line in portal_lines))))
        words = scrub.needles([email, *records.names])
        records.parts["portal_lines"] = [_line(line) for line in scrub.find(portal._db, scrub.PORTAL_TEXT, words)]
    records.parts["files"] = [{"fil": str(p)} for p in _files(portal_dir, words)]
    return records


def forget(specs: SpecSet, store: StateStore, portal: PortalDB | None, email: str, *,
           portal_dir: Path | None = None) -> Records:
    """Erase the person with ``email``: their rows, the lines and files naming them (their anonymous facts stay
    for reports); returns what was found and removed."""
    records = collect(store, portal, email, portal_dir=portal_dir)
    erase_people(specs, store, portal, set(records.userids), words=[email, *records.names])
    if portal is not None:
        for path in _files(portal_dir, scrub.needles([email, *records.names])):
            path.unlink(missing_ok=True)
    wipe(store, portal)
    return records


def _plain(row: sqlite3.Row) -> dict[str, Any]:
    return {k: v for k, v in dict(row).items() if k != "moodle_url"}


def _line(line: scrub.Line) -> dict[str, Any]:
    return {"tabell": line.table, "rad": line.key, "text": line.text[:2000]}


def _names(email: str, texts: Iterable[str]) -> Iterator[str]:
    """The names plans and outcomes gave the person with ``email``: "Förnamn Efternamn" of every JSON object
    that holds the address (a roster row, a leaver, a new account)."""
    for text in texts:
        for part in text.split(" | "):
            try:
                data = json.loads(part)
            except ValueError:
                continue
            yield from _walk(data, email.lower())


def _walk(data: Any, email: str) -> Iterator[str]:
    if isinstance(data, dict):
        values = {str(v).lower() for v in data.values() if isinstance(v, str)}
        if email in values:
            first, last = data.get("firstname"), data.get("lastname")
            if isinstance(first, str) and isinstance(last, str) and (first or last):
                yield f"{first} {last}".strip()
            if isinstance(data.get("name"), str) and data["name"]:
                yield data["name"]
        for v in data.values():
            yield from _walk(v, email)
    elif isinstance(data, list):
        for v in data:
            yield from _walk(v, email)


def _files(portal_dir: Path | None, words: list[str]) -> list[Path]:
    """The portal's kept uploads and held lists that name the person."""
    if portal_dir is None or not words:
        return []
    found: list[Path] = []
    for sub in ("uploads", "held"):
        directory = portal_dir / sub
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            try:
                content = path.read_bytes().decode("utf-8", "replace").lower()
            except OSError:
                continue
            if any(w in content for w in words):
                found.append(path)
    return found
