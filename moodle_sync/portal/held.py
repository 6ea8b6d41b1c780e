"""Rows a hub's import held for an administrator, and the administrator's approval in the portal.

A hub may not use an existing account that is not already its county's (scope.hub_may_use: another county's
person, an account in no county, the site admin): the import holds such rows and writes nothing for them.
When the hub confirms its import, the held rows are kept as a staff list of their own – only those rows, as
the hub's file gave them, with the preferred headers (0600, ``portal/held/``) – and listed for administrators on
their start page. An administrator reviews them with the ordinary preview of an import (mode ``add``: nobody
leaves), made as the administrator, who sees which accounts would be adopted and their current values; Bekräfta
adopts them, and from then on they are the county's. Or the administrator dismisses them. A list nobody handles
is deleted after :data:`KEEP` (personal data is kept no longer than it is of use).
"""

from __future__ import annotations

import csv
import datetime
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from moodle_sync.portal.db import PortalDB, now
from moodle_sync.portal.site import Site
from moodle_sync.rosters.columns import ALIASES, FIELDS
from moodle_sync.rosters.parse import read_roster
from moodle_sync.rosters.roster import RosterRow

#: how long held rows wait for an administrator before they are deleted
KEEP = datetime.timedelta(days=30)


def refused_rows(plan: dict[str, Any] | None) -> list[int]:
    """The row numbers a confirmed import plan held (its ``refused`` rows)."""
    return sorted({int(r["row"]) for r in (plan or {}).get("refused", [])})


def hold(site: Site, db: PortalDB, directory: Path, *, source: Path, rows: Iterable[int], county: str,
         account_id: int, filename: str, sheet: str | None = None) -> str | None:
    """Keep ``rows`` of the hub's file ``source`` for an administrator; returns the held list's id (None: none).

    The file is read again as the import read it, so the held list holds exactly the rows the plan named.
    """
    wanted = set(rows)
    if not wanted or not source.exists():
        return None
    specs = site.specs()
    roster = read_roster(source, target_groups={k: g.name for k, g in specs.target_groups.items()}, sheet=sheet)
    chosen = [r for r in roster.rows if r.row in wanted]
    if not chosen:
        return None
    held_id = secrets.token_urlsafe(18)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{held_id}.csv"
    _write(path, chosen, county)
    db.add_held(held_id, county=county, account_id=account_id, filename=filename, path=str(path),
                rows=[r.row for r in chosen])
    return held_id


def review_copy(row: dict[str, Any], uploads: Path) -> Path:
    """A copy of a held list among the uploads, for the administrator's preview (which deletes it when done)."""
    copy = uploads / f"{secrets.token_urlsafe(18)}.csv"
    shutil.copyfile(row["path"], copy)
    copy.chmod(0o600)
    return copy


def close(db: PortalDB, held_id: str, status: str) -> None:
    """The held list was adopted (``approved``) or ``dismissed``: its file goes."""
    row = db.held(held_id)
    if row is None:
        return
    db.update_held(held_id, status=status)
    Path(row["path"]).unlink(missing_ok=True)


def sweep(db: PortalDB, *, at: datetime.datetime | None = None) -> int:
    """Delete held lists nobody handled within :data:`KEEP`; returns how many went."""
    at = at or now()
    gone = 0
    for row in db.held_lists():
        if at - datetime.datetime.fromisoformat(row["created_at"]) > KEEP:
            close(db, row["id"], "expired")
            gone += 1
    return gone


def _write(path: Path, rows: list[RosterRow], county: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        path.chmod(0o600)
        writer = csv.writer(out, delimiter=";")
        writer.writerow([ALIASES[f][0] for f in FIELDS])
        for r in rows:
            writer.writerow([r.email, r.firstname, r.lastname, r.organisation, r.unit, ", ".join(r.target_groups),
                             r.employment_start.isoformat() if r.employment_start else "", r.employee_id or "",
                             county])
