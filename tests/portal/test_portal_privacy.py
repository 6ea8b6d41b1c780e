"""Personal data in the portal (issue 23): a hub's import logs nobody's address or name, and the scheduler
purges the people past retention every night."""

from __future__ import annotations

import datetime
import logging

import pytest
from e2e.conftest import TOKEN

from moodle_sync.config import load_settings
from moodle_sync.portal.config import ScheduleConfig
from moodle_sync.portal.scheduler import TZ, Scheduler
from moodle_sync.portal.site import Site

from .conftest import Served, hidden, person
from .test_portal_access import confirm_action, upload


def test_a_hubs_import_through_the_portal_logs_no_address_or_name(portal: Served,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="moodle_sync")
    http = portal.login(portal.accounts["dalarna"])
    rows = [person(n) for n in range(1, 4)]
    page = upload(http, portal, "W", rows)
    assert "Bekräfta" in page.text
    done = http.post(portal.url + confirm_action(page.text), data={"csrf": hidden(page.text, "csrf")}, timeout=120)
    assert "Klart" in done.text
    lines = [r.getMessage() for r in caplog.records if not r.name.startswith("moodle_sync.emulator")]
    assert any("core_user_create_users" in line for line in lines), "the import's calls were logged"
    words = [w.lower() for row in rows for w in row[:3]]
    assert [line[:200] for line in lines if any(w in line.lower() for w in words)] == []


def test_the_scheduler_purges_the_people_past_retention_every_night(portal: Served) -> None:
    now = [datetime.datetime(2026, 3, 10, 3, 0, tzinfo=TZ)]
    settings = load_settings({"token": TOKEN}, config_path=portal.config)
    sync = Scheduler(Site(settings), portal.db, ScheduleConfig(pull_at=["02:30"]), now=lambda: now[0])
    now[0] = datetime.datetime(2026, 3, 10, 3, 46, tzinfo=TZ)
    assert sync.due() == [("purge", "scheduled 03:45")], "by default, at 03:45 Swedish time"
    assert sync.run("purge", "scheduled 03:45") == "done"
    store = portal.store()
    try:
        [run] = [r for r in store.runs(50) if r["command"] == "purge (scheduled)"]
    finally:
        store.close()
    assert run["status"] == "done" and '"retention_months": 36' in run["summary"]
    assert [r["status"] for r in portal.db.scheduled() if r["job"] == "purge"] == ["done"]
