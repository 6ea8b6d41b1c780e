"""Staff lists: upload → the import plan (as `roster import --dry-run` computes it) → Bekräfta → outcome.

Every upload, preview and confirmation is in the audit log with who, when and from where. The file is
kept (0600, in the portal's data directory) until its import is over, so that the confirmation applies
exactly what was previewed; how long at most, and how many per county, is portal/uploads.py's.
"""

from __future__ import annotations

import datetime
import secrets
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from moodle_sync.i18n import _
from moodle_sync.portal import held, rosters, told, uploads
from moodle_sync.portal.db import now
from moodle_sync.portal.pages_county import NOT_YOURS
from moodle_sync.portal.said import for_page
from moodle_sync.portal.web import (
    Caller,
    Portal,
    address,
    county_for,
    form_of,
    login_required,
    portal_of,
    refuse,
    render,
)
from moodle_sync.scope import Scope

SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx"}
CHUNK = 1 << 20


@login_required
async def upload_page(request: Request, who: Caller) -> Response:
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    county = scope.one_county()
    history = told.history(portal_of(request).db, county)
    return render(request, "roster_upload.html", who, county=county, history=history, message="")


@login_required
async def upload(request: Request, who: Caller) -> Response:
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    county = scope.one_county()
    portal = portal_of(request)
    form = await form_of(request)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return render(request, "roster_upload.html", who, status=400, county=county, history=[],
                      message=_("Choose a file (CSV or XLSX)."))
    suffix = Path(file.filename).suffix.lower()
    if suffix not in SUFFIXES:
        return render(request, "roster_upload.html", who, status=400, county=county, history=[],
                      message=_("The file must be CSV or XLSX, not {suffix}.").format(
                          suffix=suffix or _("without a suffix")))
    options = {"mode": "add" if form.get("mode") == "add" else "replace", "skip_invalid": False,
               "allow_mass_removal": False}
    name = Path(file.filename).name[:200]
    async with portal.upload_lock:  # the county's room is checked and taken by one upload at a time
        uploads.sweep(portal.db, portal.uploads, portal.config)
        room = uploads.room(portal.db, portal.config, county=county, account_id=who.account.id)
        if room.refusal:
            return render(request, "roster_upload.html", who, status=429, county=county, history=[],
                          message=room.refusal)
        preview_id = secrets.token_urlsafe(18)
        path = portal.uploads / f"{preview_id}{suffix}"
        size = 0
        with path.open("wb") as out:
            path.chmod(0o600)
            while chunk := await file.read(CHUNK):
                size += len(chunk)
                if size > room.bytes:
                    break
                out.write(chunk)
        if size > room.bytes:
            path.unlink()
            return render(request, "roster_upload.html", who, status=413, county=county, history=[],
                          message=uploads.over_room(portal.config, county, room.bytes))
        portal.db.add_preview(preview_id, account_id=who.account.id, county=county, filename=name, path=str(path),
                              sha256=rosters.sha256_of(path), options=options)
        replaced = uploads.replace_older(portal.db, county=county, account_id=who.account.id, newest=preview_id)
    portal.db.log(who.account.email, "roster-upload", county=county, address=address(request),
                  detail=f"{name} ({size} bytes) {preview_id}" + (f", replaces {', '.join(replaced)}" if replaced
                                                                  else ""))
    return await make_preview(request, who, scope, preview_id, options)


async def make_preview(request: Request, who: Caller, scope: Scope, preview_id: str,
                       options: dict[str, Any]) -> Response:
    """Plan the upload ``preview_id`` as ``who``, keep the plan and send the browser to the page that shows it
    (post/redirect/get: reloading the page shows the same plan again; nothing is written), within ``scope`` (one
    county)."""
    county = scope.one_county()
    portal = portal_of(request)
    row = portal.db.preview(preview_id)
    assert row is not None
    result = await run_in_threadpool(rosters.preview, portal.site, who.account, Path(row["path"]), scope=scope,
                                     options=options)
    result.error = for_page(result.error, path=Path(row["path"]), filename=row["filename"])
    portal.db.update_preview(preview_id, status="previewed" if result.plan is not None else "refused",
                             plan=result.plan or {}, options=options, outcome={"preview": result.to_dict()})
    portal.db.log(who.account.email, "roster-preview", county=county, detail=f"{row['filename']} {preview_id}: "
                  + ("plan" if result.plan is not None else result.error.split("\n")[0][:200]),
                  address=address(request))
    return RedirectResponse(f"/lan/{county}/personallista/{preview_id}", status_code=303)


def _own_preview(request: Request, who: Caller) -> tuple[Scope, dict[str, Any]] | Response:
    """The preview named in the URL, if it is this account's, for this county, and not too old."""
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    row = portal_of(request).db.preview(request.path_params["preview"])
    if row is None or not scope.covers(row["county"]) or row["account_id"] != who.account.id:
        return refuse(request, 404, _("There is no such preview."))
    age = now() - datetime.datetime.fromisoformat(row["created_at"])
    if age > datetime.timedelta(minutes=portal_of(request).config.preview_minutes) and row["status"] != "applied":
        return refuse(request, 410, _("The preview is too old. Upload the file again."))
    return scope, row


