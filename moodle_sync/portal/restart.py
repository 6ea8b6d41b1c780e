"""What a serve process finds at its start, left by the last one (killed with kill -9, a machine that lost
power): scheduled runs still "running" and roster imports still "applying", whose process is gone, and
uploads nobody can confirm any more.

A scheduled run and a portal import hold the sync lock while they run, so when this process can take the
lock, nothing is running anywhere and those rows are closed as interrupted (the state store's own run record
is closed the same way by the next run: store/db.py). When another process holds it, they are left alone:
the next scheduled run here closes the scheduler's rows under the lock, and the upload sweep the imports.
"""

from __future__ import annotations

from pathlib import Path

from moodle_sync.errors import SyncBusy
from moodle_sync.portal import uploads
from moodle_sync.portal.config import PortalConfig
from moodle_sync.portal.db import PortalDB
from moodle_sync.writing.synclock import held

#: the status page's detail of a scheduled run whose process died before it finished
INTERRUPTED = ("avbruten: servern startades om innan körningen var klar (processen stoppades mitt i den). "
               "`moodle-sync runs` visar vad som hann göras; nästa körning gör klart resten.")
#: the outcome of a roster import whose process died while it was applied
IMPORT_INTERRUPTED = ("Importen avbröts: servern startades om medan den pågick. Det som hann skrivas finns kvar; "
                      "ladda upp filen igen så gör importen klart resten.")


def recover(db: PortalDB, state_path: Path | str, uploads_dir: Path, config: PortalConfig) -> None:
    """Close what the last process left running (see the module docstring) and sweep the uploads."""
    try:
        with held(state_path, "portal start (closing what the last process left running)"):
            db.close_left_running(INTERRUPTED)
            for row in db.previews_with_files():
                if row["status"] == "applying":
                    db.update_preview(row["id"], status="interrupted",
                                      outcome={"ok": False, "partial": True, "error": IMPORT_INTERRUPTED})
                    Path(row["path"]).unlink(missing_ok=True)
    except SyncBusy:
        pass  # another process is syncing: what looks left running may be its own
    uploads.sweep(db, uploads_dir, config)
