"""Suppression: small counts hidden, and enough other cells that none can be worked out from sums."""

from __future__ import annotations

import datetime
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_checks import derivable_by_subtraction, grid_table, hidden_cells, pinned_by_combining
from report_facts import AS_OF, LABELS, done, many

from moodle_sync.errors import ConfigError
from moodle_sync.reports import TOTALS, Column, Relation, Suppressed, Table, build_pivot, build_table, suppress
from moodle_sync.reports.suppress import suppress_together

D = datetime.date
NOTE = "Värden 1–4 visas som <5; ytterligare celler är dolda så att de inte kan räknas fram ur summor."


def one_column(values: list[int]) -> Table:
    columns = [Column("county", "Län", "dimension"), Column("n", "Antal", "count")]
    rows: list[dict[str, object]] = [{"county": f"L{i}", "n": v} for i, v in enumerate(values)]
    return Table(columns=columns, rows=rows, totals={"n": sum(values)},
                 relations=[Relation((TOTALS, "n"), tuple((i, "n") for i in range(len(values))))])


def test_small_counts_are_primary_and_zeros_and_five_are_shown() -> None:
    table = suppress(one_column([0, 1, 4, 5, 12]))
    shown = [r["n"] for r in table.rows]
    assert shown[0] == 0 and shown[3] == 5 and shown[4] == 12
    assert shown[1] == Suppressed(primary=True) and shown[2] == Suppressed(primary=True)
    assert str(shown[1]) == "<5"
    assert table.primary_cells == {(1, "n"), (2, "n")}
    assert table.secondary_cells == set()
    assert table.totals["n"] == 22


def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    table = suppress(one_column([3, 10, 12, 0]))
    assert table.primary_cells == {(0, "n")}
    assert table.secondary_cells == {(1, "n")}          # 10, the smallest non-zero shown cell
    assert str(table.rows[1]["n"]) == ".."
    assert table.rows[3]["n"] == 0                       # a zero is never hidden
    assert table.totals["n"] == 25
    assert derivable_by_subtraction(table) == []


def test_the_total_is_hidden_when_no_other_part_can_be() -> None:
    # parts 3 and 0 with total 6: only the total is left to hide (sums over people counted per row
    # need not be exact)
    columns = [Column("x", "X", "dimension"), Column("a", "A", "count"), Column("b", "B", "count"),
               Column("t", "T", "count")]
    table = Table(columns=columns, rows=[{"x": "r", "a": 3, "b": 0, "t": 6}], totals={},
                  relations=[Relation((0, "t"), ((0, "a"), (0, "b")))])
    out = suppress(table)
    assert out.primary_cells == {(0, "a")}
    assert out.secondary_cells == {(0, "t")} and out.rows[0]["b"] == 0


def test_completed_breakdown_and_rates_are_protected() -> None:
    # current 3 (small) + superseded 9 = completed 12: superseded must go, and the rates built on hidden counts
    facts = many(1, 3, completed_on=D(2024, 2, 1)) + many(10, 9, completed_on=D(2024, 2, 1), major=1) \
        + many(30, 20)
    table = suppress(build_table(facts, dimensions=["county"], as_of=AS_OF))
    row = table.rows[0]
    assert row["completed_current"] == Suppressed(primary=True)
    assert row["completed_superseded"] == Suppressed(primary=False)
    assert row["completed"] == 12 and row["enrolled"] == 32
    assert row["completion_rate"] == pytest.approx(12 / 32)
    assert derivable_by_subtraction(table) == []


def test_a_rate_from_a_hidden_count_is_hidden() -> None:
    facts = many(1, 2, completed_on=D(2024, 2, 1)) + many(10, 20) + many(40, 30, county="C", completed_on=D(2024, 3, 1))
    table = suppress(build_table(facts, dimensions=["county"], as_of=AS_OF))
    w = next(r for r in table.rows if r["county"] == "Dalarnas län")
    assert w["completed"] == Suppressed(primary=True)
    assert w["completion_rate"] == Suppressed(primary=False)
    assert str(w["completion_rate"]) == ".."
    assert (table.rows.index(w), "completion_rate") in table.suppressed


