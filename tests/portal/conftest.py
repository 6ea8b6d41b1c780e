"""The portal served on loopback (uvicorn in a thread) against the emulator served on loopback, on a copy of
the real specs applied; accounts for two county hubs (Dalarna W, Uppsala C) and an admin."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests
import uvicorn
from argon2 import PasswordHasher, Type
from e2e.conftest import TOKEN, Saved, Site

from moodle_sync import clock
from moodle_sync.completions.pull import pull
from moodle_sync.config import load_settings
from moodle_sync.demo import complete_some
from moodle_sync.emulator import serve
from moodle_sync.jobs.site import connect, open_site_store
from moodle_sync.jobs.sync import apply
from moodle_sync.portal.app import create_app
from moodle_sync.portal.config import load_portal_config
from moodle_sync.portal.db import PortalDB
from moodle_sync.store.db import StateStore
from moodle_sync.store.sites import open_for_reading

#: Debian's Chromium, which the browser tests drive through Playwright (they skip where it is missing)
CHROMIUM = os.environ.get("MOODLE_SYNC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, one per module (Playwright gives every launch a fresh, temporary profile)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the test extra's playwright is not installed")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


PASSWORD = "ett-långt-lösenord-2026"
#: the test accounts' password as a real argon2id hash, made with the smallest cost argon2 allows: the portal
#: verifies it as it verifies any stored hash (the parameters are read from the hash), in a millisecond rather than
#: production's fifth of a second, which every login of every portal test paid. Production's parameters are asserted
#: in test_portal_access (logins) and their cost measured in tests/portal/test_portal_logins.py and
#: benchmarks/bench_logins.py, which hash with the portal's own hasher.
PASSWORD_HASH = PasswordHasher(type=Type.ID, time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
HEADER = ["E-post", "Förnamn", "Efternamn", "Organisation", "Enhet", "Målgrupp", "Anställningsdatum",
          "Anställnings-id"]


def person(n: int, group: str = "socialsekreterare", town: str = "falun") -> list[str]:
    return [f"person{n}@{town}.example.se", f"Förnamn{n}", f"Efternamn{n}", f"{town.title()} kommun",
            "Socialtjänsten", group, "2025-08-01", f"EMP-{town}-{n:04d}"]


def write_xlsx(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Personal"
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


@dataclass
class Served:
    url: str
    moodle_url: str
    site: Site
    config: Path
    db: PortalDB
    tmp: Path
    accounts: dict[str, str] = field(default_factory=dict)
    #: the served app (its ``state.portal`` holds the settings the pages read)
    app: Any = None

    @property
    def uploads(self) -> Path:
        return self.site.state_path.parent / "portal" / "uploads"

    def store(self) -> StateStore:
        return open_for_reading(self.site.state_path, self.moodle_url)

    def pull(self, complete_share: float = 0.0) -> None:
        """Let a share of the enrolled complete their courses in the emulator, then pull (as the nightly run does)."""
        api = connect(self.moodle_url, TOKEN)
        if complete_share:
            complete_some(self.site.emulator, api, share=complete_share)
        store = self.store()
        try:
            pull(api, self.site.specs(), store)
        finally:
            store.close()

    def login(self, email: str, password: str = PASSWORD) -> requests.Session:
        """A requests session logged in as ``email`` (the login form's token taken from the page)."""
        http = requests.Session()
        page = http.get(f"{self.url}/login", timeout=30)
        response = http.post(f"{self.url}/login", data={"email": email, "password": password,
                                                        "login_token": hidden(page.text, "login_token")},
                             timeout=30, allow_redirects=False)
        assert response.status_code == 303, response.text
        return http


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden {name} in the page"
    return match.group(1)


def coming_sessions(specs: Path) -> None:
    """The shipped specs' sessions moved to next year (Swedish time): the portal offers no past session, and the
    tests must pass on any day."""
    year = clock.today().year + 1
    for path in (specs / "courses").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"(\n\s+date: )\d{4}-", rf"\g<1>{year}-", text), encoding="utf-8")


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Saved:
    """The real specs applied once to a served emulator; each portal restores this instead of applying again."""
    tmp = tmp_path_factory.mktemp("applied")
    site = Site(tmp)
    coming_sessions(site.specs_dir)
    with serve(site.emulator) as moodle:
        api = connect(moodle.url, TOKEN)
        store = open_site_store(site.state_path, api)
        apply(api, site.specs(), store)
        store.close()
    return site.save(tmp / "applied.db")


@pytest.fixture
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, applied: Saved) -> Iterator[Served]:
    monkeypatch.chdir(tmp_path)
    site = Site(tmp_path)
    coming_sessions(site.specs_dir)
    site.restore(applied, site.state_path)
    with serve(site.emulator) as moodle:
        api = connect(moodle.url, TOKEN)
        open_site_store(site.state_path, api).close()  # the store learns this server's address
        config = tmp_path / "moodle-sync.toml"
        config.write_text(f'url = "{moodle.url}"\nspecs = "{site.specs_dir}"\nstate_path = "{site.state_path}"\n'
                          '[hubs.dalarna]\ncounty = "W"\n[hubs.uppsala]\ncounty = "C"\n'
                          '[portal]\nmax_upload_mb = 2\n', encoding="utf-8")
        settings = load_settings({"token": TOKEN}, config_path=config)
        portal_config, schedule = load_portal_config(config)
        app = create_app(settings, portal_config, schedule, scheduler=False)
        db: PortalDB = app.state.portal.db
        accounts = {"dalarna": "anna@dalarna.example.se", "uppsala": "ulf@uppsala.example.se",
                    "admin": "admin@myndighet.example.se"}
        hashed = PASSWORD_HASH
        db.add_account(email=accounts["dalarna"], password_hash=hashed, role="hub", hub="dalarna", county="W",
                       personal_data=True, must_change=False)
        db.add_account(email=accounts["uppsala"], password_hash=hashed, role="hub", hub="uppsala", county="C",
                       must_change=False)
        db.add_account(email=accounts["admin"], password_hash=hashed, role="admin", must_change=False)
        sock = free_socket()
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the portal did not start"
        port = sock.getsockname()[1]
        try:
            yield Served(url=f"http://127.0.0.1:{port}", moodle_url=api.client.transport.base_url, site=site,
                         config=config, db=db, tmp=tmp_path, accounts=accounts, app=app)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()


def get(http: requests.Session, url: str, **kw: Any) -> requests.Response:
    return http.get(url, timeout=60, allow_redirects=False, **kw)
