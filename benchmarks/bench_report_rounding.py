"""Benchmark: how far published report figures are from the truth when every count is a sum of rounded groups.

A national year on invented but realistically shaped data: 25 000 completions in 2026 over the 21 counties
(people in proportion to population), the 290 municipalities and 21 regions as organisations (sizes skewed
within a county), 11 target groups (each person in two, some in three, as bench_national.py's rosters),
6 course versions, completions spread over the 12 months, plus enrolments not completed.

For the ministry's account (redovisning: per course version, county × target group, "Genomförda" in the
year) and the year's national and county totals it prints the error the rounding introduces:

- per cell, rounded on its own (the rule before groups): at most 2 off, RMS √2 for a count not a multiple of 3;
- as the sum of its groups' rounded counts (organisation × target groups × course version × month, the rule
  now): the expected RMS error, exact from the groups' sizes, and the largest error seen over ``--secrets``
  site secrets.

Usage: python benchmarks/bench_report_rounding.py [--completions 25000] [--secrets 10] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime
import math
import random
import statistics
import time
from collections.abc import Sequence

from moodle_sync.counties import COUNTIES
from moodle_sync.reports import TOTALS, CompletionFact, Labels, Table, build_pivot, build_table, round_tables

D = datetime.date
YEAR = (D(2026, 1, 1), D(2026, 12, 31))
#: people (thousands, 2023) and municipalities per county, in the official order
COUNTY_SHAPE = {"AB": (2454, 26), "C": (403, 8), "D": (303, 9), "E": (470, 13), "F": (368, 13), "G": (203, 8),
                "H": (247, 12), "I": (61, 1), "K": (159, 5), "M": (1422, 33), "N": (344, 6), "O": (1763, 49),
                "S": (283, 16), "T": (309, 12), "U": (279, 10), "W": (288, 15), "X": (288, 10), "Y": (243, 7),
                "Z": (132, 8), "AC": (278, 15), "BD": (250, 14)}
GROUPS = [f"tg{i}" for i in range(11)]
VERSIONS = [("vinr", 2, 2), ("vinr", 1, 2), ("hrv-soc", 1, 1), ("hrv-bvc", 1, 1), ("skydd", 3, 3), ("chef", 1, 1)]


def make_facts(completions: int, seed: int) -> list[CompletionFact]:
    rng = random.Random(seed)
    assert set(COUNTY_SHAPE) == set(COUNTIES)
    orgs: list[tuple[str, str]] = []
    weights: list[float] = []
    for county, (people, municipalities) in COUNTY_SHAPE.items():
        sizes = [rng.paretovariate(1.2) for _ in range(municipalities)]
        for i, size in enumerate(sizes):
            orgs.append((county, f"Kommun {county}{i}"))
            weights.append(people * 0.7 * size / sum(sizes))
        orgs.append((county, f"Region {county}"))
        weights.append(people * 0.3)
    facts: list[CompletionFact] = []
    person = 0
    # enrolments: about 1.6 course versions per person; 25 000 of them completed in 2026, 15 000 not
    wanted = completions + completions * 3 // 5
    while len(facts) < wanted:
        person += 1
        county, org = rng.choices(orgs, weights)[0]
        groups = tuple(sorted(rng.sample(GROUPS, 3 if rng.random() < 0.4 else 2)))
        for key, major, current in rng.sample(VERSIONS, rng.choice([1, 1, 2, 2, 3])):
            done = D(2026, rng.randint(1, 12), rng.randint(1, 28)) if rng.random() < 5 / 8 else None
            enrolled = (done or D(2026, rng.randint(1, 12), 1)) - datetime.timedelta(days=rng.randint(0, 90))
            facts.append(CompletionFact(
                person=person, county=county, target_groups=groups, organisation=org, course_key=key, major=major,
                current_major=current, enrolled_since=enrolled, completed_on=done,
                completed_source="criteria" if done else None, status="active", deadline=None, refresher_due=None))
    return facts


def group_rms(table: Table, ref: tuple[int, str]) -> float:
    """The expected RMS error of a cell published as the sum of its groups' rounded counts (exact)."""
    return math.sqrt(sum(2 for size, _ in table.counted[ref] if size % 3))


