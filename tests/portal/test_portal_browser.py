"""The portal in a real browser (headless Chromium, Debian's package, driven by Playwright): a hub logs in,
uploads an XLSX, sees the plan, confirms, and sees its county's report. Skips when Chromium is missing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM, PASSWORD, Served, person, write_xlsx

NO_CHROMIUM = "Chromium is not installed (apt-get install chromium): the browser tests need it"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=NO_CHROMIUM)


def log_in(page: Any, portal: Served, who: str) -> None:
    page.goto(f"{portal.url}/login")
    page.fill("input[name=email]", portal.accounts[who])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_a_hub_uploads_a_workbook_sees_the_plan_confirms_and_sees_its_report(portal: Served, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="sv-SE")
    page = context.new_page()
    shots = Path(os.environ.get("MOODLE_SYNC_SCREENSHOTS", portal.tmp))
    log_in(page, portal, "dalarna")
    assert page.url.endswith("/lan/W")
    assert "Dalarnas län" in page.inner_text("h1")

    page.click("text=Ladda upp personallista")
    workbook = write_xlsx(portal.tmp / "dalarna.xlsx", [person(i) for i in range(1, 8)])
    page.set_input_files("input[type=file]", str(workbook))
    page.click("button:has-text('Förhandsgranska')")
    page.wait_for_selector("#bekrafta")
    text = page.inner_text("main")
    assert "Nya konton: 7" in text and "Läggs till i målgrupper: 7" in text
    assert "person3@falun.example.se" in text
    page.screenshot(path=str(shots / "portal-plan.png"), full_page=True)
    assert not _people_in_moodle(portal), "nothing is written before Bekräfta"

    page.click("#bekrafta")
    page.wait_for_selector("text=Klart. Moodle är uppdaterat enligt planen.")
    assert "Skapade: 7" in page.inner_text("main")
    assert len(_people_in_moodle(portal)) == 7

    portal.pull(complete_share=0.5)
    page.click("nav.county >> text=Uppföljning")
    page.wait_for_selector("svg.chart")
    report = page.inner_text("main")
    assert "Uppföljning av utbildningsinsatserna" in report and "Dalarnas län" in report
    assert "Uppsala län" not in report, "a hub's report shows its own county only"
    assert "Inskrivna" in report and page.locator("table tfoot td.num").count() > 0
    page.screenshot(path=str(shots / "portal-report.png"), full_page=True)
    context.close()


def test_another_countys_hub_is_refused_in_the_browser_too(portal: Served, browser: Any) -> None:
    page = browser.new_page()
    log_in(page, portal, "uppsala")
    assert page.url.endswith("/lan/C")
    response = page.goto(f"{portal.url}/lan/W/personallista")
    assert response is not None and response.status == 403
    assert "Åtkomst nekad" in page.inner_text("h1")
    page.close()


def _people_in_moodle(portal: Served) -> list[str]:
    return [u.email for u in portal.site.api().users_by_field("email", [f"person{i}@falun.example.se"
                                                                                   for i in range(1, 8)])]


def test_a_hub_places_people_in_a_session_and_sees_who_is_overdue(portal: Served, browser: Any) -> None:
    shots = Path(os.environ.get("MOODLE_SYNC_SCREENSHOTS", portal.tmp))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    log_in(page, portal, "dalarna")
    page.goto(f"{portal.url}/lan/W/personallista")
    page.set_input_files("input[type=file]", str(write_xlsx(portal.tmp / "w.xlsx", [person(i) for i in range(1, 4)])))
    page.click("button:has-text('Förhandsgranska')")
    page.click("#bekrafta")
    page.wait_for_selector("text=Klart. Moodle är uppdaterat enligt planen.")

    page.click("nav.county >> text=Utbildningstillfällen")
    assert "Falun, Länsstyrelsen Dalarna" in page.inner_text("main")
    assert "Stockholm" not in page.inner_text("main"), "only the county's own sessions"
    page.select_option("select[name=session]", "hrv-socialtjanst/falun-2026-03")
    page.fill("textarea[name=emails]", "person1@falun.example.se\nperson2@falun.example.se")
    page.click("button:has-text('Placera')")
    page.wait_for_selector("text=Placerade: 2")
    assert "platser kvar: 28" in page.inner_text("main")
    page.reload()  # post/redirect/get: a reload shows the outcome again and places nobody twice
    assert "Placerade: 2" in page.inner_text("main") and "platser kvar: 28" in page.inner_text("main")
    page.screenshot(path=str(shots / "portal-sessions.png"), full_page=True)
    # another county's person is answered like an e-mail nobody has
    page.fill("textarea[name=emails]", "ingen@nowhere.example.se")
    page.click("button:has-text('Placera')")
    assert "ingen placerades: ingen@nowhere.example.se" in page.inner_text("main")
    assert "--hub" not in page.inner_text("main") and "hint" not in page.inner_text("main")

    page.click("nav.county >> text=Försenade")
    assert "Försenade" in page.inner_text("h1")
    assert any(e["action"] == "overdue-view" for e in portal.db.audit())
    page.close()


def test_an_admin_sees_every_county_and_the_status_page(portal: Served, browser: Any) -> None:
    shots = Path(os.environ.get("MOODLE_SYNC_SCREENSHOTS", portal.tmp))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    log_in(page, portal, "admin")
    assert "Alla län" in page.inner_text("h1")
    page.click("text=Uppsala län (C)")
    assert page.url.endswith("/lan/C")
    page.click("header >> text=Status")
    assert "Schemalagda och manuella körningar" in page.inner_text("main") and "apply" in page.inner_text("main")
    page.screenshot(path=str(shots / "portal-status.png"), full_page=True)
    page.click("header >> text=Logga ut")
    assert page.url.endswith("/login?klart=utloggad") and "Du är utloggad." in page.inner_text("main")
    page.goto(f"{portal.url}/status")
    assert page.url.endswith("/login"), "logged out: back to the login page"
    page.close()