def test_the_note_states_the_rule_and_the_input_is_left_alone() -> None:
    original = one_column([2, 10, 10])
    table = suppress(original)
    assert NOTE in " ".join(table.notes)
    assert original.rows[0]["n"] == 2 and original.suppressed == {} and original.threshold is None
    assert table.threshold == 5
    with pytest.raises(ValueError, match="already suppressed"):
        suppress(table)


@pytest.mark.parametrize(("threshold", "hidden", "marker"), [
    (2, [1], "<2"),
    (3, [1, 2], "<3"),
    (5, [1, 2, 3, 4], "<5"),
    (10, [1, 2, 3, 4, 5, 6, 7, 8, 9], "<10"),
])
def test_threshold_is_configurable(threshold: int, hidden: list[int], marker: str) -> None:
    values = list(range(0, 12))
    table = suppress(one_column(values), threshold=threshold)
    primary = sorted(values[r] for r, _ in table.primary_cells)
    assert primary == hidden
    assert {str(table.rows[r]["n"]) for r, _ in table.primary_cells} == {marker}
    assert derivable_by_subtraction(table) == []
    assert any(f"som <{threshold};" in n for n in table.notes)


@pytest.mark.parametrize("threshold", [1, 0, -5])
def test_threshold_below_two_is_refused(threshold: int) -> None:
    with pytest.raises(ConfigError):
        suppress(one_column([1, 2]), threshold=threshold)


def test_2d_grid_with_a_single_small_cell_hides_a_rectangle() -> None:
    original = grid_table([[3, 10, 12], [8, 9, 20], [15, 7, 11]])
    table = suppress(original)
    assert table.primary_cells == {(0, "c0")}
    hidden = hidden_cells(table)
    assert len(hidden) >= 4        # a small cell in a 2-D table needs at least a 2×2 rectangle
    assert derivable_by_subtraction(table) == []
    assert pinned_by_combining(table) == set()


BRIDGED = [[9, 3, 9], [0, 0, 3], [0, 3, 12]]


def test_cells_pinned_by_combining_rows_and_columns_are_protected_too() -> None:
    table = suppress(grid_table(BRIDGED))
    assert derivable_by_subtraction(table) == []
    assert pinned_by_combining(table) == set()


def test_the_cell_by_cell_rule_alone_would_leave_a_cell_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    # why the elimination step exists: with it switched off, every row and column has two hidden
    # cells, yet adding and subtracting rows and columns pins one of them down
    monkeypatch.setattr(sys.modules["moodle_sync.reports.suppress"], "_determined", lambda hidden, relations: ([], {}))
    table = suppress(grid_table(BRIDGED))
    assert derivable_by_subtraction(table) == []
    assert pinned_by_combining(table)


def test_tables_suppressed_together_hide_a_shared_total_in_both() -> None:
    a = one_column([3, 0, 0, 30])       # 3 is hidden, so its partner 30 too; the total 33 is left shown
    b = one_column([33])
    b.rows[0]["n"] = 33
    left, right = suppress_together([a, b], links=[((0, TOTALS, "n"), (1, TOTALS, "n"))])
    assert left.totals["n"] == 33 and right.totals["n"] == 33
    # now hide a's total by making it the only thing left to protect a lone small cell
    c = Table(columns=a.columns, rows=[{"county": "x", "n": 3}, {"county": "y", "n": 0}], totals={"n": 6},
              relations=[Relation((TOTALS, "n"), ((0, "n"), (1, "n")))])
    d = one_column([6])
    left, right = suppress_together([c, d], links=[((0, TOTALS, "n"), (1, TOTALS, "n"))])
    assert left.totals["n"] == Suppressed(primary=False)
    assert isinstance(right.totals["n"], Suppressed), "the same number shown in another table gives it away"


