"""The sync on its own: a thread of the serve process that applies the specs when they change (or at set
times of day) and pulls completions every night, one run at a time under the sync lock the command line
takes too (moodle_sync/writing/synclock.py). A failed run is recorded (state store `runs` and the portal's
status page) and, when configured, e-mailed and sent as a Moodle message to named admins.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from moodle_sync import clock
from moodle_sync.acting import acting_for
from moodle_sync.errors import ApplyError, MoodleSyncError, redact
from moodle_sync.i18n import _, speaking
from moodle_sync.jobs.pull import pull
from moodle_sync.jobs.site import open_store
from moodle_sync.jobs.sync import apply as apply_specs
from moodle_sync.portal.config import ScheduleConfig
from moodle_sync.portal.db import PortalDB
from moodle_sync.portal.notify import notify_failure
from moodle_sync.portal.restart import INTERRUPTED
from moodle_sync.portal.site import Site
from moodle_sync.writing.synclock import SyncBusy, held

log = logging.getLogger(__name__)
TZ = ZoneInfo("Europe/Stockholm")
#: the reason of a run an administrator started in the portal ("Kör nu"): "started by <e-mail>"
STARTED_BY = "started by "


def specs_fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file under the specs directory with its size and modification time (cheap to take often)."""
    if not directory.is_dir():
        return ()
    return tuple(sorted((str(p.relative_to(directory)), p.stat().st_size, p.stat().st_mtime_ns)
                        for p in directory.rglob("*") if p.is_file()))


def next_time(times: list[datetime.time], after: datetime.datetime) -> datetime.datetime | None:
    """The first of ``times`` (each day, Europe/Stockholm) strictly after ``after``."""
    if not times:
        return None
    local = after.astimezone(TZ)
    candidates = [datetime.datetime.combine(local.date() + datetime.timedelta(days=d), t, tzinfo=TZ)
                  for d in (0, 1) for t in times]
    return min(c for c in candidates if c > local)


