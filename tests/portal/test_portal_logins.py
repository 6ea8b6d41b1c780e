"""Logins under attack: an attempt counts before its password is checked, so a burst of concurrent logins checks
no more passwords than the limits allow (5 per account, 20 per address); at most ``password_checks`` checks run
at once and a login that cannot get one in time is asked to try again; X-Forwarded-For is believed only from
the proxies ``trusted_proxies`` names; session ids are kept hashed.

The portal runs as `moodle-sync serve` would run it (its uvicorn settings, captured), on loopback, with no
Moodle behind it: these pages never call one. A stand-in for argon2 counts the checks and how many ran at once
(each takes a while, as argon2's do)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from argon2.exceptions import VerifyMismatchError
from e2e.conftest import TOKEN, run

from moodle_sync.errors import ConfigError
from moodle_sync.portal import auth, db
from moodle_sync.portal.config import load_portal_config

from .conftest import free_socket

PASSWORD = "ett-långt-lösenord-2026"
HUB = "anna@dalarna.example.se"


class SlowHasher:
    """Stands in for argon2's PasswordHasher: each check takes ``seconds``; counts checks and the most at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.checked: list[str] = []
        self.running = 0
        self.peak = 0
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        return f"fake${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.checked.append(password_hash)
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(self.seconds)
        finally:
            with self._lock:
                self.running -= 1
        if password_hash != self.hash(password):
            raise VerifyMismatchError
        return True


@dataclass
class Running:
    url: str
    app: Any

    @property
    def db(self) -> db.PortalDB:
        portal_db: db.PortalDB = self.app.state.portal.db
        return portal_db

    def login_form(self) -> tuple[str, str]:
        """The login page's token and its cookie (one pair serves many posts within the hour)."""
        page = requests.get(f"{self.url}/login", timeout=30)
        match = re.search(r'name="login_token" value="([^"]*)"', page.text)
        assert match, "no login token in the page"
        return match.group(1), page.cookies["ms_login"]

    def login(self, form: tuple[str, str], email: str, password: str, forwarded_for: str = "",
              http: Any = requests) -> requests.Response:
        headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
        return http.post(f"{self.url}/login", headers=headers, cookies={"ms_login": form[1]}, timeout=60,
                         allow_redirects=False, data={"email": email, "password": password, "login_token": form[0]})

    def burst(self, logins: list[tuple[str, str]]) -> Counter[int]:
        """All the logins at once, each from its own thread; the answers' status codes."""
        form = self.login_form()
        start = threading.Barrier(len(logins))

        def one(login: tuple[str, str]) -> int:
            start.wait()
            return self.login(form, *login).status_code

        with ThreadPoolExecutor(max_workers=len(logins)) as pool:
            return Counter(pool.map(one, logins))


