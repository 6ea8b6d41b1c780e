"""Logging in and out, changing one's password, the start page and /healthz."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from moodle_sync.i18n import LazyString, _, lazy_gettext
from moodle_sync.portal.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    password_problem,
    same,
)
from moodle_sync.portal.web import Caller, address, caller, form_of, login_required, new_token, portal_of, render

LOGIN_FAILED = lazy_gettext("Wrong e-mail address or password.")
LOGIN_BLOCKED = lazy_gettext("Too many failed logins. Wait a while and try again.")
BUSY = lazy_gettext("Many are logging in right now. Try again in a while.")
#: what a page confirms after a change (``/login?klart=…`` when the change ended the session)
DONE = {"losenord": lazy_gettext("Your password is changed. Log in with the new one."),
        "utloggad": lazy_gettext("You are logged out."),
        "avvisade": lazy_gettext("The held rows are dismissed: nothing was written for them.")}
#: seconds a busy answer asks the client to wait
RETRY_AFTER = 10


async def healthz(request: Request) -> Response:
    """Answers without login: the process is up and its database answers."""
    portal_of(request).db.accounts()
    return JSONResponse({"status": "ok"})


async def login_page(request: Request, message: str | LazyString = "", status: int = 200) -> Response:
    portal = portal_of(request)
    token = new_token()
    notice = DONE.get(request.query_params.get("klart", ""), "")
    response = render(request, "login.html", None, status=status, login_token=token, message=message,
                      notice=str(notice) if not message else "")
    response.set_cookie(LOGIN_COOKIE, portal.signer.login_cookie(token), max_age=3600, httponly=True,
                        samesite="lax", secure=portal.config.secure_cookies, path="/login")
    return response


async def login(request: Request) -> Response:
    portal = portal_of(request)
    form = await form_of(request)
    cookie_token = portal.signer.login_token(request.cookies.get(LOGIN_COOKIE))
    if not same(str(form.get("login_token") or ""), cookie_token):
        return await login_page(request, _("The form has expired. Try again."), status=403)
    email = str(form.get("email") or "").strip().lower()[:320]
    password = str(form.get("password") or "")[:1024]
    # the attempt counts before its password is checked: a burst checks no more passwords than the limit
    attempt = portal.logins.reserve(email, address(request))
    if attempt is None:
        portal.db.log(email or "-", "login-blocked", address=address(request))
        return await login_page(request, LOGIN_BLOCKED, status=429)
    account = portal.db.account(email=email)
    usable = account is not None and not account.disabled
    # an unknown or disabled account is checked against a dummy hash: it costs what a wrong password costs
    ok = await portal.password_checks.verify(account.password_hash if usable and account else None, password)
    if ok is None:
        portal.logins.unchecked(attempt)
        portal.db.log(email or "-", "login-busy", address=address(request))
        return try_again_later(await login_page(request, BUSY, status=503))
    if not ok or account is None:
        portal.db.log(email or "-", "login-failed", address=address(request))
        return await login_page(request, LOGIN_FAILED, status=401)
    portal.logins.succeeded(attempt)
    session_id, csrf = new_token(), new_token()
    portal.db.start_session(session_id, account.id, csrf, portal.config.session_hours)
    portal.db.log(account.email, "login", county=account.county, address=address(request))
    response = RedirectResponse("/konto/losenord" if account.must_change else "/", status_code=303)
    response.set_cookie(SESSION_COOKIE, portal.signer.session_cookie(session_id),
                        max_age=int(portal.config.session_hours * 3600), httponly=True, samesite="lax",
                        secure=portal.config.secure_cookies, path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


def try_again_later(response: Response) -> Response:
    """A page saying every password check is taken (503) also tells a client when to try again."""
    response.headers["retry-after"] = str(RETRY_AFTER)
    return response


@login_required
async def logout(request: Request, who: Caller) -> Response:
    portal = portal_of(request)
    portal.db.end_session(who.session_id)
    portal.db.log(who.account.email, "logout", county=who.account.county, address=address(request))
    response = RedirectResponse("/login?klart=utloggad", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@login_required
async def home(request: Request, who: Caller) -> Response:
    if who.account.is_admin:
        notice = DONE.get(request.query_params.get("klart", ""), "")
        return render(request, "admin_home.html", who, held=portal_of(request).db.held_lists(), notice=str(notice))
    return RedirectResponse(f"/lan/{who.account.county}", status_code=303)


@login_required
async def password_page(request: Request, who: Caller) -> Response:
    return render(request, "password.html", who, message="")


@login_required
async def change_password(request: Request, who: Caller) -> Response:
    portal = portal_of(request)
    form = await form_of(request)
    current, new, again = (str(form.get(k) or "")[:1024] for k in ("current", "new", "again"))
    matches = await portal.password_checks.verify(who.account.password_hash, current)
    if matches is None:
        return try_again_later(render(request, "password.html", who, status=503, message=BUSY))
    if not matches:
        return render(request, "password.html", who, status=400, message=_("The current password is wrong."))
    problem = password_problem(new) or (_("The two new passwords differ.") if new != again else None) or (
        _("The new password must differ from the old one.") if new == current else None)
    if problem:
        return render(request, "password.html", who, status=400, message=problem)
    new_hash = await portal.password_checks.hash(new)
    if new_hash is None:
        return try_again_later(render(request, "password.html", who, status=503, message=BUSY))
    portal.db.set_password(who.account.id, new_hash, must_change=False)
    portal.db.log(who.account.email, "password-changed", county=who.account.county, address=address(request))
    response = RedirectResponse("/login?klart=losenord", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def not_logged_in_refusal(request: Request) -> Response:
    return RedirectResponse("/login", status_code=303) if caller(request) is None else RedirectResponse("/", 303)