class Scheduler:
    def __init__(self, site: Site, db: PortalDB, config: ScheduleConfig,
                 now: Callable[[], datetime.datetime] | None = None) -> None:
        self.site = site
        self.db = db
        self.config = config
        self.clock = now or (lambda: clock.now().astimezone(TZ))
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._requested: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.running = ""
        start = self.clock()
        self._next = {"apply": next_time(config.times("apply_at"), start),
                      "pull": next_time(config.times("pull_at"), start),
                      "purge": next_time(config.times("purge_at"), start)}
        self._seen: tuple[tuple[str, int, int], ...] | None = None
        self._failed_digest: str | None = None
        #: how the job running now was started, as the store's runs name it: "scheduled" or "portal"
        self._how = "scheduled"

    # --- control ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="moodle-sync-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def request(self, job: str, reason: str) -> None:
        with self._lock:
            self._requested.append((job, reason))
        self._wake.set()

    def next_runs(self) -> dict[str, str]:
        return {job: f"{when:%Y-%m-%d %H:%M}" for job, when in self._next.items() if when is not None}

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a bug must not end the scheduler: log it, try again next time
                log.error("scheduler: %s", redact(traceback.format_exc()))
            self._wake.wait(self.config.check_seconds)
            self._wake.clear()

    # --- one look at the clock and the specs ----------------------------------------------------------

    def due(self) -> list[tuple[str, str]]:
        """The jobs to run now, and why."""
        jobs: list[tuple[str, str]] = []
        with self._lock:
            jobs += self._requested
            self._requested = []
        now = self.clock()
        for job in ("apply", "pull", "purge"):
            when = self._next[job]
            if when is not None and now >= when:
                jobs.append((job, f"scheduled {when:%H:%M}"))
                self._next[job] = next_time(self.config.times(f"{job}_at"), now)
        if self.config.apply_on_change and not any(j == "apply" for j, _ in jobs):
            seen = specs_fingerprint(Path(self.site.settings.specs))
            if seen != self._seen and self._specs_changed():
                jobs.append(("apply", "the specs changed"))
            self._seen = seen
        return jobs

    def _specs_changed(self) -> bool:
        """Whether the specs differ from what the last successful apply applied (or are invalid: reported once)."""
        try:
            digest = self.site.specs().digest
        except MoodleSyncError:
            return True
        if digest == self._failed_digest:
            return False
        try:
            store = self.site.store()
        except MoodleSyncError:  # no store yet: nothing was ever applied
            return True
        try:
            applied = [r for r in store.runs(200) if r["command"] == "apply" and r["status"] in ("done", "no-changes")]
        finally:
            store.close()
        return not applied or applied[0]["spec_digest"] != digest

    def tick(self) -> None:
        with speaking("sv"):  # what the runs come to is read on the status page, in Swedish as the portal speaks
            for job, reason in self.due():
                self.run(job, reason)

    # --- running a job ------------------------------------------------------------------------------

    def run(self, job: str, reason: str) -> str:
        """Run ``job`` now under the sync lock; returns its status (done, failed, partial, busy)."""
        run_id = self.db.start_scheduled(job, reason)
        self.running = job
        # a run an administrator started in the portal is theirs in the store's runs, not the schedule's
        person = reason[len(STARTED_BY):] if reason.startswith(STARTED_BY) else ""
        self._how = "portal" if person else "scheduled"
        try:
            with acting_for(f"{person} (portal)") if person else contextlib.nullcontext(), \
                    held(self.site.state_path, f"{job} ({self._how}: {reason})"):
                # under the lock nothing else runs: a row still "running" is a killed process's
                self.db.close_left_running(INTERRUPTED, but=run_id)
                status, detail = {"apply": self._apply, "pull": self._pull, "purge": self._purge}[job]()
        except SyncBusy as e:
            status, detail = "busy", _("not run: {why}").format(why=e)
            with self._lock:  # try again at the next look
                self._requested.append((job, reason))
        except ApplyError as e:
            status, detail = ("partial" if e.partial else "failed"), str(e)
        except MoodleSyncError as e:
            status, detail = "failed", str(e)
        except Exception as e:  # a bug of ours: recorded and notified like any failure
            status, detail = "failed", f"{type(e).__name__}: {redact(str(e))}"
        finally:
            self.running = ""
        notified = ""
        if status in ("failed", "partial"):
            if job == "apply":
                self._failed_digest = self._digest_or_none()
            notified = notify_failure(self.site, self.config, job, reason, status, detail)
        elif job == "apply":
            self._failed_digest = None
        self.db.finish_scheduled(run_id, status, redact(detail)[:4000], notified)
        return status

    def _digest_or_none(self) -> str | None:
        try:
            return self.site.specs().digest
        except MoodleSyncError:
            return None

    def _apply(self) -> tuple[str, str]:
        settings = self.site.settings
        api = self.site.api()
        store = open_store(settings, api)
        try:
            try:
                report = apply_specs(api, self.site.specs(), store, roles=settings.roles, workers=settings.workers)
            except ApplyError:
                raise  # its run is recorded (partial or failed) by jobs/sync.apply
            except MoodleSyncError as e:  # stopped before a run began (specs, plan, connection): `runs` shows it
                run_id = store.start_run(f"apply ({self._how})")
                store.finish_run(run_id, "failed", {"error": redact(str(e))[:2000]})
                raise
        finally:
            store.close()
        s = report.result.summary()
        if not report.plan.actions:
            return "done", _("no changes: Moodle matches the specs")
        return "done", _("run {run}: {done} done, {failed} failed, {skipped} skipped").format(
            run=report.run_id, done=s["done"], failed=s["failed"], skipped=s["skipped"])

    def _purge(self) -> tuple[str, str]:
        from moodle_sync.privacy.purge import purge

        store = self.site.store()
        try:
            run_id = store.start_run("purge (scheduled)")
            result = purge(self.site.specs(), store, self.db, months=self.site.settings.retention_months, yes=True)
            store.finish_run(run_id, "done", result.to_dict())
        finally:
            store.close()
        return "done", result.text()

    def _pull(self) -> tuple[str, str]:
        settings = self.site.settings
        api = self.site.api()
        store = open_store(settings, api)
        run_id = store.start_run(f"pull ({self._how})")
        try:
            result = pull(api, self.site.specs(), store, workers=settings.workers,
                          report_name=settings.completion_report or None)  # as `moodle-sync pull` does
        except BaseException as e:
            store.finish_run(run_id, "failed", {"error": redact(str(e))[:2000]})
            store.close()
            raise
        status = "partial" if result.not_read else "done"
        store.finish_run(run_id, status, result.to_dict())
        store.close()
        detail = _("{courses} course versions, {people} enrolments, {completions} new completions").format(
            courses=result.courses, people=result.people, completions=result.new_completions)
        if result.not_read:
            detail += _("; not read: ") + ", ".join(f"{idn}: {p.message}" for idn, p in sorted(result.not_read.items()))
        return status, detail