@contextmanager
def serving(directory: Path, monkeypatch: pytest.MonkeyPatch, portal_toml: str = "") -> Iterator[Running]:
    """`moodle-sync serve` on loopback: its app with the uvicorn settings it passes (uvicorn.run captured)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "moodle-sync.toml"
    config.write_text(f'url = "http://127.0.0.1:9"\nstate_path = "{directory / "state.db"}"\n'
                      f'[hubs.dalarna]\ncounty = "W"\n[portal]\n{portal_toml}', encoding="utf-8")
    captured: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: captured.update(app=app, kw=kw))
    monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
    assert run("serve", "--config", str(config), "--no-scheduler") == 0
    settings = {k: v for k, v in captured["kw"].items() if k not in ("host", "port")}
    server = uvicorn.Server(uvicorn.Config(captured["app"], **settings))
    sock = free_socket()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the portal did not start"
        yield Running(f"http://127.0.0.1:{sock.getsockname()[1]}", captured["app"])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> SlowHasher:
    fake = SlowHasher(0.1)
    monkeypatch.setattr(auth, "_HASHER", fake)
    return fake


@pytest.fixture
def portal(tmp_path: Path, hasher: SlowHasher, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    with serving(tmp_path, monkeypatch) as running:
        running.db.add_account(email=HUB, password_hash=auth.hash_password(PASSWORD), role="hub", hub="dalarna",
                               county="W", must_change=False)
        yield running


def test_a_burst_for_one_account_checks_at_most_the_accounts_limit_of_passwords(portal: Running,
                                                                                  hasher: SlowHasher) -> None:
    statuses = portal.burst([(HUB, f"gissning-{n}") for n in range(40)])
    assert len(hasher.checked) == 5, "every attempt counts before its password is checked"
    assert statuses == {401: 5, 429: 35}
    assert hasher.peak <= 2, "no more than [portal] password_checks (2) checks at once"


def test_a_burst_of_unknown_emails_costs_a_check_each_within_the_address_limit(portal: Running,
                                                                               hasher: SlowHasher) -> None:
    statuses = portal.burst([(f"okand{n}@example.se", "gissning") for n in range(60)])
    # an unknown e-mail is checked against the dummy hash (as long as a wrong password) and counts for the address
    assert len(hasher.checked) == 20 and set(hasher.checked) == {auth._DUMMY_HASH}
    assert statuses == {401: 20, 429: 40}
    assert hasher.peak <= 2


def test_a_login_that_gets_no_check_in_time_is_asked_to_try_again_and_does_not_count(portal: Running,
                                                                                    hasher: SlowHasher) -> None:
    from moodle_sync.portal.password_checks import PasswordChecks

    portal.app.state.portal.password_checks = PasswordChecks(1, wait=-1.0)  # no check is ever free in time
    form = portal.login_form()
    busy = portal.login(form, HUB, "gissning")
    assert busy.status_code == 503 and "Försök igen om en stund" in busy.text
    assert busy.headers["retry-after"] == "10"
    assert [portal.login(form, HUB, "gissning").status_code for _ in range(6)] == [503] * 6
    assert hasher.checked == []
    portal.app.state.portal.password_checks = PasswordChecks(2)
    assert portal.login(form, HUB, PASSWORD).status_code == 303, "unchecked attempts did not use up the limit"


def failed_logins(portal: Running, forwarded_for: list[str]) -> list[int]:
    form = portal.login_form()
    return [portal.login(form, f"okand{n}@example.se", "x", forwarded_for=f).status_code
            for n, f in enumerate(forwarded_for)]


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(tmp_path: Path, hasher: SlowHasher,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    hasher.seconds = 0.0
    made_up = [f"203.0.113.{n}" for n in range(21)]
    # by default no proxy is trusted, not even a local caller (uvicorn's own default trusts 127.0.0.1)
    with serving(tmp_path / "default", monkeypatch) as portal:
        assert failed_logins(portal, made_up) == [401] * 20 + [429], "21 made-up addresses are the peer's one"
        assert {e["address"] for e in portal.db.audit()} == {"127.0.0.1"}
    # a proxy not named: its header is not believed either
    with serving(tmp_path / "other", monkeypatch, 'trusted_proxies = ["10.0.0.0/8"]\n') as portal:
        assert failed_logins(portal, made_up[:1]) == [401]
        assert portal.db.audit()[0]["address"] == "127.0.0.1"
    # behind the named proxy each client is counted and logged at its own address
    with serving(tmp_path / "proxy", monkeypatch, 'trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]\n') as portal:
        assert failed_logins(portal, [f"{a}, 10.9.9.9" for a in made_up]) == [401] * 21
        assert {e["address"] for e in portal.db.audit()} == set(made_up)


def test_trusted_proxies_must_be_addresses_or_ranges(tmp_path: Path) -> None:
    config = tmp_path / "moodle-sync.toml"
    config.write_text('[portal]\ntrusted_proxies = ["10.0.0.1", "proxy.example.se"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[portal\] trusted_proxies.*'proxy.example.se' is not an IP address"):
        load_portal_config(config)


def files_of(database: Path) -> bytes:
    """The database's bytes, its write-ahead log's included."""
    return b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))


def test_the_database_keeps_no_session_id_in_clear_and_sessions_still_end(portal: Running) -> None:
    http = requests.Session()
    assert portal.login(portal.login_form(), HUB, PASSWORD, http=http).status_code == 303
    signer = portal.app.state.portal.signer
    session_id = signer.session_id(http.cookies["ms_session"], 3600)
    assert session_id and len(session_id) >= 40
    assert session_id.encode() not in files_of(portal.db.path)
    assert hashlib.sha256(session_id.encode()).hexdigest().encode() in files_of(portal.db.path)

    page = http.get(f"{portal.url}/konto/losenord", timeout=30, allow_redirects=False)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert csrf
    logout = f"{portal.url}/logout"
    assert http.post(logout, data={"csrf": "fel"}, timeout=30, allow_redirects=False).status_code == 403
    assert http.post(logout, data={"csrf": csrf.group(1)}, timeout=30, allow_redirects=False).status_code == 303
    assert portal.db.session(session_id) is None, "logging out ends the session"

    http = requests.Session()
    assert portal.login(portal.login_form(), HUB, PASSWORD, http=http).status_code == 303
    assert http.get(f"{portal.url}/konto/losenord", timeout=30, allow_redirects=False).status_code == 200
    account = portal.db.account(email=HUB)
    assert account is not None
    portal.db.set_disabled(account.id, True)
    assert http.get(f"{portal.url}/konto/losenord", timeout=30, allow_redirects=False).status_code == 303


def test_sessions_of_a_database_that_kept_ids_in_clear_are_dropped(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A portal.db from before ids were hashed: its sessions end (their holders log in again), accounts stay."""
    path = tmp_path / "portal" / "portal.db"
    path.parent.mkdir()
    old = sqlite3.connect(path)
    old.executescript(f"BEGIN;{db.MIGRATIONS[0]};PRAGMA user_version=1;COMMIT;")
    old.execute("INSERT INTO accounts (email, password_hash, role, must_change, created_at) VALUES (?,?,?,?,?)",
                (HUB, "fake$x", "admin", 0, db.stamp()))
    old.execute("INSERT INTO sessions VALUES ('ett-gammalt-sessions-id', 1, 'csrf', ?, ?)",
                (db.stamp(), "2999-01-01T00:00:00+00:00"))
    old.commit()
    old.close()
    with serving(tmp_path, monkeypatch) as portal:
        cookie = portal.app.state.portal.signer.session_cookie("ett-gammalt-sessions-id")
        page = requests.get(f"{portal.url}/konto/losenord", cookies={"ms_session": cookie}, timeout=30,
                            allow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"
        assert [a.email for a in portal.db.accounts()] == [HUB]


def test_a_success_clears_its_accounts_failures_and_never_counts_against_its_address() -> None:
    now = [0.0]
    limiter = auth.LoginLimiter(per_account=5, per_address=20, window=900, clock=lambda: now[0])
    for n in range(4):
        assert limiter.reserve("anna@example.se", "192.0.2.1") is not None, n  # four wrong passwords
    right = limiter.reserve("anna@example.se", "192.0.2.1")
    assert right is not None and limiter.reserve("anna@example.se", "192.0.2.1") is None, "5 while in flight"
    limiter.succeeded(right)
    assert all(limiter.reserve("anna@example.se", "192.0.2.1") for _ in range(5)), "the failures are forgiven"
    for n in range(11):
        assert limiter.reserve(f"okand{n}@example.se", "192.0.2.1") is not None  # 4 + 5 + 11 = 20 failures
    assert limiter.reserve("bo@example.se", "192.0.2.1") is None, "20 per address; the success did not count"
    assert limiter.reserve("bo@example.se", "192.0.2.2") is not None, "another address has its own count"
    now[0] = 901.0
    assert limiter.reserve("anna@example.se", "192.0.2.1") is not None, "15 minutes later it may try again"
    assert len(limiter._counted) == 2, "keys with nothing left in the window are forgotten"


@pytest.mark.parametrize(("peer", "header", "client"), [
    ("10.0.0.5", ["198.51.100.7"], "198.51.100.7"),
    ("10.0.0.5", ["spoofed, 198.51.100.7:4321, 10.0.0.9"], "198.51.100.7"),  # the proxies append: read from the right
    ("10.0.0.5", ["[2001:db8::7]:443"], "2001:db8::7"),
    ("10.0.0.5", ["10.0.0.8, 10.0.0.9"], "10.0.0.8"),  # every hop a proxy: the leftmost
    ("10.0.0.5", [" , "], "10.0.0.5"),
    ("192.0.2.1", ["198.51.100.7"], "192.0.2.1"),  # not a proxy: its header is not believed
])
def test_the_client_is_the_first_untrusted_hop_behind_trusted_proxies(peer: str, header: list[str],
                                                                      client: str) -> None:
    from moodle_sync.portal.forwarded import client_address, networks

    assert client_address(peer, header, networks(["10.0.0.0/8"])) == client
    assert client_address(peer, header, ()) == peer
