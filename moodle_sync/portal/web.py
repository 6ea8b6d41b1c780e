"""What every page shares: the portal's state, who is logged in, CSRF checks, county access and rendering.

Access is decided here, on the server, for every request: a page handler gets the account only through
:func:`login_required`, and a county only through :func:`county_for` (the scope of a hub's own county, or of any
county for an admin); everything else is answered 303 to the login page, 403 or 404 – never by hiding a link.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from moodle_sync import clock, i18n
from moodle_sync.acting import acting_for
from moodle_sync.config import Hub
from moodle_sync.counties import COUNTIES
from moodle_sync.portal.auth import SESSION_COOKIE, LoginLimiter, Signer, same
from moodle_sync.portal.config import PortalConfig, ScheduleConfig
from moodle_sync.portal.db import Account, PortalDB
from moodle_sync.portal.names import Names, when
from moodle_sync.portal.password_checks import PasswordChecks
from moodle_sync.portal.site import Site, county_name
from moodle_sync.scope import Scope

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Portal:
    """The serve process's shared state (one per app)."""

    site: Site
    db: PortalDB
    signer: Signer
    config: PortalConfig
    schedule: ScheduleConfig
    data_dir: Path
    logins: LoginLimiter
    password_checks: PasswordChecks
    scheduler: Any = None
    #: uploads check and take their county's room one at a time (portal/uploads.py)
    upload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.jinja = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                                 extensions=["jinja2.ext.i18n"])
        self.jinja.policies["ext.i18n.trimmed"] = True
        # the portal speaks Swedish: the templates' words (English as written) from the Swedish catalogue
        self.jinja.install_gettext_translations(i18n.translations("sv"), newstyle=True)  # type: ignore[attr-defined]
        self.jinja.globals["county_name"] = county_name
        self.jinja.filters["tid"] = clock.shown  # stored UTC moments as Swedish local time
        # a message made elsewhere (the library's), in Swedish when the catalogue has it; escaped as any value
        self.jinja.filters["sv"] = lambda message: i18n.swedish(str(message)) if message else ""
        self.jinja.filters["when"] = when  # … and in words: "6 december 14:03"

    @property
    def uploads(self) -> Path:
        path = self.data_dir / "uploads"
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    @property
    def held(self) -> Path:
        """Rows hubs' imports held for an administrator (portal/held.py)."""
        return self.data_dir / "held"


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def address(request: Request) -> str:
    """The client's address (a trusted proxy's forwarded one: forwarded.py sets it before any page runs)."""
    return request.client.host if request.client else ""


@dataclass(frozen=True)
class Caller:
    account: Account
    session_id: str
    csrf: str


def caller(request: Request) -> Caller | None:
    portal = portal_of(request)
    session_id = portal.signer.session_id(request.cookies.get(SESSION_COOKIE), portal.config.session_hours * 3600)
    if session_id is None:
        return None
    found = portal.db.session(session_id)
    return Caller(found[0], session_id, found[1]) if found else None


Handler = Callable[[Request, Caller], Awaitable[Response]]


def login_required(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Only for a logged-in account; a POST also needs the session's CSRF token in its form."""
    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        who = caller(request)
        if who is None:
            if request.method != "GET":
                return refuse(request, 403, "Du är inte inloggad.")
            return RedirectResponse("/login", status_code=303)
        if request.method == "POST":
            form = await form_of(request)
            if not same(str(form.get("csrf") or ""), who.csrf):
                portal_of(request).db.log(who.account.email, "csrf-refused", detail=request.url.path,
                                          address=address(request))
                return refuse(request, 403, "Formuläret saknar en giltig säkerhetskod (CSRF). Ladda om sidan och "
                                            "försök igen.")
        if who.account.must_change and request.url.path not in ("/konto/losenord", "/logout"):
            return RedirectResponse("/konto/losenord", status_code=303)
        with acting_for(f"{who.account.email} (portal)"):  # the store's runs and exports name the person
            return await handler(request, who)
    return wrapper


async def form_of(request: Request) -> FormData:
    """The request's form, parsed once (uploads are limited by :func:`read_form` before this)."""
    cached = getattr(request.state, "form", None)
    if cached is None:
        cached = await request.form(max_files=1, max_fields=20,
                                    max_part_size=portal_of(request).config.max_upload_mb * 1024 * 1024)
        request.state.form = cached
    return cached


def scope_of(account: Account) -> Scope:
    """The scope of a logged-in account, made at login's edge: an admin every county, a hub its own (the county
    its account was given, as ``portal user add --hub`` read it from ``[hubs.NAME]``)."""
    if account.is_admin:
        return Scope.for_admin()
    return Scope.for_hub(account.hub or account.email, Hub(county=account.county))


def county_for(who: Caller, county: str) -> Scope | None:
    """The scope of one county's pages, if this account may see and change that county (a hub: its own only; an
    admin: any, narrowed to it): the one checked value every page hands to the jobs. ``None``: not this
    account's county, or no county at all."""
    return scope_of(who.account).narrowed(county)


def admin_only(who: Caller) -> bool:
    return who.account.is_admin


def render(request: Request, template: str, who: Caller | None, status: int = 200, **context: Any) -> HTMLResponse:
    portal = portal_of(request)
    page = portal.jinja.get_template(template).render(
        who=who, account=who.account if who else None, csrf=who.csrf if who else "", counties=COUNTIES,
        path=request.url.path, names=Names(portal.site), **context)
    return HTMLResponse(page, status_code=status)


def refuse(request: Request, status: int, message: str | i18n.LazyString) -> HTMLResponse:
    return render(request, "error.html", caller(request), status=status, message=message, status_code=status)


def new_token() -> str:
    return secrets.token_urlsafe(32)
