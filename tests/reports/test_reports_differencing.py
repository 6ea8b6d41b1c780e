"""No small count is pinned by combining published reports: the year with its quarters and months, rows
with their totals, finer breakdowns with coarser ones, a hub's view with the national one.

For several generated data sets (few organisations; many organisations of one to three people, some
people in two target groups or course versions) the test asks for the reports the ``report`` command
offers, through the library functions ``completions/report.make_report`` calls: breakdowns by each
dimension, each pair and the finest combinations, for all time, the year, its four quarters and its
twelve months, as an admin and as a hub, and both presets. Every published count is read by the rule
the report's own note states (each count rounded on its own, or each count a sum of rounded groups),
and the attacker in ``attack.py``, told exactly who each cell counts (more than a reader knows: it
knows how any two cells overlap), propagates intervals over every sum there is. No cell with a true
count of 1..4 may come out as one single value, and no number may contradict the stated rule.
"""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import pytest
from attack import Pin, pinned_by_groups, pinned_per_cell
from report_facts import LABELS, fact

from moodle_sync.completions.report import parse_period
from moodle_sync.reports import (
    COUNTY_NAMES,
    DIMENSIONS,
    MEASURES,
    CompletionFact,
    Labels,
    Suppressed,
    Table,
    build_table,
    qualifies,
    redovisning,
    round_tables,
    uppfoljning,
)

D = datetime.date
TODAY = D(2025, 2, 1)
SECRET = b"linked set"
THRESHOLD = 5
PERIODS = [None, "2024", *(f"2024-Q{q}" for q in range(1, 5)), *(f"2024-{m:02d}" for m in range(1, 13))]
#: breakdowns the CLI offers (--by): each dimension, each pair, and the finest ones; county beside organisation
#: adds a column, not a cell (an organisation is in one county), and the finest cells hold every other
#: combination's sums
BREAKDOWNS = [*([d] for d in DIMENSIONS),
              *(list(c) for c in itertools.combinations(DIMENSIONS, 2) if set(c) != {"county", "organisation"}),
              ["county", "target_group", "course", "period"], ["organisation", "target_group", "course", "period"]]
#: a hub's cells are the national report's cells of its county: another number for the same people would
#: contradict the rule
HUB_BREAKDOWNS = [["organisation"], ["target_group", "course"], ["period"]]
HUB_PERIODS = [None, "2024", "2024-Q2", "2024-06"]
HUB = "W"
COURSES = [("vinr", 2, 2), ("vinr", 1, 2), ("hrv-soc", 1, 1)]    # key, major, current major
GROUPS = ["soc", "bvc", "chef"]
COUNT_TITLES = {m.title: m.key for m in MEASURES.values() if m.kind == "count"}
FAMILY = {"enrolled": "enrolment", "enrolled_tracked": "enrolment", "reached": "enrolment",
          "completed": "completion", "completed_current": "completion", "completed_superseded": "completion",
          "past_deadline": "deadline", "refresher_due": "refresher"}


# --- the data sets --------------------------------------------------------------------------------------

