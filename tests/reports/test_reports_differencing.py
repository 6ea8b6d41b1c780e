"""The differencing attack: subtract any two published counts, from any two reports a caller may ask for.

Facts with small counts go through ``make_report`` (the ``report`` command's library entry) for every
period form, filter (hub scope), and breakdown; every published count becomes an interval of what its true
value may be, by the rule the report itself states. An attacker who knows exactly who each cell counts
subtracts every nested pair; no true small difference (1-4) may come out as one single possible value.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import random
from pathlib import Path
from typing import Any

import pytest
from report_facts import LABELS, fact

from moodle_sync.completions import report as report_module
from moodle_sync.errors import ConfigError
from moodle_sync.reports import COUNTY_NAMES, MEASURES, CompletionFact, qualifies
from moodle_sync.scope import Scope
from moodle_sync.store.db import StateStore

D = datetime.date
TODAY = D(2025, 2, 1)
ORGS = {"W": ["Falu kommun", "Mora kommun", "Region Dalarna"], "C": ["Uppsala kommun", "Region Uppsala"]}
#: every period form a caller might try; the ones the tool refuses are left out of the attack
PERIODS: dict[str | None, tuple[D, D] | None] = {
    None: None,
    "2024": (D(2024, 1, 1), D(2024, 12, 31)),
    "2024-Q4": (D(2024, 10, 1), D(2024, 12, 31)),
    "2024-12": (D(2024, 12, 1), D(2024, 12, 31)),
    "2024-11": (D(2024, 11, 1), D(2024, 11, 30)),
    "2024-01-01..2024-11-30": (D(2024, 1, 1), D(2024, 11, 30)),
    "2024-01-01..2024-12-31": (D(2024, 1, 1), D(2024, 12, 31)),
    "2024-10-01..2024-11-30": (D(2024, 10, 1), D(2024, 11, 30)),
}
BREAKDOWNS = [["county"], ["county", "organisation"], ["organisation"], ["county", "target_group"]]
SCOPES = [Scope(), Scope.hub("dalarna", "W")]
COUNTS = {m.title: m.key for m in MEASURES.values() if m.kind == "count"}
DIMENSIONS = {"Län": "county", "Organisation": "organisation", "Målgrupp": "target_group"}


def small_count_facts() -> list[CompletionFact]:
    """Two counties, a few organisations; completions every month of 2024, December's small (W: 2)."""
    rng = random.Random(14)
    facts: list[CompletionFact] = []
    person = itertools.count(1)
    for county, orgs in ORGS.items():
        for month in range(1, 13):
            n = 2 if month == 12 else rng.randint(0, 3)
            for _ in range(n):
                day = D(2024, month, rng.randint(1, 28))
                facts.append(fact(next(person), county=county, organisation=rng.choice(orgs),
                                  target_groups=(rng.choice(["soc", "bvc", "chef"]),),
                                  enrolled_since=day - datetime.timedelta(days=rng.randint(0, 40)),
                                  completed_on=day))
        for _ in range(8):  # enrolled, not completed
            facts.append(fact(next(person), county=county, organisation=rng.choice(orgs),
                              enrolled_since=D(2024, rng.randint(1, 12), 5)))
    return facts


Cell = tuple[frozenset[int], int, int]   # who, lowest and highest true value the published text allows


def published_cells(text: str, facts: list[CompletionFact], scope: Scope, span: tuple[D, D] | None) -> list[Cell]:
    rounded = "multipel av 3" in text   # the report's own statement of its rule
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    header, body = rows[0], rows[1:rows.index([])]
    names = {v: k for k, v in COUNTY_NAMES.items()}
    groups = {v: k for k, v in LABELS.target_groups.items()}
    cells: list[Cell] = []
    for row in body:
        where: dict[str, Any] = {}
        for title, value in zip(header, row, strict=True):
            if title in DIMENSIONS and row[0] != "Totalt":
                dim = DIMENSIONS[title]
                where[dim] = names.get(value) if dim == "county" else groups.get(value, value) \
                    if dim == "target_group" else value
        visible = [f for f in facts if (scope.county is None or f.county == scope.county)
                   and all((v in f.target_groups) if d == "target_group" else getattr(f, d) == v
                           for d, v in where.items())]
        for title, value in zip(header, row, strict=True):
            if title not in COUNTS or value == "..":
                continue
            who = frozenset(f.person for f in visible if qualifies(f, COUNTS[title], as_of=TODAY, period=span))
            if value.startswith("<"):
                limit = int(value[1:])
                lo, hi = (1, max(range(0, limit, 3)) + 2) if rounded else (1, limit - 1)
            else:
                shown = int(value.replace(" ", ""))
                lo, hi = (max(0, shown - 2), shown + 2) if rounded else (shown, shown)
            assert lo <= len(who) <= hi, f"the test's idea of who {title} counts is wrong: {row}"
            cells.append((who, lo, hi))
    return cells


def test_no_small_count_comes_out_of_subtracting_two_reports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    facts = small_count_facts()
    monkeypatch.setattr(report_module, "build_facts",
                        lambda specs, store, scope: [f for f in facts if scope.county in (None, f.county)])
    monkeypatch.setattr(report_module, "labels_for", lambda specs, scope: LABELS)
    store = StateStore(tmp_path / "state.db", moodle_url="https://moodle.example.se")
    cells: list[Cell] = []
    asked = 0
    for period, span in PERIODS.items():
        for dims, scope in itertools.product(BREAKDOWNS, SCOPES):
            try:
                text = report_module.make_report(None, store, scope=scope, preset=None,  # type: ignore[arg-type]
                                                 dimensions=dims, period=period, fmt="csv", out=None, today=TODAY)
            except ConfigError:
                continue
            asked += 1
            cells += published_cells(text or "", facts, scope, span)
    assert asked >= 20, "the attack needs reports to work on"

    # the same people may be published in several reports: an attacker takes the narrowest interval
    known: dict[frozenset[int], tuple[int, int]] = {}
    for who, lo, hi in cells:
        was = known.get(who, (lo, hi))
        known[who] = (max(was[0], lo), min(was[1], hi))
    recovered = []
    for (big, (big_lo, big_hi)), (small, (small_lo, small_hi)) in itertools.permutations(known.items(), 2):
        if not small < big or not 1 <= len(big - small) <= 4:
            continue
        lo, hi = max(0, big_lo - small_hi), big_hi - small_lo
        assert lo <= len(big - small) <= hi
        if lo == hi:
            recovered.append((len(big - small), sorted(big - small)))
    assert recovered == [], f"{len(recovered)} small counts recovered exactly by subtraction, e.g. {recovered[:3]}"
