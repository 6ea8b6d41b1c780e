"""`moodle-sync purge`: the people past retention (privacy/retention.py) leave the state store and the portal.

For each of them the facts reports count are kept anonymously first (privacy/kept.py), so that every report for
a period before the purge gives the same numbers after it; then their rows go (roster data, the enrolments the
tool set and its enrol calls, what pulls saw, their cohorts, the reminders sent), with every line of text that
names their e-mail address (run plans, outcomes, import counts, export logs, the portal's audit log and
previews). Records of events older than the retention go too, whoever they name: run plans and outcomes, import
counts, personal-data export logs, the portal's audit log, previews and scheduled runs. Freed pages are
overwritten (privacy/scrub.py). Moodle's own data is not touched.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moodle_sync.privacy import scrub
from moodle_sync.privacy.kept import keep
from moodle_sync.privacy.retention import PERSON_TABLES, cutoff, past_retention
from moodle_sync.scope import Scope
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore

if TYPE_CHECKING:  # the portal and the facts import this package: at run time they are imported where used
    from moodle_sync.portal.db import PortalDB


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed, or with ``dry_run`` would remove."""

    months: int
    #: people whose last sign is before this day (and who have no active enrolment) are past retention
    before: datetime.date
    people: int
    dry_run: bool
    facts_kept: int = 0
    rows: int = 0
    lines: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"retention_months": self.months, "before": self.before.isoformat(), "people": self.people,
                "dry_run": self.dry_run, "facts_kept": self.facts_kept, "rows": self.rows, "lines": self.lines}

    def text(self) -> str:
        who = f"{self.people} {'person' if self.people == 1 else 'people'}"
        head = (f"Retention {self.months} months: {who} left before {self.before} and have no active enrolment the "
                f"tool manages.")
        if self.dry_run:
            return head + " Nothing removed (a dry run); pass --yes to remove them."
        return (head + f" Removed {self.rows} rows about them and {self.lines} log lines; kept {self.facts_kept} "
                "anonymous facts for reports. Moodle's own data is not touched: erase it with Moodle's privacy "
                "tools (Site administration > Users > Privacy and policies > Data requests).")


def purge(specs: SpecSet, store: StateStore, portal: PortalDB | None, *, months: int, yes: bool,
          today: datetime.date | None = None) -> PurgeResult:
    """Remove (with ``yes``; else only count) the people past ``months`` of retention, and old records."""
    first_kept = cutoff(months, today)
    gone = {h.userid for h in past_retention(store, months, today)}
    if not yes:
        return PurgeResult(months, first_kept, len(gone), dry_run=True)
    kept, rows, lines = erase_people(specs, store, portal, gone, words=emails_of(store, gone))
    lines += expire(store, portal, first_kept)
    if rows or lines:
        wipe(store, portal)
    return PurgeResult(months, first_kept, len(gone), dry_run=False, facts_kept=kept, rows=rows, lines=lines)


def emails_of(store: StateStore, userids: Iterable[int]) -> list[str]:
    wanted = set(userids)
    return sorted({p.email for uid, p in store.persons().items() if uid in wanted and p.email})


def erase_people(specs: SpecSet, store: StateStore, portal: PortalDB | None, userids: set[int], *,
                 words: Iterable[str]) -> tuple[int, int, int]:
    """Keep the anonymous facts of ``userids``, delete their rows and every line naming one of ``words``;
    returns (facts kept, rows deleted, lines removed)."""
    from moodle_sync.completions.facts import build_facts

    facts = [f for f in build_facts(specs, store, Scope(), kept=False) if f.person in userids] if userids else []
    kept = keep(store, facts)
    needles = scrub.needles(words)
    rows = 0
    with store._lock:
        scrub.secure(store._db)
        store._db.execute("BEGIN")
        for table in PERSON_TABLES:
            for uid in sorted(userids):
                rows += store._db.execute(f"DELETE FROM {table} WHERE moodle_url=? AND userid=?",  # noqa: S608
                                          (store.moodle_url, uid)).rowcount
        lines = scrub.remove(store._db, scrub.STORE_TEXT, scrub.find(store._db, scrub.STORE_TEXT, needles))
        store._db.execute("COMMIT")
    if portal is not None and needles:
        with portal._lock:
            scrub.secure(portal._db)
            lines += scrub.remove(portal._db, scrub.PORTAL_TEXT, scrub.find(portal._db, scrub.PORTAL_TEXT, needles))
    return kept, rows, lines


def expire(store: StateStore, portal: PortalDB | None, before: datetime.date) -> int:
    """Records of events from before ``before`` (a day), whoever they name: returns how many rows went or lost
    their text."""
    stamp = before.isoformat()
    url = store.moodle_url
    count = 0
    with store._lock:
        db = store._db
        scrub.secure(db)
        db.execute("BEGIN")
        count += db.execute("DELETE FROM outcomes WHERE run_id IN (SELECT id FROM runs WHERE moodle_url=? AND "
                            "started_at<?)", (url, stamp)).rowcount
        count += db.execute("UPDATE runs SET plan_json=NULL WHERE moodle_url=? AND started_at<? AND plan_json IS NOT "
                            "NULL", (url, stamp)).rowcount
        count += db.execute("UPDATE roster_imports SET counts='{}' WHERE moodle_url=? AND at<? AND counts!='{}'",
                            (url, stamp)).rowcount
        count += db.execute("DELETE FROM personal_exports WHERE moodle_url=? AND at<?", (url, stamp)).rowcount
        db.execute("COMMIT")
    if portal is not None:
        with portal._lock:
            scrub.secure(portal._db)
            for sql in ("DELETE FROM audit WHERE at<?", "DELETE FROM previews WHERE created_at<? AND status NOT IN "
                        "('uploaded', 'previewed', 'refused', 'applying')", "DELETE FROM scheduled WHERE started_at<?",
                        "DELETE FROM held WHERE created_at<? AND status!='waiting'"):
                count += portal._db.execute(sql, (stamp,)).rowcount
    return count


def wipe(store: StateStore, portal: PortalDB | None) -> None:
    """Overwrite the freed pages of both databases and empty their write-ahead logs."""
    with store._lock:
        scrub.wipe(store._db, store.path)
    if portal is not None:
        with portal._lock:
            scrub.wipe(portal._db, portal.path)
