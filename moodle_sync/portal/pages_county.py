"""A county's pages: start, the uppföljning report and its downloads, the overdue list and session places.

Person-level output (the person list, the overdue list) needs an account allowed personal data; every
download and every person-level view is in the audit log (and person rows also in the state store's
export log, as `report --personal-data` does).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from moodle_sync import clock
from moodle_sync.errors import MoodleSyncError
from moodle_sync.i18n import _, lazy_gettext
from moodle_sync.portal import county as data
from moodle_sync.portal.person_list import person_list
from moodle_sync.portal.said import for_page
from moodle_sync.portal.web import Caller, address, county_for, form_of, login_required, portal_of, refuse, render

NOT_YOURS = lazy_gettext("Your account may not see or change that county.")
NO_PERSONAL = lazy_gettext("Your account may not see data about individual people.")
_PERIOD = re.compile(r"\d{4}(-Q[1-4]|-\d{2})?")


BAD_PERIOD = lazy_gettext("“{text}” is not a period: write a year (2026), a quarter (2026-Q2) or a month "
                          "(2026-06). The report below is for all time.")


def _period(request: Request) -> str | None:
    text = (request.query_params.get("period") or "").strip().upper()
    return text if text and _PERIOD.fullmatch(text) else None


def _bad_period(request: Request) -> str:
    """Why the period asked for is not one (the server checks it, in Swedish; the browser does not)."""
    text = (request.query_params.get("period") or "").strip()
    return BAD_PERIOD.format(text=text[:40]) if text and _period(request) is None else ""


@login_required
async def county_home(request: Request, who: Caller) -> Response:
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    county = scope.one_county()
    return render(request, "county.html", who, county=county)


@login_required
async def report_page(request: Request, who: Caller) -> Response:
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    county = scope.one_county()
    period = _period(request)
    try:
        page = await run_in_threadpool(data.report_bytes, portal_of(request).site, scope, "html", period)
    except MoodleSyncError as e:
        return refuse(request, 400, _("The report could not be made: {why}").format(why=for_page(e)))
    portal_of(request).db.log(who.account.email, "report-view", county=county, detail=f"uppfoljning {period or 'all'}",
                              address=address(request))
    body = page.decode("utf-8")
    return render(request, "report.html", who, county=county, period=period or "", report_html=_body(body),
                  message=_bad_period(request))


def _body(page: str) -> str:
    """The inside of the self-contained page's <body> (already escaped by the report renderer)."""
    start, end = page.find("<body>"), page.rfind("</body>")
    return page[start + len("<body>"):end] if start >= 0 and end > start else page


@login_required
async def download(request: Request, who: Caller) -> Response:
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    county = scope.one_county()
    fmt = request.path_params["fmt"]
    if fmt not in data.FORMATS:
        return refuse(request, 404, _("There is no such format."))
    period = _period(request)
    try:
        content = await run_in_threadpool(data.report_bytes, portal_of(request).site, scope, fmt, period)
    except MoodleSyncError as e:
        return refuse(request, 400, _("The report could not be made: {why}").format(why=for_page(e)))
    name = f"uppfoljning-{county}-{period or 'hela-tiden'}-{clock.today():%Y-%m-%d}.{data.FORMATS[fmt][2]}"
    return _logged_attachment(request, who, county, f"download-{fmt}", name, content, data.FORMATS[fmt][1])


def _logged_attachment(request: Request, who: Caller, county: str, action: str, name: str, content: bytes,
                       media_type: str) -> Response:
    """A download, recorded in the audit log (who, what, when, from where) before it is handed out."""
    portal_of(request).db.log(who.account.email, action, county=county, detail=name, address=address(request))
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@login_required
async def personal_download(request: Request, who: Caller) -> Response:
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    county = scope.one_county()
    if not who.account.personal_data:
        portal_of(request).db.log(who.account.email, "personal-refused", county=county, address=address(request))
        return refuse(request, 403, NO_PERSONAL)
    try:
        content = await run_in_threadpool(person_list, portal_of(request).site, scope)
    except MoodleSyncError as e:
        return refuse(request, 400, _("The list could not be made: {why}").format(why=for_page(e)))
    name = f"personer-{county}-{clock.today():%Y-%m-%d}.csv"
    return _logged_attachment(request, who, county, "download-personal-csv", name, content, "text/csv; charset=utf-8")


@login_required
async def overdue_page(request: Request, who: Caller) -> Response:
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    county = scope.one_county()
    if not who.account.personal_data:
        return refuse(request, 403, NO_PERSONAL)
    try:
        rows = await run_in_threadpool(data.overdue, portal_of(request).site, scope)
    except MoodleSyncError as e:
        return refuse(request, 400, _("The list could not be made: {why}").format(why=for_page(e)))
    portal_of(request).db.log(who.account.email, "overdue-view", county=county, detail=f"{len(rows)} rows",
                              address=address(request))
    return render(request, "overdue.html", who, county=county, rows=rows)


@login_required
async def sessions_page(request: Request, who: Caller) -> Response:
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    county = scope.one_county()
    rows = await run_in_threadpool(data.sessions, portal_of(request).site, scope)
    return render(request, "sessions.html", who, county=county, rows=rows, result=None, message="",
                  placed=_placed(request), chosen=request.query_params.get("tillfalle", ""))


def _placed(request: Request) -> dict[str, int] | None:
    """The counts of the placement just made (post/redirect/get: they are in the address, no one's name is)."""
    try:
        return {k: int(request.query_params[k]) for k in ("placerade", "redan", "kvar")}
    except (KeyError, ValueError):
        return None


@login_required
async def place(request: Request, who: Caller) -> Response:
    scope = county_for(who, request.path_params["county"])
    if scope is None:
        return refuse(request, 403, NOT_YOURS)
    county = scope.one_county()
    portal = portal_of(request)
    form = await form_of(request)
    course_key, _slash, session_key = str(form.get("session") or "").partition("/")
    emails = [e for e in re.split(r"[\s,;]+", str(form.get("emails") or "")) if e][:500]
    check_only = form.get("bara_kontroll") == "ja"
    rows = await run_in_threadpool(data.sessions, portal.site, scope)
    if not any(r.course_key == course_key and r.key == session_key for r in rows):
        return refuse(request, 404, _("The session is not one of the county's."))
    result, message = None, ""
    if not emails:
        message = _("Write at least one e-mail address.")
    else:
        try:
            result = await run_in_threadpool(lambda: data.place(portal.site, scope, course_key=course_key,
                                                                session_key=session_key, emails=emails,
                                                                check_only=check_only))
        except MoodleSyncError as e:
            message = for_page(e)
    portal.db.log(who.account.email, "session-check" if check_only else "session-assign", county=county,
                  detail=f"{course_key}/{session_key}: {len(emails)} e-mails: "
                         + ("ok" if result else message.split(chr(10))[0][:200]), address=address(request))
    if result is not None and not check_only:  # done: the page is shown again by GET, so a reload places nobody
        return RedirectResponse(f"/lan/{county}/tillfallen?" + urlencode({
            "tillfalle": f"{course_key}/{session_key}", "placerade": len(result.added), "redan": len(result.already),
            "kvar": result.capacity - result.members_after}), status_code=303)
    return render(request, "sessions.html", who, status=200 if result else 400, county=county, rows=rows,
                  result=result, message=message, chosen=f"{course_key}/{session_key}", check_only=check_only,
                  emails="" if result and not check_only else str(form.get("emails") or "")[:20000])
