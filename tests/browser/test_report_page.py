"""The HTML report in a real headless Chromium: every column (Totalt too) on an A4 landscape page,
county names on one line, chart labels whole, and charts only where they show something.

Skipped, saying why, when no Chromium is installed (`.ci/run` installs Debian's `chromium`).
"""

from __future__ import annotations

import datetime
import html
import json
import random
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.counties import COUNTIES
from moodle_sync.demo import SHIPPED_SPECS
from moodle_sync.jobs.site import load
from moodle_sync.reports import PRESETS, CompletionFact, Labels
from moodle_sync.reports.render.htmlpage import html_document

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on PATH (Debian: apt-get install chromium); "
                                                          "the report page's layout is checked in a real browser")
PROBE = (Path(__file__).parent / "layout_probe.js").read_text(encoding="utf-8")
#: A4 landscape less the page's 10 mm margins, in CSS pixels (96 per inch): 277 mm
A4_LANDSCAPE_PRINTABLE = round(277 / 25.4 * 96)
AS_OF = datetime.date(2026, 11, 20)


def facts() -> list[CompletionFact]:
    """Enrolments in every county and target group; one course version nobody completed."""
    specs = load(SHIPPED_SPECS)
    groups = sorted(specs.target_groups)
    rng = random.Random(11)
    out = []
    person = 0
    for county in COUNTIES:
        for course, completes in (("hrv-socialtjanst", True), ("webbkurs-heder", False)):
            for _ in range(rng.randint(0, 30)):
                person += 1
                done = completes and rng.random() < 0.6
                out.append(CompletionFact(
                    person=person, county=county, target_groups=(rng.choice(groups),), organisation="Kommunen",
                    course_key=course, major=1, current_major=1, enrolled_since=datetime.date(2026, 2, 1),
                    completed_on=datetime.date(2026, 5, 1) if done else None,
                    completed_source="criteria" if done else None, status="active", deadline=None,
                    refresher_due=None))
    return out


def labels() -> Labels:
    specs = load(SHIPPED_SPECS)
    return Labels(target_groups={k: g.name for k, g in specs.target_groups.items()},
                  courses={k: c.title for k, c in specs.courses.items()})


def page() -> str:
    report = PRESETS["redovisning"](facts(), year=2026, labels=labels(), as_of=AS_OF, secret=b"browser-test")
    return html_document(report)


def chromium(*args: str, timeout: int = 120) -> str:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="moodle-sync-chromium-") as profile:
        done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--no-first-run", f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                              timeout=timeout, check=False)
    return done.stdout


def probe(document: str, tmp_path: Path, width: int) -> dict[str, Any]:
    """Lay ``document`` out at ``width`` CSS pixels in Chromium and measure it (see layout_probe.js)."""
    path = tmp_path / "probe.html"
    path.write_text(document.replace("</body>", f"<script>{PROBE}</script></body>"), encoding="utf-8")
    dom = chromium(f"--window-size={width},1200", "--dump-dom", path.as_uri())
    found = re.findall(r'<pre id="probe">(\{.*?)</pre>', dom, re.S)
    assert found, f"Chromium printed no measurements: {dom[:300]!r}"
    return dict(json.loads(html.unescape(found[-1])))


def as_printed(document: str) -> str:
    """The page as print lays it out (its @media print rules applied on screen), for measuring."""
    assert "@media print {" in document
    return document.replace("@media print {", "@media all {")


def test_printed_on_a4_landscape_every_column_fits_totalt_included(tmp_path: Path) -> None:
    seen = probe(as_printed(page()), tmp_path, A4_LANDSCAPE_PRINTABLE)
    assert seen["tables"], "the page has tables"
    assert seen["scrollWidth"] <= seen["width"], "nothing runs off the page"
    for table in seen["tables"]:
        assert table["lastHeading"] == "Totalt", table
        assert table["right"] <= seen["width"] and table["lastHeadingRight"] <= seen["width"], table


def test_the_pdf_is_a4_landscape(tmp_path: Path) -> None:
    path = tmp_path / "r.html"
    path.write_text(page(), encoding="utf-8")
    pdf = tmp_path / "r.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", path.as_uri())
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf.read_bytes())
    assert boxes, "Chromium wrote a PDF"
    for width, height in boxes:  # A4 landscape: 842 × 595 points
        assert abs(float(width) - 842) < 2 and abs(float(height) - 595) < 2


@pytest.mark.parametrize("printed", [False, True], ids=["screen", "print"])
def test_county_names_stay_on_one_line(tmp_path: Path, printed: bool) -> None:
    document = page()
    seen = probe(as_printed(document) if printed else document, tmp_path,
                 A4_LANDSCAPE_PRINTABLE if printed else 1280)
    counties = [h for h in seen["rowHeads"] if h["text"].endswith(" län")]
    assert len(counties) >= 21
    assert [h["text"] for h in counties if h["lines"] != 1 or h["tall"]] == []


def test_chart_labels_are_shown_whole(tmp_path: Path) -> None:
    seen = probe(page(), tmp_path, 1280)
    assert seen["labels"]
    long = [label for label in seen["labels"] if len(label["whole"]) > 40]
    assert long, "the target groups' long names are charted"
    for label in seen["labels"]:
        assert label["text"].replace(" ", "") == label["whole"].replace(" ", ""), label
        assert "…" not in label["text"]
        assert label["left"] >= 0 and label["right"] <= label["svgWidth"], label


def test_charts_only_where_they_show_something() -> None:
    document = page()
    figures = re.findall(r"<figcaption>(.*?)</figcaption>", document)
    heder = html.escape(labels().course("webbkurs-heder"))
    assert not [f for f in figures if heder in f], "nobody completed it: its charts would be all zeros"
    assert len(figures) == 2, figures
