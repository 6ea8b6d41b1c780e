"""A county coordinator's walk through the portal in a real browser (Debian's Chromium driven by Playwright), at
1280 px and at 390 px (a phone): upload a list with a leaver, a row of another county and a bad date, skip
them, check the plan, Bekräfta, read the history, Uppföljning and the sessions page.

Every page, at both widths: no page-level sideways scrolling (a wide table scrolls in its own box), no English
word of the tool's messages, no key or id (``@2``, ``tg:``, ``userid``), buttons and chart labels big enough
to read. With MOODLE_SYNC_SCREENSHOTS=dir, a full-page screenshot of each page at each width is written there.
Skipped, saying why, without Chromium or Playwright.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))  # the portal tests' fixture (tests/portal/conftest.py)

# applied, browser and portal are the portal tests' fixtures, used here by name
from portal.conftest import CHROMIUM, PASSWORD, Served, applied, browser, person, portal, write_xlsx  # noqa: E402, F401, E501
from portal.words import not_for_coordinators  # noqa: E402

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install "
                                                                    "chromium): the portal's layout is checked in it")
WIDTHS = (1280, 390)
#: the smallest text a person is asked to read (CSS px): chart labels, button text
SMALLEST_TEXT = 10
#: the smallest height of a button a thumb must hit (CSS px)
SMALLEST_BUTTON = 30

MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const boxed = (e) => { for (let p = e.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const outside = Array.from(document.querySelectorAll('body *')).filter((e) => {
      const r = e.getBoundingClientRect(); return r.width > 0 && r.right > width + 1 && !boxed(e); })
    .slice(0, 5).map((e) => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 60));
  const labels = Array.from(document.querySelectorAll('svg text')).map((t) => t.getBoundingClientRect().height)
    .filter((h) => h > 0);
  const buttons = Array.from(document.querySelectorAll('button:not(.link)')).map((b) => {
      const r = b.getBoundingClientRect(); return {text: b.textContent, height: r.height,
      font: parseFloat(getComputedStyle(b).fontSize)}; });
  const tables = Array.from(document.querySelectorAll('.table-wrap > table')).map((t) => {
      const wrap = t.parentElement; return {caption: t.caption ? t.caption.textContent : '',
      cut: wrap.scrollWidth > wrap.clientWidth + 1, need: wrap.scrollWidth, room: wrap.clientWidth}; });
  return {width: width, scrollWidth: document.documentElement.scrollWidth, outside: outside,
          smallestLabel: labels.length ? Math.min(...labels) : null, buttons: buttons, tables: tables,
          text: document.body.innerText};
}"""


class Walk:
    """A coordinator's browser (1280 px) and a phone with the same login (390 px); every page seen is measured
    at both widths."""

    def __init__(self, browser: Any, served: Served) -> None:  # noqa: F811 - the fixture's value
        self.portal = served
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE",
                                           bypass_csp=True)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.shots = os.environ.get("MOODLE_SYNC_SCREENSHOTS")

    def log_in(self, who: str) -> None:
        self.page.goto(f"{self.portal.url}/login")
        self.page.fill("input[name=email]", self.portal.accounts[who])
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")

    def look(self, name: str, *, report: bool = False) -> str:
        """Measure the page the browser shows at both widths; its text at 1280 px."""
        url = self.page.url
        text = ""
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.goto(url)
            seen = self.page.evaluate(MEASURE)
            where = f"{name} at {width} px"
            if seen["scrollWidth"] > seen["width"] or seen["outside"]:
                self.problems.append(f"{where}: {seen['scrollWidth']} px wide, {seen['outside']}")
            words = not_for_coordinators(seen["text"])
            if words:
                self.problems.append(f"{where}: {words}")
            if seen["smallestLabel"] is not None and seen["smallestLabel"] < SMALLEST_TEXT:
                self.problems.append(f"{where}: a chart label {seen['smallestLabel']:.1f} px high")
            small = [b["text"] for b in seen["buttons"] if b["height"] < SMALLEST_BUTTON or b["font"] < 14]
            if small:
                self.problems.append(f"{where}: buttons too small: {small}")
            if report and width == 1280:
                cut = [f"{t['caption']} ({t['need']} px in {t['room']})" for t in seen["tables"] if t["cut"]]
                if cut:
                    self.problems.append(f"{where}: tables not whole: {cut}")
            if self.shots:
                Path(self.shots).mkdir(parents=True, exist_ok=True)
                self.page.screenshot(path=str(Path(self.shots) / f"{name}-{width}.png"), full_page=True)
            if width == 1280:
                text = seen["text"]
        self.page.set_viewport_size({"width": 1280, "height": 900})
        self.page.goto(url)
        return text


