"""Uploaded staff lists: kept (0600, ``portal/uploads/``) only while an import can still use them, and bounded
per county.

A file is deleted at once when its import is over: applied, stopped part-way or refused (the hub is told to upload
again), or replaced by a newer upload of the same account for the same county. One nobody confirms is deleted once
its preview can no longer be confirmed (``[portal] preview_minutes``) plus :data:`GRACE`, and every file within a
day of its upload (:data:`AT_MOST`), by :func:`sweep`, which runs at serve start, every :data:`SWEEP_SECONDS` while
it serves and at each upload. A county may have at most ``max_pending_uploads`` files and ``max_pending_upload_mb``
megabytes waiting (:func:`room`); an upload over that is refused and nothing of it is kept. The audit log keeps its
lines: they name the upload's id and file name, never its content.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from moodle_sync import clock
from moodle_sync.portal import held
from moodle_sync.portal.config import PortalConfig
from moodle_sync.portal.db import PortalDB, now
from moodle_sync.portal.site import county_name

#: how long a file outlives its preview: a preview or Bekräfta that began just before the end reads it in time
GRACE = datetime.timedelta(minutes=10)
#: how often the serve process sweeps (besides at its start and at each upload)
SWEEP_SECONDS = 300.0
#: no uploaded file is kept longer than a day (the record of processing says so): every deadline below ends a
#: sweep's interval before it, so the sweep after it still comes within the day
AT_MOST = datetime.timedelta(days=1)
#: an import still "applying" after this long died with its process (one takes minutes)
APPLYING_AT_MOST = AT_MOST - datetime.timedelta(seconds=SWEEP_SECONDS)
MB = 1024 * 1024

log = logging.getLogger(__name__)


async def sweep_every(db: PortalDB, directory: Path, config: PortalConfig) -> None:
    """:func:`sweep` every :data:`SWEEP_SECONDS` while the portal serves (whether or not a schedule is set)."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await run_in_threadpool(sweep, db, directory, config)
        except Exception:  # a failed sweep is tried again next time; it must not end the loop
            log.error("upload sweep: %s", traceback.format_exc())


def keep_for(config: PortalConfig) -> datetime.timedelta:
    """How long an unconfirmed upload is kept: its preview's time and :data:`GRACE`, within :data:`AT_MOST`."""
    return min(datetime.timedelta(minutes=config.preview_minutes) + GRACE, APPLYING_AT_MOST)


def finish(db: PortalDB, row: dict[str, Any], status: str) -> None:
    """The upload ``row`` is no longer needed: record ``status`` and delete its file."""
    db.update_preview(row["id"], status=status)
    Path(row["path"]).unlink(missing_ok=True)


def sweep(db: PortalDB, directory: Path, config: PortalConfig, *, at: datetime.datetime | None = None) -> int:
    """Delete the uploads no import can use any more, and held rows nobody handled (portal/held.py); returns
    how many files went.

    Previews past :func:`keep_for` become ``expired``, imports "applying" for longer than
    :data:`APPLYING_AT_MOST` ``interrupted``; a file no kept preview names (an upload cut off before it was
    recorded) goes once it is older than :data:`GRACE`.
    """
    at = at or now()
    deleted = 0
    kept: set[str] = set()
    for row in db.previews_with_files():
        age = at - datetime.datetime.fromisoformat(row["created_at"])
        if row["status"] == "applying" and age > APPLYING_AT_MOST:
            finish(db, row, "interrupted")
        elif row["status"] != "applying" and age > keep_for(config):
            finish(db, row, "expired")
        else:
            kept.add(Path(row["path"]).name)
            continue
        deleted += 1
    if directory.is_dir():
        oldest = clock.file_time(at) - GRACE.total_seconds()  # file times are the machine's
        for path in directory.iterdir():
            if path.name not in kept and path.is_file() and path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
                deleted += 1
    return deleted + held.sweep(db, at=at)


@dataclass(frozen=True)
class Room:
    """What one more upload for a county may take: ``refusal`` (Swedish, for the hub) when nothing."""

    bytes: int
    refusal: str = ""


def room(db: PortalDB, config: PortalConfig, *, county: str, account_id: int) -> Room:
    """Room for an upload by ``account_id`` for ``county``: its own uploads waiting for Bekräfta do not count
    (the new one replaces them, see :func:`replace_older`)."""
    waiting = [r for r in db.previews_with_files(county)
               if r["account_id"] != account_id or r["status"] == "applying"]
    used = sum(_size(Path(r["path"])) for r in waiting)
    limit = config.max_pending_upload_mb * MB
    again = (f"Inget av filen har sparats. Försök igen när någon av dem har bekräftats eller tagits bort (en lista "
             f"som inte bekräftas tas bort efter {config.preview_minutes} minuter).")
    if len(waiting) >= config.max_pending_uploads:
        return Room(0, f"{county_name(county)} har redan {len(waiting)} uppladdade personallistor som väntar på "
                       f"bekräftelse (högst {config.max_pending_uploads}). {again}")
    if used >= limit:
        return Room(0, f"{county_name(county)} har redan {used / MB:.0f} MB uppladdade personallistor som väntar på "
                       f"bekräftelse (högst {config.max_pending_upload_mb} MB). {again}")
    return Room(min(limit - used, config.max_upload_mb * MB))


def over_room(config: PortalConfig, county: str, left: int) -> str:
    """The refusal of a file larger than the room its county had left (``left`` bytes)."""
    if left >= config.max_upload_mb * MB:
        return f"Filen är större än {config.max_upload_mb} MB."
    return (f"Filen får inte plats: {county_name(county)} har bara {left / MB:.1f} MB kvar av "
            f"{config.max_pending_upload_mb} MB för personallistor som väntar på bekräftelse. Inget av filen har "
            f"sparats. Försök igen när någon av dem har bekräftats eller tagits bort (en lista som inte bekräftas "
            f"tas bort efter {config.preview_minutes} minuter).")


def replace_older(db: PortalDB, *, county: str, account_id: int, newest: str) -> list[str]:
    """The account's earlier uploads for ``county`` that wait for Bekräfta are replaced by ``newest``: their files
    go. Returns their ids."""
    older = [r for r in db.previews_with_files(county)
             if r["account_id"] == account_id and r["id"] != newest and r["status"] != "applying"]
    for row in older:
        finish(db, row, "replaced")
    return [r["id"] for r in older]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