def cell_rms(true: int) -> float:
    return math.sqrt(2) if true % 3 else 0.0


def report(name: str, refs: Sequence[tuple[Table, tuple[int, str]]], rounded: Sequence[list[Table]],
           index: dict[int, int]) -> None:
    """One line: cells, median true count, RMS error before (per cell) and now (groups), largest seen."""
    trues = [table.cell(ref) for table, ref in refs]
    now = math.sqrt(statistics.mean(group_rms(table, ref) ** 2 for table, ref in refs))
    before = math.sqrt(statistics.mean(cell_rms(t) ** 2 for t in trues))
    seen = max(abs(tables[index[id(table)]].cell(ref) - table.cell(ref))
               for tables in rounded for table, ref in refs)
    rel = statistics.median(group_rms(table, ref) / table.cell(ref) for table, ref in refs if table.cell(ref))
    print(f"{name:42} {len(refs):5} {statistics.median(trues):8.0f} {before:7.2f} {now:8.1f} {rel:8.1%} {seen:7}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--completions", type=int, default=25000)
    ap.add_argument("--secrets", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    facts = make_facts(args.completions, args.seed)
    labels = Labels(target_groups={g: g for g in GROUPS})
    as_of = D(2027, 1, 15)
    versions = sorted({(f.course_key, f.major) for f in facts})
    started = time.perf_counter()
    pivots = [build_pivot([f for f in facts if (f.course_key, f.major) == v], rows="county", columns="target_group",
                          measure="completed", as_of=as_of, period=YEAR, labels=labels) for v in versions]
    by_county = build_table(facts, dimensions=["county"], measures=("enrolled", "completed"), as_of=as_of,
                            period=YEAR, labels=labels)
    built = time.perf_counter() - started
    tables = [*pivots, by_county]
    index = {id(t): i for i, t in enumerate(tables)}
    started = time.perf_counter()
    # threshold 2 marks nothing "<N" (published counts are multiples of 3): every published number is seen
    rounded = [round_tables(tables, secret=f"site {n}".encode(), threshold=2) for n in range(args.secrets)]
    per_round = (time.perf_counter() - started) / args.secrets
    completed = sum(1 for f in facts if f.completed_on)
    groups = len({p for parts in by_county.counted.values() for p in parts})
    print(f"{len(facts)} enrolments of {len({f.person for f in facts})} people, {completed} completed in 2026; "
          f"{len({f.organisation for f in facts})} organisations, {len(versions)} course versions; "
          f"{groups} groups in the year's county table")
    print(f"built the ministry's pivots and the county table in {built:.1f} s, rounded them in {per_round:.2f} s")
    print(f"\n{'cells (measure: completed in 2026)':42} {'cells':>5} {'median':>8} {'before':>7} {'now':>8} "
          f"{'now/true':>8} {'max now':>7}")
    print(f"{'':42} {'':5} {'true':>8} {'RMS':>7} {'RMS':>8} {'median':>8} {'seen':>7}")
    corner = [(t, (TOTALS, "total")) for t in pivots]
    report("national, per course version", corner, rounded, index)
    report("county, per course version", [(t, (i, "total")) for t in pivots for i in range(len(t.rows))],
           rounded, index)
    report("county × target group, per course version",
           [(t, (i, c.key)) for t in pivots for i in range(len(t.rows)) for c in t.columns if c.kind == "count"
            and c.key != "total"], rounded, index)
    report("national × target group, per course version",
           [(t, (TOTALS, c.key)) for t in pivots for c in t.columns if c.kind == "count" and c.key != "total"],
           rounded, index)
    report("national, all course versions", [(by_county, (TOTALS, "completed"))], rounded, index)
    report("county, all course versions", [(by_county, (i, "completed")) for i in range(len(by_county.rows))],
           rounded, index)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
