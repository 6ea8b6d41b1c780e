"""Uploaded staff lists are kept only while an import can use them: deleted once imported, refused or replaced,
swept once their preview can no longer be confirmed (at serve start and while it serves), and bounded per
county; the audit log keeps its lines about them."""

from __future__ import annotations

import asyncio
import datetime
import os
import re
import sqlite3
import time
from pathlib import Path

import pytest
import requests
from e2e.conftest import TOKEN
from starlette.applications import Starlette

from moodle_sync.config import load_settings
from moodle_sync.portal import uploads
from moodle_sync.portal.app import create_app
from moodle_sync.portal.config import load_portal_config
from moodle_sync.writing.synclock import acquire

from .conftest import PASSWORD_HASH, Served, hidden, person
from .test_portal_access import confirm_action, upload


def preview_id(page: requests.Response) -> str:
    match = re.search(r'/personallista/([^/"]+)/', page.text)
    assert match, page.text
    return match.group(1)


def kept(portal: Served) -> set[str]:
    """The ids of the uploads whose file is on disk."""
    return {p.stem for p in portal.uploads.glob("*")}


def confirm(http: requests.Session, portal: Served, page: requests.Response) -> requests.Response:
    return http.post(portal.url + confirm_action(page.text), data={"csrf": hidden(page.text, "csrf")}, timeout=120)


def uploaded_earlier(portal: Served, upload_id: str, minutes: float) -> None:
    """As if ``upload_id`` had been uploaded ``minutes`` earlier than it was."""
    db = sqlite3.connect(portal.db.path)
    try:
        [(created,)] = db.execute("SELECT created_at FROM previews WHERE id=?", (upload_id,)).fetchall()
        earlier = datetime.datetime.fromisoformat(created) - datetime.timedelta(minutes=minutes)
        db.execute("UPDATE previews SET created_at=? WHERE id=?", (earlier.isoformat(timespec="seconds"), upload_id))
        db.commit()
    finally:
        db.close()


def new_app(portal: Served) -> Starlette:
    """A new serve process's app on the same data directory (its start sweeps and closes what was left)."""
    settings = load_settings({"token": TOKEN}, config_path=portal.config)
    portal_config, schedule = load_portal_config(portal.config)
    return create_app(settings, portal_config, schedule, scheduler=False)


def expired(portal: Served) -> float:
    """Minutes after which an unconfirmed upload is swept (its preview's time plus the grace)."""
    return uploads.keep_for(portal.app.state.portal.config).total_seconds() / 60


def test_an_upload_nobody_confirms_is_deleted_once_its_preview_expires_and_the_audit_log_keeps_its_lines(
        portal: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    old = preview_id(upload(portal.login(portal.accounts["dalarna"]), portal, "W", [person(1)]))
    young = preview_id(upload(portal.login(portal.accounts["uppsala"]), portal, "C", [person(2, town="uppsala")]))
    assert kept(portal) == {old, young}
    uploaded_earlier(portal, old, expired(portal) + 1)
    uploaded_earlier(portal, young, expired(portal) - 1)
    new_app(portal).state.portal.db.close()  # `serve` starts again
    assert kept(portal) == {young}
    assert portal.db.preview(old)["status"] == "expired"  # type: ignore[index]
    assert any(old in line["detail"] for line in portal.db.audit() if line["action"] == "roster-upload")

    # while it serves, the sweep comes round by itself (no schedule is set: it is not the scheduler's)
    monkeypatch.setattr(uploads, "SWEEP_SECONDS", 0.01)
    app = new_app(portal)
    uploaded_earlier(portal, young, 2)

    async def serve_until_swept() -> None:
        async with app.router.lifespan_context(app):
            deadline = time.monotonic() + 30
            while young in kept(portal) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)

    asyncio.run(serve_until_swept())
    assert kept(portal) == set()


