"""Who is asking: argon2id passwords, signed session cookies, CSRF tokens and a login rate limit.

The session cookie holds only a random session id, signed (itsdangerous) with the portal's secret; the
session itself (account, CSRF token, expiry) is a row in the portal's database, so logging out or
disabling an account ends it at once. Cookies are HttpOnly and SameSite=Lax, and Secure behind HTTPS.
"""

from __future__ import annotations

import hmac
import secrets
import string
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "ms_session"
LOGIN_COOKIE = "ms_login"
MIN_PASSWORD = 12

#: argon2id with argon2-cffi's current defaults (RFC 9106 low-memory profile)
_HASHER = PasswordHasher(type=Type.ID)
#: verified against when an e-mail has no account, so that a wrong e-mail takes as long as a wrong password
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is not good enough (Swedish, for the page and the command), or None."""
    if len(password) < MIN_PASSWORD:
        return f"Lösenordet måste ha minst {MIN_PASSWORD} tecken."
    if password.strip() != password or not password.isprintable():
        return "Lösenordet får inte börja eller sluta med mellanslag eller innehålla osynliga tecken."
    return None


def one_time_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))


def load_secret(directory: Path) -> bytes:
    """The portal's signing secret: made once (random, 0600) in the portal's data directory."""
    path = directory / "secret.key"
    directory.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip().encode()


class Signer:
    """Signs session ids and login-form tokens (different salts: one cannot stand for the other)."""

    def __init__(self, secret: bytes) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="moodle-sync-portal-session")
        self._login = URLSafeTimedSerializer(secret, salt="moodle-sync-portal-login")

    def session_cookie(self, session_id: str) -> str:
        return self._session.dumps(session_id)

    def session_id(self, cookie: str | None, max_age: float) -> str | None:
        return _loads(self._session, cookie, max_age)

    def login_cookie(self, token: str) -> str:
        return self._login.dumps(token)

    def login_token(self, cookie: str | None) -> str | None:
        return _loads(self._login, cookie, 3600)


def _loads(serializer: URLSafeTimedSerializer, cookie: str | None, max_age: float) -> str | None:
    if not cookie:
        return None
    try:
        value = serializer.loads(cookie, max_age=int(max_age))
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens; a missing one never matches."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class LoginLimiter:
    """At most ``attempts`` failed logins per account and per address in ``window`` seconds (in memory)."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, at: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= at - self.window:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        at = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, at)) >= self.attempts for k in keys)

    def failed(self, *keys: str) -> None:
        at = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, at).append(at)

    def succeeded(self, account_key: str) -> None:
        with self._lock:
            self._failures.pop(account_key, None)
