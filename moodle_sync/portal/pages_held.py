"""An administrator's pages for rows hubs' imports held (portal/held.py): review them as an import of one's own
(the ordinary preview, then Bekräfta adopts the accounts), or dismiss them."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from moodle_sync.i18n import lazy_gettext
from moodle_sync.portal import held, rosters
from moodle_sync.portal.pages_roster import make_preview
from moodle_sync.portal.web import Caller, address, county_for, login_required, portal_of, refuse
from moodle_sync.scope import Scope

ADMINS_ONLY = lazy_gettext("Only an administrator can handle rows that wait for an administrator.")
GONE = lazy_gettext("The rows are no longer kept (they are handled already or have expired).")


def _waiting(request: Request, who: Caller) -> tuple[Scope, dict[str, str]] | Response:
    if not who.account.is_admin:
        return refuse(request, 403, ADMINS_ONLY)
    scope = county_for(who, request.path_params["county"])
    row = portal_of(request).db.held(request.path_params["held"])
    if scope is None or row is None or not scope.covers(row["county"]) or row["status"] != "waiting":
        return refuse(request, 404, GONE)
    return scope, row


@login_required
async def review(request: Request, who: Caller) -> Response:
    """The held rows planned as the administrator's own import (mode add: nobody leaves); Bekräfta adopts them."""
    found = _waiting(request, who)
    if isinstance(found, Response):
        return found
    scope, row = found
    county = scope.one_county()
    portal = portal_of(request)
    copy = await run_in_threadpool(held.review_copy, row, portal.uploads)
    preview_id = secrets.token_urlsafe(18)
    options = {"mode": "add", "skip_invalid": False, "allow_mass_removal": False, "held": row["id"]}
    portal.db.add_preview(preview_id, account_id=who.account.id, county=county, filename=f"väntande rader ur "
                          f"{row['filename']}", path=str(copy), sha256=rosters.sha256_of(copy), options=options)
    portal.db.log(who.account.email, "roster-held-review", county=county, detail=f"{row['id']} as {preview_id}",
                  address=address(request))
    return await make_preview(request, who, scope, preview_id, options)


@login_required
async def dismiss(request: Request, who: Caller) -> Response:
    """The administrator will not adopt these rows: they and their file are gone."""
    found = _waiting(request, who)
    if isinstance(found, Response):
        return found
    scope, row = found
    county = scope.one_county()
    portal = portal_of(request)
    held.close(portal.db, row["id"], "dismissed")
    portal.db.log(who.account.email, "roster-held-dismissed", county=county, detail=row["id"], address=address(request))
    return RedirectResponse("/?klart=avvisade", status_code=303)
