"""The portal's Starlette app: routes, security headers, the request-size limit and the shared state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from moodle_sync.config import Settings
from moodle_sync.i18n import speaking
from moodle_sync.portal import pages_admin, pages_auth, pages_county, pages_held, pages_roster, restart, uploads
from moodle_sync.portal.auth import LoginLimiter, Signer, load_secret
from moodle_sync.portal.config import PortalConfig, ScheduleConfig, data_dir
from moodle_sync.portal.db import PortalDB
from moodle_sync.portal.forwarded import ForwardedFor, networks
from moodle_sync.portal.password_checks import PasswordChecks
from moodle_sync.portal.site import Site
from moodle_sync.portal.web import Portal, render

STATIC = Path(__file__).parent / "static"

#: no script at all, nothing from another origin, never in a frame
CSP = ("default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


class Guard:
    """Security headers on every answer, request bodies limited before anything reads them, and every word made
    while answering in Swedish (moodle_sync/i18n.py)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] in ("POST", "PUT", "PATCH"):
            length = headers.get(b"content-length")
            if length is None and headers.get(b"transfer-encoding"):
                await PlainTextResponse("Length Required", status_code=411)(scope, receive, send)
                return
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await PlainTextResponse("Filen är för stor.", status_code=413)(scope, receive, send)
                return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                         (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"),
                         (b"cache-control", b"no-store"), (b"cross-origin-opener-policy", b"same-origin")]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        with speaking("sv"):  # the portal speaks Swedish: the library's messages made for this request too
            await self.app(scope, receive, send_with_headers)


async def not_found(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", None, status=404, message="Sidan finns inte.", status_code=404)


def create_app(settings: Settings, portal_config: PortalConfig, schedule: ScheduleConfig, *,
               scheduler: bool = True) -> Starlette:
    """The portal for the site ``settings`` names; with ``scheduler``, its sync thread starts with the app.

    What the last serve process left running is closed first, and old uploads deleted (portal/restart.py).
    """
    directory = data_dir(settings, portal_config)
    db = PortalDB(directory / "portal.db")
    portal = Portal(site=Site(settings), db=db, signer=Signer(load_secret(directory)), config=portal_config,
                    schedule=schedule, data_dir=directory,
                    logins=LoginLimiter(portal_config.login_attempts, portal_config.login_attempts * 4,
                                        portal_config.login_window_minutes * 60),
                    password_checks=PasswordChecks(portal_config.password_checks))
    restart.recover(db, settings.state_path, portal.uploads, portal_config)
    county = "/lan/{county}"
    routes = [
        Route("/healthz", pages_auth.healthz),
        Route("/login", pages_auth.login_page, methods=["GET"]),
        Route("/login", pages_auth.login, methods=["POST"]),
        Route("/logout", pages_auth.logout, methods=["POST"]),
        Route("/", pages_auth.home),
        Route("/konto/losenord", pages_auth.password_page, methods=["GET"]),
        Route("/konto/losenord", pages_auth.change_password, methods=["POST"]),
        Route("/status", pages_admin.status_page),
        Route("/status/kor/{job}", pages_admin.run_now, methods=["POST"]),
        Route("/logg", pages_admin.audit_page),
        Route(county, pages_county.county_home),
        Route(f"{county}/rapport", pages_county.report_page),
        Route(county + "/rapport.{fmt}", pages_county.download),
        Route(f"{county}/personer.csv", pages_county.personal_download),
        Route(f"{county}/forsenade", pages_county.overdue_page),
        Route(f"{county}/tillfallen", pages_county.sessions_page, methods=["GET"]),
        Route(f"{county}/tillfallen", pages_county.place, methods=["POST"]),
        Route(f"{county}/personallista", pages_roster.upload_page, methods=["GET"]),
        Route(f"{county}/personallista", pages_roster.upload, methods=["POST"]),
        Route(county + "/personallista/vantande/{held}/granska", pages_held.review, methods=["POST"]),
        Route(county + "/personallista/vantande/{held}/avvisa", pages_held.dismiss, methods=["POST"]),
        Route(county + "/personallista/{preview}", pages_roster.outcome_page, methods=["GET"]),
        Route(county + "/personallista/{preview}/granska", pages_roster.repreview, methods=["POST"]),
        Route(county + "/personallista/{preview}/bekrafta", pages_roster.confirm, methods=["POST"]),
        Route(county + "/personallista/{preview}/granska", pages_roster.back_to_preview, methods=["GET"]),
        Route(county + "/personallista/{preview}/bekrafta", pages_roster.back_to_preview, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    sync = None
    if scheduler and schedule.enabled:
        from moodle_sync.portal.scheduler import Scheduler

        sync = Scheduler(portal.site, db, schedule)
    portal.scheduler = sync

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if sync is not None:
            sync.start()
        sweeping = asyncio.create_task(uploads.sweep_every(db, portal.uploads, portal_config))
        try:
            yield
        finally:
            sweeping.cancel()
            if sync is not None:
                sync.stop()
            portal.password_checks.close()
            db.close()

    app = Starlette(routes=routes, exception_handlers={404: not_found}, lifespan=lifespan)
    app.state.portal = portal
    # multipart overhead on top of the largest file
    app.add_middleware(Guard, max_body=portal_config.max_upload_mb * 1024 * 1024 + 64 * 1024)
    # outermost: every page, the audit log and the login limit see the client trusted_proxies says it is
    app.add_middleware(ForwardedFor, trusted=networks(portal_config.trusted_proxies))
    return app