def test_an_upload_is_deleted_as_soon_as_its_import_is_applied_refused_or_replaced(
        portal: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    http = portal.login(portal.accounts["dalarna"])
    first = upload(http, portal, "W", [person(n) for n in range(1, 5)], name="first.xlsx")
    second = upload(http, portal, "W", [person(n) for n in range(1, 6)], name="second.xlsx")
    assert kept(portal) == {preview_id(second)}, "the hub's newer upload replaces the one it did not confirm"
    replaced = confirm(http, portal, first)
    assert replaced.status_code == 409 and "nyare fil som ersätter den här" in replaced.text
    assert "Klart" in confirm(http, portal, second).text
    assert kept(portal) == set()

    # a confirmation refused because Moodle changed since the preview: the hub is told to upload again
    stale = upload(http, portal, "W", [person(n) for n in range(1, 7)], name="third.xlsx")
    admin = portal.login(portal.accounts["admin"])
    assert "Klart" in confirm(admin, portal, upload(admin, portal, "W", [person(n) for n in range(1, 8)],
                                                    name="admin.xlsx")).text
    assert "Moodle har ändrats" in confirm(http, portal, stale).text
    assert kept(portal) == set()

    # but one that found another sync running wrote nothing and may be confirmed again: it is kept
    monkeypatch.setattr("moodle_sync.portal.rosters.LOCK_WAIT", 0.0)
    again = upload(http, portal, "W", [person(n) for n in range(1, 9)], name="fourth.xlsx")
    with acquire(portal.site.state_path, "pull (scheduled: 02:30)"):
        assert "En annan synkronisering pågår" in confirm(http, portal, again).text
    assert kept(portal) == {preview_id(again)}
    assert "Klart" in confirm(http, portal, again).text
    assert kept(portal) == set()
    lines = [line["detail"] for line in portal.db.audit() if line["action"].startswith("roster-")]
    assert any(preview_id(first) in line for line in lines) and any(preview_id(stale) in line for line in lines)


def test_a_county_over_its_bound_of_waiting_uploads_gets_a_swedish_message_and_nothing_is_kept(portal: Served) -> None:
    state = portal.app.state.portal
    state.config = state.config.model_copy(update={"max_pending_uploads": 2, "max_pending_upload_mb": 1})
    for n in range(3):
        portal.db.add_account(email=f"hub{n}@dalarna.example.se", password_hash=PASSWORD_HASH, role="hub",
                              hub="dalarna", county="W", must_change=False)
    hubs = [portal.login(f"hub{n}@dalarna.example.se") for n in range(3)]
    first, second = (preview_id(upload(hubs[n], portal, "W", [person(n)], name=f"{n}.xlsx")) for n in range(2))
    refused = upload(hubs[2], portal, "W", [person(3)], name="2.xlsx")
    assert refused.status_code == 429
    assert "Dalarnas län har redan 2 uppladdade personallistor som väntar på bekräftelse (högst 2)" in refused.text
    assert "Inget av filen har sparats" in refused.text
    assert kept(portal) == {first, second}
    # one of them uploads again: its own waiting upload is replaced, so there is room
    third = preview_id(upload(hubs[1], portal, "W", [person(1), person(2)], name="again.xlsx"))
    assert kept(portal) == {first, third}

    # a file larger than the room left in megabytes is refused unread, and nothing of it stays
    state.config = state.config.model_copy(update={"max_pending_uploads": 5})
    page = hubs[2].get(f"{portal.url}/lan/W/personallista", timeout=30)
    big = hubs[2].post(f"{portal.url}/lan/W/personallista", data={"csrf": hidden(page.text, "csrf")}, timeout=120,
                       files={"file": ("stor.csv", b"E-post;F\xc3\xb6rnamn\r\n" + b" " * (1024 * 1024))})
    assert big.status_code == 413 and "Filen får inte plats: Dalarnas län har bara" in big.text
    assert kept(portal) == {first, third}


def test_files_in_the_upload_directory_no_preview_names_are_swept_once_old(portal: Served) -> None:
    portal.uploads.mkdir(parents=True, exist_ok=True)
    orphan, fresh = portal.uploads / "avbruten.xlsx", portal.uploads / "pagar.xlsx"
    for path in (orphan, fresh):
        path.write_bytes(b"x")
    old = time.time() - uploads.GRACE.total_seconds() - 60
    os.utime(orphan, (old, old))
    new_app(portal).state.portal.db.close()
    assert sorted(p.name for p in portal.uploads.glob("*")) == [Path(fresh).name]



def test_an_import_a_killed_serve_left_applying_is_closed_at_the_next_start_and_its_file_deleted(
        portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    page = upload(http, portal, "W", [person(1)])
    upload_id = preview_id(page)
    portal.db.update_preview(upload_id, status="applying")  # Bekräfta was pressed, then the process was killed
    with acquire(portal.site.state_path, "apply (another serve process)"):
        new_app(portal).state.portal.db.close()  # a sync runs elsewhere: the import may be its own
    assert kept(portal) == {upload_id}
    new_app(portal).state.portal.db.close()
    assert kept(portal) == set()
    assert portal.db.preview(upload_id)["status"] == "interrupted"  # type: ignore[index]
    outcome = http.get(f"{portal.url}/lan/W/personallista/{upload_id}", timeout=30)
    assert "Importen avbröts: servern startades om medan den pågick" in outcome.text


def test_no_uploaded_file_outlives_a_day_whatever_preview_minutes_says(portal: Served) -> None:
    """The record of processing promises a day at most: a preview that may be confirmed for a whole day, and an
    import left "applying", are both swept by the last sweep within the day (sweeps come every SWEEP_SECONDS)."""
    state = portal.app.state.portal
    state.config = state.config.model_copy(update={"preview_minutes": 24 * 60})
    waiting = preview_id(upload(portal.login(portal.accounts["dalarna"]), portal, "W", [person(1)]))
    applying = preview_id(upload(portal.login(portal.accounts["uppsala"]), portal, "C", [person(2, town="uppsala")]))
    portal.db.update_preview(applying, status="applying")
    last_sweep_within_a_day = 24 * 60 - uploads.SWEEP_SECONDS / 60 + 1
    for upload_id in (waiting, applying):
        uploaded_earlier(portal, upload_id, last_sweep_within_a_day)
    assert uploads.sweep(portal.db, portal.uploads, state.config) == 2
    assert kept(portal) == set()
    assert uploads.keep_for(state.config) + datetime.timedelta(seconds=uploads.SWEEP_SECONDS) <= uploads.AT_MOST