def _person(rng: random.Random, person: int, county: str, organisation: str, groups: tuple[str, ...],
            courses: int) -> list[CompletionFact]:
    """One person in ``courses`` course versions; most complete one of them some month of 2024."""
    facts = []
    for key, major, current in rng.sample(COURSES, courses):
        enrolled = D(2024, rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 0.8 else D(2023, 11, 3)
        completed = None
        if rng.random() < 0.7:
            completed = min(enrolled + datetime.timedelta(days=rng.randint(0, 90)), D(2024, 12, 31))
        deadline = enrolled + datetime.timedelta(days=60) if rng.random() < 0.5 else None
        refresher = completed + datetime.timedelta(days=rng.choice([20, 60])) if completed and rng.random() < 0.2 \
            else None
        facts.append(fact(person, county=county, organisation=organisation, target_groups=groups, course_key=key,
                          major=major, current_major=current, enrolled_since=enrolled, completed_on=completed,
                          deadline=deadline, refresher_due=refresher,
                          status="suspended" if rng.random() < 0.05 else "active"))
    return facts


def few_organisations(seed: int) -> list[CompletionFact]:
    """Two counties of three and two organisations, one target group and course version each person."""
    rng = random.Random(seed)
    facts: list[CompletionFact] = []
    for person in range(1, 90):
        county = rng.choice(["W", "C"])
        org = rng.choice(["Falu kommun", "Mora kommun", "Region Dalarna"] if county == "W"
                         else ["Uppsala kommun", "Region Uppsala"])
        facts += _person(rng, person, county, org, (rng.choice(GROUPS),), 1)
    return facts


def tiny_organisations(seed: int) -> list[CompletionFact]:
    """Three counties of many organisations with one to three people; some people in two target groups or
    two course versions."""
    rng = random.Random(seed)
    facts: list[CompletionFact] = []
    person = itertools.count(1)
    for county in ("W", "C", "AB"):
        for org in range(12):
            for _ in range(rng.randint(1, 3)):
                groups = tuple(rng.sample(GROUPS, 2 if rng.random() < 0.2 else 1))
                facts += _person(rng, next(person), county, f"Org {county}{org}", groups,
                                 2 if rng.random() < 0.25 else 1)
    return facts


DATA_SETS: dict[str, Callable[[], list[CompletionFact]]] = {
    "few organisations, seed 14": lambda: few_organisations(14),
    "tiny organisations, seed 1": lambda: tiny_organisations(1),
    "tiny organisations, seed 7": lambda: tiny_organisations(7),
}


# --- what a published cell counts and what its number says -------------------------------------------

def _day(f: CompletionFact, measure: str) -> D | None:
    family = FAMILY[measure]
    if family == "enrolment":
        days = [d for d in (f.enrolled_since, f.completed_on) if d is not None]
        return min(days) if days else None
    return {"completion": f.completed_on, "deadline": f.deadline, "refresher": f.refresher_due}[family]


def _values(f: CompletionFact, dim: str, measure: str) -> list[Any]:
    if dim == "target_group":
        return list(f.target_groups) or [None]
    if dim == "course":
        return [(f.course_key, f.major)]
    if dim == "period":
        day = _day(f, measure)
        return [None if day is None else f"{day:%Y-%m}"]
    return [getattr(f, dim)]


def _raw(dim: str, shown: Any, labels: Labels) -> Any:
    """The value a reader reads off a row (county and group names back to their keys)."""
    if dim == "county":
        return {v: k for k, v in COUNTY_NAMES.items()}.get(shown)
    if dim == "target_group":
        return {v: k for k, v in labels.target_groups.items()}.get(shown)
    if dim == "period":
        return None if shown == "Okänd månad" else shown
    return shown


class Rule:
    """What a published number says about the true count, as the report's own note states it."""

    def __init__(self, note: str) -> None:
        # "vart och ett för sig": each count rounded on its own, at most 2 off; it counts people.
        # Otherwise each count is the sum of its groups' rounded counts, and counts people per course version
        # (an enrolment), in groups of organisation, target groups, course version and month.
        self.per_cell = "vart och ett för sig" in note
        assert self.per_cell or ("summan av sina gruppers" in note and "kursversion och månad" in note), \
            f"the test does not know this rule: {note}"

    def element(self, f: CompletionFact, measure: str) -> Hashable:
        return f.person if self.per_cell else (FAMILY[measure], f.person, f.course_key, f.major)

    def pins(self, published: list[tuple[frozenset[Hashable], int]], facts: list[CompletionFact]) -> list[Pin]:
        if self.per_cell:
            return pinned_per_cell(published, below=THRESHOLD)
        group_of = {self.element(f, m): _group(f, m) for f in facts for m in FAMILY}
        return pinned_by_groups(published, group_of, below=THRESHOLD)


def _group(f: CompletionFact, measure: str) -> Hashable:
    """The group a fact is in for ``measure``, as the rounding note names them."""
    day = _day(f, measure)
    return (FAMILY[measure], f.county, f.organisation, tuple(sorted(set(f.target_groups))), f.course_key, f.major,
            None if day is None else f"{day:%Y-%m}")


class Qualifying:
    """The facts each measure counts in a period, indexed by a breakdown's values (computed once)."""

    def __init__(self, facts: list[CompletionFact], span: tuple[D, D] | None, rule: Rule) -> None:
        self.rule = rule
        self.facts = {m: [f for f in facts if qualifies(f, m, as_of=TODAY, period=span)] for m in FAMILY}
        self.index: dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], set[Hashable]]] = {}

    def who(self, measure: str, where: dict[str, Any]) -> frozenset[Hashable]:
        dims = tuple(sorted(where))
        index = self.index.get((measure, dims))
        if index is None:
            index = self.index[(measure, dims)] = {}
            for f in self.facts[measure]:
                for key in itertools.product(*(_values(f, d, measure) for d in dims)):
                    index.setdefault(key, set()).add(self.rule.element(f, measure))
        return frozenset(index.get(tuple(where[d] for d in dims), ()))