@login_required
async def repreview(request: Request, who: Caller) -> Response:
    """Preview the same file again: skipping invalid rows, or allowing a mass removal (explicitly ticked)."""
    found = _own_preview(request, who)
    if isinstance(found, Response):
        return found
    scope, row = found
    if row["status"] not in ("previewed", "refused"):
        return refuse(request, 409, _gone(row))
    form = await form_of(request)
    options = dict(row["options"])
    if form.get("skip_invalid") == "ja":
        options["skip_invalid"] = True
    if form.get("allow_mass_removal") == "ja":
        if form.get("mass_removal_confirmed") != "ja":
            return refuse(request, 400, _("Tick the box that confirms that this many are to be removed."))
        options["allow_mass_removal"] = True
    return await make_preview(request, who, scope, row["id"], options)


@login_required
async def confirm(request: Request, who: Caller) -> Response:
    found = _own_preview(request, who)
    if isinstance(found, Response):
        return found
    scope, row = found
    county = scope.one_county()
    portal = portal_of(request)
    if row["status"] not in ("previewed", "refused"):
        return refuse(request, 409, _gone(row))
    if row["status"] != "previewed" or row["plan"] is None:
        return refuse(request, 409, _("This file has no accepted plan to confirm."))
    portal.db.update_preview(row["id"], status="applying")
    portal.db.log(who.account.email, "roster-confirm", county=county, detail=f"{row['filename']} {row['id']}",
                  address=address(request))
    outcome = await run_in_threadpool(rosters.confirm, portal.site, who.account, Path(row["path"]), scope=scope,
                                      options=row["options"], seen=row["plan"], sha256=row["sha256"])
    if outcome.get("busy"):  # nothing was done: the same plan may be confirmed again in a while
        status = "busy"
        portal.db.update_preview(row["id"], status="previewed", outcome={**(row["outcome"] or {}),
                                                                          "busy": outcome["error"]})
    else:  # applied, stopped part-way or refused: either way the hub uploads again, the file is done with
        status = "applied" if outcome.get("ok") else ("partial" if outcome.get("partial") else "failed")
        outcome["held_for_admin"] = await run_in_threadpool(_hand_over, portal, who, county, row, outcome)
        portal.db.update_preview(row["id"], status=status, outcome=outcome)
        Path(row["path"]).unlink(missing_ok=True)
    portal.db.log(who.account.email, "roster-outcome", county=county,
                  detail=f"{row['filename']} {row['id']}: {status}" + (f": {outcome.get('error', '')[:200]}"
                                                                      if not outcome.get("ok") else ""),
                  address=address(request))
    return RedirectResponse(f"/lan/{county}/personallista/{row['id']}", status_code=303)


def _hand_over(portal: Portal, who: Caller, county: str, row: dict[str, Any], outcome: dict[str, Any]) -> int:
    """After an import: a hub's held rows go to the administrators (how many); an administrator's review of
    held rows that went through closes them."""
    if outcome.get("ok") and row["options"].get("held"):
        held.close(portal.db, row["options"]["held"], "approved")
    rows = held.refused_rows(row["plan"])
    if who.account.is_admin or not rows or not (outcome.get("ok") or outcome.get("partial")):
        return 0
    kept = held.hold(portal.site, portal.db, portal.held, source=Path(row["path"]), rows=rows, county=county,
                     account_id=who.account.id, filename=row["filename"])
    if kept is None:
        return 0
    portal.db.log(who.account.email, "roster-held", county=county, detail=f"{row['filename']} {row['id']}: "
                  f"{len(rows)} rows held for an administrator ({kept})")
    return len(rows)


def _gone(row: dict[str, Any]) -> str:
    """Why a preview can no longer be previewed again or confirmed (its file is gone or in use)."""
    if row["status"] == "replaced":
        return _("You have uploaded a newer file that replaces this one; nothing has been written. Check and "
                 "confirm the new one.")
    if row["status"] == "applying":
        return _("This file is being imported now.")
    if row["status"] == "applied":
        return _("This file is imported already.")
    return _("This file is no longer kept (its import is over or has expired); nothing has been written. "
            "Upload it again.")


@login_required
async def outcome_page(request: Request, who: Caller) -> Response:
    found = _own_preview(request, who)
    if isinstance(found, Response):
        return found
    scope, row = found
    county = scope.one_county()
    kept = row["outcome"] or {}
    if row["status"] in ("previewed", "refused") and "preview" in kept:  # the plan, before Bekräfta
        result = kept["preview"]
        status = 422 if row["status"] == "refused" and not (result.get("problems") or result.get("mass_removal")) \
            else 200
        return render(request, "roster_preview.html", who, status=status, county=county, preview_id=row["id"],
                      row=row, result=result, busy=kept.get("busy", ""))
    return render(request, "roster_outcome.html", who, county=county, row=row, outcome=kept)


@login_required
async def back_to_preview(request: Request, who: Caller) -> Response:
    """A reload or a link to a form's address (``…/granska``, ``…/bekrafta``) shows the preview's page."""
    found = _own_preview(request, who)
    if isinstance(found, Response):
        return found
    scope, row = found
    county = scope.one_county()
    return RedirectResponse(f"/lan/{county}/personallista/{row['id']}", status_code=303)
