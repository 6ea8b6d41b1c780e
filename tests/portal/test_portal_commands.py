"""`moodle-sync portal user …`: accounts are made on the command line, with a one-time password that must be
changed at the first login, or one read from standard input; hubs must be configured."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from e2e.conftest import run

from moodle_sync.portal.db import PortalDB

from .conftest import Served, get, hidden


def test_user_add_prints_a_one_time_password_that_must_be_changed(portal: Served, capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    config = str(portal.config)
    assert run("portal", "user", "add", "--hub", "dalarna", "--email", "Bo@Dalarna.example.se",
               "--config", config) == 0
    out = capsys.readouterr().out
    password = re.search(r"One-time password .*: (\S+)", out)
    assert password and "hub dalarna (W)" in out
    db = PortalDB(Path(portal.site.state_path).parent / "portal" / "portal.db")
    account = db.account(email="bo@dalarna.example.se")
    assert account is not None and account.password_hash.startswith("$argon2id$") and account.must_change
    assert password.group(1) not in account.password_hash

    http = portal.login("bo@dalarna.example.se", password.group(1))
    page = get(http, f"{portal.url}/lan/W")
    assert page.status_code == 303 and page.headers["location"] == "/konto/losenord", "first the password"
    form = get(http, f"{portal.url}/konto/losenord")
    changed = http.post(f"{portal.url}/konto/losenord", timeout=30, allow_redirects=False, data={
        "csrf": hidden(form.text, "csrf"), "current": password.group(1), "new": "mitt-eget-lösenord-1",
        "again": "mitt-eget-lösenord-1"})
    assert changed.status_code == 303
    again = portal.login("bo@dalarna.example.se", "mitt-eget-lösenord-1")
    assert get(again, f"{portal.url}/lan/W").status_code == 200

    monkeypatch.setattr("sys.stdin", io.StringIO("ett-lösenord-från-stdin\n"))
    assert run("portal", "user", "add", "--admin", "--email", "it@region.example.se", "--password-stdin",
               "--config", config) == 0
    assert "One-time" not in capsys.readouterr().out
    assert get(portal.login("it@region.example.se", "ett-lösenord-från-stdin"), f"{portal.url}/status").status_code \
        == 200
    assert run("portal", "user", "add", "--hub", "gotland", "--email", "x@gotland.example.se", "--config", config) == 1
    assert "unknown hub 'gotland'" in capsys.readouterr().err
    assert run("portal", "user", "disable", "--email", "it@region.example.se", "--config", config) == 0
    assert any(e["action"] == "account-disabled" for e in db.audit())
