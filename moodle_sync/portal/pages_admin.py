"""Admins' pages: the scheduler's status with every run's outcome, and the audit log."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from moodle_sync.errors import MoodleSyncError
from moodle_sync.i18n import _, lazy_gettext
from moodle_sync.portal.web import Caller, Portal, address, login_required, portal_of, refuse, render

ADMINS_ONLY = lazy_gettext("The page is for administrators only.")
#: the scheduler's jobs and run outcomes as the status page names them
JOBS = {"apply": lazy_gettext("Update Moodle"), "pull": lazy_gettext("Fetch completions")}
OUTCOMES = {"done": lazy_gettext("done"), "no-changes": lazy_gettext("nothing to change"),
            "failed": lazy_gettext("failed"), "partial": lazy_gettext("stopped part-way"),
            "interrupted": lazy_gettext("interrupted"), "running": lazy_gettext("running")}


def started_by(reason: str) -> str:
    """Why a scheduled run ran, in words: who started it by hand, the schedule, or changed specs."""
    if reason.startswith("started by "):
        return reason[len("started by "):]
    if reason.startswith("scheduled "):
        return _("the schedule, {at}").format(at=reason[len("scheduled "):])
    if reason == "the specs changed":
        return _("the course specs changed")
    return reason


def _runs(portal: Portal) -> list[dict[str, Any]]:
    try:
        store = portal.site.store()
    except MoodleSyncError:  # no run yet: the store is made by the first one
        return []
    try:
        rows = store.runs(30)
    finally:
        store.close()
    for row in rows:
        row.pop("plan_json", None)
        summary = row.get("summary")
        try:
            row["summary"] = json.loads(summary) if summary else {}
        except ValueError:
            row["summary"] = {"text": summary}
    return rows


@login_required
async def status_page(request: Request, who: Caller) -> Response:
    if not who.account.is_admin:
        return refuse(request, 403, ADMINS_ONLY)
    portal = portal_of(request)
    runs = await run_in_threadpool(_runs, portal)
    scheduler = portal.scheduler
    return render(request, "status.html", who, jobs=JOBS, outcomes=OUTCOMES, started_by=started_by, runs=runs,
                  scheduled=portal.db.scheduled(30),
                  schedule=portal.schedule, next_runs=scheduler.next_runs() if scheduler else {},
                  running=scheduler.running if scheduler else "")


@login_required
async def audit_page(request: Request, who: Caller) -> Response:
    if not who.account.is_admin:
        return refuse(request, 403, ADMINS_ONLY)
    portal = portal_of(request)
    portal.db.log(who.account.email, "audit-view", address=address(request))
    return render(request, "audit.html", who, rows=portal.db.audit(200), accounts=portal.db.accounts())


@login_required
async def run_now(request: Request, who: Caller) -> Response:
    """Start a scheduled job now (apply or pull), in the scheduler's thread, under the sync lock."""
    if not who.account.is_admin:
        return refuse(request, 403, ADMINS_ONLY)
    portal = portal_of(request)
    job = request.path_params["job"]
    if job not in ("apply", "pull") or portal.scheduler is None:
        return refuse(request, 404, _("There is no such job."))
    portal.scheduler.request(job, f"started by {who.account.email}")
    portal.db.log(who.account.email, f"run-now-{job}", address=address(request))
    from starlette.responses import RedirectResponse

    return RedirectResponse("/status", status_code=303)
