"""The terminal table fits 100 columns: short headings explained below it, long names wrapped, a pivot too
wide for the terminal split into parts; colour only when asked (the CLI asks on a terminal only)."""

from __future__ import annotations

import datetime
import re

import pytest
from report_facts import LABELS, done, many

from moodle_sync.counties import COUNTIES
from moodle_sync.reports import PRESETS, Labels, build_table, round_tables, to_text

SECRET = b"terminal"
LONG_GROUPS = {
    "bvc": "Mödrahälsovård, barnavårdscentral (BVC) och gynekologer",
    "soc": "Socialsekreterare och biståndsbedömare",
    "chef": "Chefer, samordnare och verksamhetsutvecklare",
    "bup": "Barn- och ungdomspsykiatrin (BUP) och vuxenpsykiatrin",
    "elev": "Elevhälsan och ungdomsmottagningar",
    "hvb": "Öppenvård, skyddat boende och HVB-hem",
    "vald": "Personal som arbetar med våldsutövare",
    "skol": "Skolledare och medarbetare inom elevhälsan",
    "utb": "Utbildare",
    "vc": "Vårdcentral och asylhälsan",
}
LONG = Labels(target_groups=LONG_GROUPS, courses=LABELS.courses)
ANSI = re.compile(r"\033\[[0-9;]*m")


def national() -> list:  # type: ignore[type-arg]
    facts = []
    n = 0
    for county in COUNTIES:
        for group in LONG_GROUPS:
            facts += many(n, 4, county=county, target_groups=(group,))
            facts += [done(n + 10_000 + i, datetime.date(2024, 3, 1), county=county, target_groups=(group,))
                      for i in range(3)]
            n += 10
    return facts


@pytest.mark.parametrize("dimensions", [["county"], ["county", "target_group"], ["target_group", "course"]])
def test_a_table_fits_100_columns_with_short_headings_explained(dimensions: list[str]) -> None:
    built = build_table(national(), dimensions=dimensions, labels=LONG, as_of=datetime.date(2024, 6, 30))
    table = round_tables([built], secret=SECRET, threshold=5)[0]
    text = to_text(table)
    assert max(len(line) for line in text.splitlines()) <= 100
    flat = " ".join(text.split())
    assert "Kolumner: " in text and "Aktuell version = Genomförda, aktuell version;" in flat
    assert "Efter sista dag = Ej genomförda, sista dag passerad" in flat
    if "target_group" in dimensions:  # a long name wraps within its column, never cut
        assert "Mödrahälsovård," in text and "gynekologer" in text
    assert not ANSI.search(text)


def test_the_ministry_pivot_is_split_into_parts_that_fit() -> None:
    report = PRESETS["redovisning"](national(), year=2024, labels=LONG, as_of=datetime.date(2024, 12, 31),
                                    secret=SECRET)
    text = to_text(report)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "(del 1 av " in text and "Totalt" in text
    assert text.count("Västra Götalands län") >= 2, "each part repeats the counties"


def test_colour_only_when_asked() -> None:
    table = build_table(national(), dimensions=["county"], labels=LONG, as_of=datetime.date(2024, 6, 30))
    coloured = to_text(table, colour=True)
    assert ANSI.search(coloured) and "\033[1mTotalt" in coloured
    assert ANSI.sub("", coloured) == to_text(table)