# --- property-based: random small tables ------------------------------------------------------------

grids = st.integers(2, 4).flatmap(
    lambda cols: st.lists(st.lists(st.integers(0, 14), min_size=cols, max_size=cols), min_size=2, max_size=4))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids, st.sampled_from([2, 3, 5]))
def test_random_grids_leave_nothing_derivable(values: list[list[int]], threshold: int) -> None:
    original = grid_table(values)
    table = suppress(original, threshold=threshold)
    hidden = hidden_cells(table)
    for ref in [(i, c.key) for i in [*range(len(original.rows)), TOTALS] for c in original.columns
                if c.kind == "count"]:
        value = original.cell(ref)
        if 0 < value < threshold:
            assert table.cell(ref) == Suppressed(primary=True, threshold=threshold)
        elif ref in hidden:
            assert value > 0 and table.cell(ref) == Suppressed(primary=False, threshold=threshold)
        else:
            assert table.cell(ref) == value        # shown cells are unchanged, zeros always shown
    assert derivable_by_subtraction(table) == []
    assert pinned_by_combining(table) == set()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["AB", "C", "W"]),
                          st.lists(st.sampled_from(["soc", "bvc", "chef"]), min_size=1, max_size=2, unique=True)),
                max_size=40))
def test_random_county_by_target_group_pivots_leave_nothing_derivable(people: list[tuple[str, list[str]]]) -> None:
    facts = [done(i, D(2024, 3, 1), county=c, target_groups=tuple(g)) for i, (c, g) in enumerate(people)]
    table = suppress(build_pivot(facts, measure="completed", as_of=AS_OF, labels=LABELS))
    assert derivable_by_subtraction(table) == []
    pinned = pinned_by_combining(table)
    assert pinned is None or pinned == set()
    for ref in table.primary_cells:
        assert str(table.cell(ref)) == "<5"


def test_a_realistic_pivot_is_fast_and_protected() -> None:
    import random
    import time

    rng = random.Random(7)
    counties = ["AB", "C", "D", "E", "F", "G", "H", "I", "K", "M", "N", "O", "S", "T", "U", "W", "X", "Y", "Z"]
    facts = [done(i, D(2024, 1, 1) + datetime.timedelta(days=rng.randrange(300)), county=rng.choice(counties),
                  target_groups=tuple(rng.sample(["soc", "bvc", "chef"], rng.choice([1, 1, 2]))))
             for i in range(400)]
    started = time.perf_counter()
    table = suppress(build_pivot(facts, measure="completed", as_of=AS_OF, labels=LABELS))
    assert time.perf_counter() - started < 5
    assert table.primary_cells
    assert derivable_by_subtraction(table) == []
    assert pinned_by_combining(table, max_hidden=80) == set()


def test_dimension_margins_of_a_long_table_are_protected() -> None:
    # county × target group in long form: W's rows add up to W's total, which a per-county table may show
    facts = many(1, 3, target_groups=("soc",)) + many(10, 12, target_groups=("bvc",)) \
        + many(30, 20, county="C", target_groups=("soc",)) + many(60, 25, county="C", target_groups=("bvc",))
    table = suppress(build_table(facts, dimensions=["county", "target_group"], as_of=AS_OF,
                                 measures=("enrolled",), labels=LABELS))
    cells = {(r["county"][:2], r["target_group"][:3]): r["enrolled"] for r in table.rows}
    assert cells[("Da", "Soc")] == Suppressed(primary=True)
    assert cells[("Up", "Soc")] == Suppressed(primary=False)     # the soc column
    assert cells[("Da", "Möd")] == Suppressed(primary=False)     # W's rows
    assert cells[("Up", "Möd")] == Suppressed(primary=False)     # C's rows, else C's margin minus it gives C-soc
    assert table.totals["enrolled"] == 60
    assert derivable_by_subtraction(table) == []
