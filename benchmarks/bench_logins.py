"""Benchmark: a burst of concurrent logins at the portal, served in-process on loopback by uvicorn.

Each scenario runs in a fresh process (peak RSS is a process's high-water mark) and prints the answers'
status codes, how many passwords were checked (real argon2id, 64 MiB each, counted), the most checks that
ran at once, the process's RSS before the burst and its peak, and the wall time.

Scenarios:
  account   N logins at once for one account, one address (the limit is 5 per account)
  unknown   N logins at once for N e-mails that have no account, one address (20 per address)
  spread    N logins at once for N unknown e-mails, each from its own address behind a trusted proxy
            (X-Forwarded-For from 127.0.0.1): no per-address limit helps, only the bound on checks

Usage: python benchmarks/bench_logins.py [--scenario account|unknown|spread|all] [-n N]
Runs against whichever moodle_sync is imported, so the same script measures a branch and main.
"""

from __future__ import annotations

import argparse
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import uvicorn

from moodle_sync.config import load_settings
from moodle_sync.portal import auth
from moodle_sync.portal.app import create_app
from moodle_sync.portal.config import PortalConfig, ScheduleConfig

TOKEN = "bench0123456789abcdef0123456789ab"
PASSWORD = "ett-långt-lösenord-2026"
DEFAULT_N = {"account": 40, "unknown": 60, "spread": 200}


class CountingHasher:
    """argon2id as the portal uses it, counting the checks and the most running at once."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.checks = 0
        self.running = 0
        self.peak = 0
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        return str(self.real.hash(password))

    def verify(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.checks += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            return bool(self.real.verify(password_hash, password))
        finally:
            with self._lock:
                self.running -= 1


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scenario(scenario: str, n: int) -> None:
    hasher = CountingHasher(auth._HASHER)
    auth._HASHER = hasher  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "moodle-sync.toml"
        config.write_text(f'url = "http://127.0.0.1:9"\nstate_path = "{Path(tmp) / "state.db"}"\n', encoding="utf-8")
        settings = load_settings({"token": TOKEN}, config_path=config)
        has_trust = "trusted_proxies" in PortalConfig.model_fields
        portal = PortalConfig(trusted_proxies=["127.0.0.1"]) if has_trust else PortalConfig()
        app = create_app(settings, portal, ScheduleConfig(), scheduler=False)
        app.state.portal.db.add_account(email="anna@dalarna.example.se", password_hash=hasher.hash(PASSWORD),
                                        role="hub", hub="dalarna", county="W", must_change=False)
        hasher.checks = 0
        # as `moodle-sync serve` runs it; before trusted_proxies, serve let uvicorn believe 127.0.0.1
        uvicorn_proxy = {"proxy_headers": False} if has_trust else {"proxy_headers": True,
                                                                     "forwarded_allow_ips": "127.0.0.1"}
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                               backlog=2048, **uvicorn_proxy))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/login"
        page = requests.get(url, timeout=30)
        token = re.search(r'name="login_token" value="([^"]*)"', page.text)
        assert token
        form_cookie = page.cookies["ms_login"]

        def login(i: int) -> int:
            email = "anna@dalarna.example.se" if scenario == "account" else f"okand{i}@example.se"
            headers = {"x-forwarded-for": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"} \
                if scenario == "spread" else {}
            start.wait()
            return requests.post(url, data={"email": email, "password": f"gissning-{i}", "login_token": token.group(1)},
                                 cookies={"ms_login": form_cookie}, headers=headers, timeout=300,
                                 allow_redirects=False).status_code

        start = threading.Barrier(n)
        before = rss_mib()
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=n) as pool:
            statuses = Counter(pool.map(login, range(n)))
        wall = time.perf_counter() - began
        server.should_exit = True
        thread.join(timeout=30)
    answers = ", ".join(f"{count}×{status}" for status, count in sorted(statuses.items()))
    print(f"{scenario:8} {n:4} logins | answers {answers:24} | password checks {hasher.checks:3} "
          f"(at most {hasher.peak} at once) | RSS before {before:5.0f} MiB, peak {peak_rss_mib():5.0f} MiB "
          f"| {wall:5.1f} s", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", choices=["account", "unknown", "spread", "all"], default="all")
    ap.add_argument("-n", type=int, default=0, help="logins in the burst (default: 40, 60, 200 by scenario)")
    ap.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.in_process:
        run_scenario(a.scenario, a.n or DEFAULT_N[a.scenario])
        return 0
    for scenario in (["account", "unknown", "spread"] if a.scenario == "all" else [a.scenario]):
        done = subprocess.run([sys.executable, __file__, "--in-process", "--scenario", scenario, "-n", str(a.n)],
                              check=False)
        if done.returncode:
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
