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
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Attempt:
    """A login attempt that holds a slot against its account and its address (see :class:`LoginLimiter`)."""

    account: str
    address: str
    at: float


class LoginLimiter:
    """At most ``per_account`` login attempts per account and ``per_address`` per address in ``window`` seconds.

    An attempt counts the moment it starts (:meth:`reserve`), before its password is checked, so a burst of
    concurrent logins for one account checks at most ``per_account`` passwords. What then stays counted are
    the failures: a success clears its account's count and gives its address slot back, and an attempt whose
    password was never checked (:meth:`unchecked`, the checks were busy) gives both back. In memory, per process.
    """

    def __init__(self, per_account: int, per_address: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window = window
        self._clock = clock
        self._counted: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def reserve(self, account: str, address: str) -> Attempt | None:
        """Count an attempt for the account and the address at once; None (nothing counted) if either is spent."""
        at = self._clock()
        keys = (f"account:{account}", f"address:{address}")
        with self._lock:
            self._sweep(at)
            counts = [self._recent(key, at) for key in keys]
            if len(counts[0]) >= self.per_account or len(counts[1]) >= self.per_address:
                return None
            for key in keys:
                self._counted.setdefault(key, deque()).append(at)
        return Attempt(keys[0], keys[1], at)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the account's failures are forgiven and the attempt does not count."""
        with self._lock:
            self._counted.pop(attempt.account, None)
            self._give_back(attempt.address, attempt.at)

    def unchecked(self, attempt: Attempt) -> None:
        """No password was checked: the attempt does not count."""
        with self._lock:
            self._give_back(attempt.account, attempt.at)
            self._give_back(attempt.address, attempt.at)

    def _recent(self, key: str, at: float) -> deque[float]:
        times = self._counted.get(key, deque())
        while times and times[0] <= at - self.window:
            times.popleft()
        return times

    def _give_back(self, key: str, at: float) -> None:
        times = self._counted.get(key)
        if times is not None and at in times:
            times.remove(at)

    def _sweep(self, at: float) -> None:
        """Forget keys with nothing left in the window (once a window), so unknown e-mails do not pile up."""
        if at < self._next_sweep:
            return
        self._next_sweep = at + self.window
        for key in [k for k, times in self._counted.items() if not times or times[-1] <= at - self.window]:
            del self._counted[key]