def test_a_coordinator_walks_the_portal_at_1280_and_390_px(portal: Served, browser: Any) -> None:  # noqa: F811
    walk = Walk(browser, portal)
    page = walk.page
    walk.log_in("dalarna")
    walk.look("lan")
    page.click("nav.county >> text=Personallista")
    page.set_input_files("input[type=file]", str(write_xlsx(portal.tmp / "Personallista Dalarna 2026-11.xlsx",
                                                             [person(n) for n in range(1, 8)])))
    page.click("button:has-text('Förhandsgranska')")
    page.click("#bekrafta")
    page.wait_for_selector("text=Klart. Moodle är uppdaterat enligt planen.")

    header = ["E-post", "Förnamn", "Efternamn", "Organisation", "Enhet", "Målgrupp", "Anställningsdatum",
              "Anställnings-id", "Län"]
    rows = [[*person(n), "Dalarna"] for n in range(1, 7)]  # person 7 leaves
    late = [*person(8), "W"]
    late[6] = "i höstas"
    rows += [late, [*person(9, town="uppsala"), "Uppsala"]]
    page.click("nav.county >> text=Personallista")
    walk.look("personallista")
    page.set_input_files("input[type=file]", str(write_xlsx(portal.tmp / "Personallista Dalarna 2026-12.xlsx",
                                                             rows, header=header)))
    page.click("button:has-text('Förhandsgranska')")
    page.wait_for_selector("text=Ogiltiga rader (2)")
    text = walk.look("ogiltiga-rader")
    assert "hör till Uppsala län, inte Dalarnas län" in text
    page.click("button:has-text('Hoppa över ogiltiga rader och granska')")
    page.wait_for_selector("#bekrafta")
    text = walk.look("plan")
    assert "Lämnar (1)" in text and "Förnamn7 Efternamn7" in text
    assert "Rader som hoppas över (2)" in text
    page.reload()
    assert "Lämnar (1)" in page.inner_text("main"), "a reload shows the plan again"
    page.click("#bekrafta")
    page.wait_for_selector("text=Klart. Moodle är uppdaterat enligt planen.")
    walk.look("resultat")

    page.click("nav.county >> text=Personallista")
    text = walk.look("historik")
    assert "laddade upp Personallista Dalarna 2026-12.xlsx den" in text and "1 lämnar, 2 rader hoppades över" in text

    portal.pull(complete_share=0.5)
    page.click("nav.county >> text=Uppföljning")
    page.wait_for_selector("svg.chart")
    text = walk.look("uppfoljning", report=True)
    assert "Per kurs" in text and "”..”" in text
    page.click("nav.county >> text=Utbildningstillfällen")
    walk.look("tillfallen")
    page.select_option("select[name=session]", "hrv-socialtjanst/falun-2026-03")
    page.fill("textarea[name=emails]", "person1@falun.example.se\nperson2@falun.example.se")
    page.click("button:has-text('Placera')")
    page.wait_for_selector("text=Placerade: 2")
    page.click("nav.county >> text=Försenade")
    walk.look("forsenade")
    page.goto(f"{portal.url}/konto/losenord")
    walk.look("losenord")
    walk.context.close()
    assert walk.problems == []


def test_the_downloaded_report_is_whole_at_1280_px_and_fits_a_phone(portal: Served, browser: Any,  # noqa: F811
                                                                    tmp_path: Path) -> None:
    walk = Walk(browser, portal)
    walk.log_in("dalarna")
    walk.page.goto(f"{portal.url}/lan/W/personallista")
    walk.page.set_input_files("input[type=file]", str(write_xlsx(portal.tmp / "l.xlsx",
                                                                 [person(n) for n in range(1, 8)])))
    walk.page.click("button:has-text('Förhandsgranska')")
    walk.page.click("#bekrafta")
    walk.page.wait_for_selector("text=Klart")
    portal.pull(complete_share=0.5)
    content = walk.context.request.get(f"{portal.url}/lan/W/rapport.html").body()
    path = tmp_path / "uppfoljning.html"
    path.write_bytes(content)
    walk.page.goto(path.as_uri())
    walk.look("nedladdad-rapport", report=True)
    walk.context.close()
    assert walk.problems == []
    assert "visas som .. (två punkter)" in content.decode("utf-8"), "the page explains its markers"