def table_cells(table: Table, qualifying: Qualifying, labels: Labels, *,
                measure: str | None = None) -> Iterator[tuple[frozenset[Hashable], Any]]:
    """Every published count of ``table`` with who it counts: a breakdown's columns are measures; a pivot
    (``measure`` given) has target groups for columns and a "total"."""
    dims = [c.key for c in table.dimension_columns if c.key != "version"]
    for i, row in enumerate([*table.rows, table.totals]):
        where: dict[str, Any] = {}
        if i < len(table.rows):
            for d in dims:
                where[d] = _raw(d, row[d], labels)
            if "course" in where:
                title = row["course"]
                where["course"] = (next((k for k, v in labels.courses.items() if v == title), title), row["version"])
        for column in table.columns:
            if column.kind != "count" or column.key not in row or row[column.key] is None:
                continue
            m = measure or COUNT_TITLES[column.title]
            extra = {}
            if measure and column.key.startswith("target_group:"):
                extra = {"target_group": None if column.key.endswith(":-") else column.key.split(":", 1)[1]}
            yield qualifying.who(m, {**where, **extra}), row[column.key]


def published(facts: list[CompletionFact]) -> tuple[list[tuple[frozenset[Hashable], int]], Rule, int]:
    """Every count of every report a caller can ask for, with who it counts and its value ("<5" is 3: the
    only published value below 5); the rule the reports state; how many reports were asked for."""
    national = Labels(counties=dict(COUNTY_NAMES), target_groups=LABELS.target_groups, courses=LABELS.courses)
    hub = Labels(counties={HUB: COUNTY_NAMES[HUB]}, target_groups=LABELS.target_groups, courses=LABELS.courses)
    scopes = [(facts, national), ([f for f in facts if f.county == HUB], hub)]
    probe = round_tables([build_table(facts, dimensions=["county"], as_of=TODAY, labels=national)],
                         secret=SECRET, threshold=THRESHOLD)[0]
    rule = Rule(" ".join(probe.notes))
    cells: dict[tuple[frozenset[Hashable], int], None] = {}
    asked = 0

    def add(table: Table, qualifying: Qualifying, labels: Labels, measure: str | None = None) -> None:
        for who, shown in table_cells(table, qualifying, labels, measure=measure):
            cells[(who, 3 if isinstance(shown, Suppressed) else shown)] = None

    for (visible, labels), period in itertools.product(scopes, PERIODS):
        if labels is hub and period not in HUB_PERIODS:
            continue
        span = parse_period(period)
        qualifying = Qualifying(visible, span, rule)
        for dims in BREAKDOWNS if labels is national else HUB_BREAKDOWNS:
            table = build_table(visible, dimensions=dims, as_of=TODAY, period=span, labels=labels)
            add(round_tables([table], secret=SECRET, threshold=THRESHOLD)[0], qualifying, labels)
            asked += 1
        if period in HUB_PERIODS:  # its tables are breakdowns by county, target group and month: the same cells
            for table in uppfoljning(visible, labels=labels, as_of=TODAY, period=span, secret=SECRET).tables:
                add(table, qualifying, labels)
            asked += 1
        if period == "2024":
            for table in redovisning(visible, year=2024, labels=labels, as_of=TODAY, secret=SECRET).tables:
                measure = "reached" if table.title.startswith("Nådda") else "completed"
                title, version = table.title.split(" – ", 1)[1].rsplit(", version ", 1)
                key = next(k for k, v in labels.courses.items() if v == title)
                subset = [f for f in visible if (f.course_key, f.major) == (key, int(version.split()[0]))]
                add(table, Qualifying(subset, span, rule), labels, measure=measure)
            asked += 1
    return list(cells), rule, asked


@pytest.mark.parametrize("name", DATA_SETS)
def test_no_small_count_is_pinned_by_any_combination_of_reports(name: str) -> None:
    facts = DATA_SETS[name]()
    cells, rule, asked = published(facts)
    assert asked > 300, "the attack needs every report to work on"
    small = {who for who, _ in cells if 1 <= len(who) < THRESHOLD}
    assert len(small) > 300, "the data set must publish small counts for the attack to try"
    pins = rule.pins(cells, facts)
    assert pins == [], (f"{len(pins)} of {len(small)} published cells with a true count of 1-4 are pinned to "
                        f"their value by combining reports, e.g. {[(p.truth, p.bounds) for p in pins[:3]]}")
