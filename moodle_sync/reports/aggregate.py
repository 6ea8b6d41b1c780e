"""Aggregation: completion facts → a :class:`Table` of people counted per group, or a cross-table of one measure.

Every measure counts people per course version (a fact: one person enrolled in one major version), and
every count is the sum of whole groups of :mod:`.groups`, the one split of the facts all reports share:
a person in two target groups counts in each group's row but once in the total; a person in two course
versions counts once in each version, and twice in a row that spans both. Each count keeps the groups it
sums (for :mod:`.rounding`). What counts is in :mod:`.measures`, the grouping values and their
order in :mod:`.dimensions`, the words in :mod:`.notes`. Pure: no I/O.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from itertools import product
from typing import Any

from moodle_sync.errors import ConfigError
from moodle_sync.reports.dimensions import (
    DIMENSION_COLUMNS,
    DIMENSION_NOUNS,
    DIMENSIONS,
    PIVOT_DIMENSIONS,
    all_values,
    check_dimensions,
    display_cells,
    display_text,
    month_range,
    order_key,
    pivot_key,
    swedish_key,
)
from moodle_sync.reports.groups import FAMILY, Group, counts_for, group_facts, group_key, group_values, period_months
from moodle_sync.reports.measures import (
    COMPLETION_MEASURES,
    DEFAULT_MEASURES,
    MEASURES,
    TRACKED,
    Context,
    Period,
    check_measures,
    event,
    make_context,
    measure_cells,
    measure_column,
)
from moodle_sync.reports.model import CompletionFact, Labels
from moodle_sync.reports.notes import table_notes, table_title
from moodle_sync.reports.table import TOTALS, CellRef, Column, Part, Table

__all__ = ["build_pivot", "build_table"]


def build_table(
    facts: Iterable[CompletionFact],
    *,
    dimensions: Sequence[str],
    as_of: datetime.date,
    period: Period | None = None,
    labels: Labels | None = None,
    measures: Sequence[str] = DEFAULT_MEASURES,
    title: str | None = None,
) -> Table:
    """Count people per group of ``dimensions``.

    Measures (each counts people per course version in the row):

    - ``enrolled``: an active or suspended enrolment; with a period, enrolled on or before its end.
    - ``enrolled_tracked``: ``enrolled`` in course versions whose completion Moodle tracks (the rate's
      denominator).
    - ``reached``: enrolled within the period (the same as ``enrolled`` without one).
    - ``completed``: completed (within the period, if given); ``completed_current`` /
      ``completed_superseded`` split it by whether the version is the course's current major.
    - ``completion_rate``: completed / enrolled_tracked, 0..1, None when nobody is.
    - ``past_deadline``: active, not completed by ``as_of``, deadline before ``as_of``.
    - ``refresher_due``: active, refresher due on or before ``as_of``.

    A missing enrolment date is taken from the completion date (one cannot complete before enrolling);
    without either, the enrolment counts only when no period is given. ``past_deadline`` and
    ``refresher_due`` describe the state on ``as_of`` and ignore the period. In a row whose people are all
    in course versions where Moodle tracks no completion, the completion measures are None ("–"), not 0.

    With the "period" dimension each measure is placed in the month of its own date: enrolment for
    enrolled/reached, completion for the completed measures, deadline and refresher date for the others.

    Args:
        facts: one fact per person and course version.
        dimensions: any of :data:`DIMENSIONS`, in column order; "course" gives two columns, Kurs and Version.
        as_of: the day the report describes (deadlines and refreshers are judged against it).
        period: (first day, last day), both included.
        labels: display names; county names default to the official ones.
        measures: any of :data:`MEASURES`; ``completion_rate`` needs ``enrolled`` and ``completed``.
        title: the table's title; a Swedish one is made from the dimensions when None.

    Returns:
        A table sorted by the dimensions (counties in the official order AB, C, D … BD) with a totals
        row, the groups each count sums (for rounding) and Swedish notes on what was counted.

    Raises:
        ConfigError: an unknown or repeated dimension or measure, or a period that ends before it starts or
            is not whole calendar months.
    """
    dims = check_dimensions(dimensions, DIMENSIONS)
    counted = check_measures(measures)
    ctx = make_context(as_of, period)
    labels = labels or Labels()

    # "enrolled" and its tracked part are always counted: the rate's denominator, and whether a row is tracked
    collected = list(dict.fromkeys([*counted, "enrolled", TRACKED]))
    facts = list(facts)
    untracked = {labels.course(f.course_key) for f in facts if not f.tracked}
    approximate = "completed" in collected and any(
        f.completed_source == "first_seen" and event(f, "completed", ctx)[0] for f in facts)
    cells: dict[tuple[Any, ...], dict[str, list[Part]]] = {}
    totals: dict[str, list[Part]] = {m: [] for m in collected}
    months = period_months(ctx.period)
    for group, part in _parts(facts, ctx).items():
        for measure in (m for m in collected if FAMILY[m] == group.family):
            if not counts_for(group, measure, months):
                continue
            totals[measure].append(part)
            for key in product(*(group_values(group, d) for d in dims)) if dims else ():
                cells.setdefault(key, {}).setdefault(measure, []).append(part)

    if list(dims) == ["period"]:
        for month in month_range([k[0] for k in cells if k[0] is not None], ctx.period):
            cells.setdefault((month,), {})

    keys = sorted(cells, key=lambda k: tuple(order_key(d, v, labels) for d, v in zip(dims, k, strict=True)))
    columns = [c for d in dims for c in DIMENSION_COLUMNS[d]] + [measure_column(m, measures) for m in measures]
    rows: list[dict[str, Any]] = []
    who: dict[CellRef, tuple[Part, ...]] = {}
    for i, key in enumerate(keys):
        row: dict[str, Any] = {}
        for dim, value in zip(dims, key, strict=True):
            row.update(display_cells(dim, value, labels))
        row.update(measure_cells(measures, {m: _count(cells[key].get(m, ())) for m in collected}))
        rows.append(row)
        who.update(_who(i, cells[key], counted))
        _dash_untracked(row, i, cells[key], who)
    total_row = measure_cells(measures, {m: _count(parts) for m, parts in totals.items()})
    who.update(_who(TOTALS, totals, counted))
    _dash_untracked(total_row, TOTALS, totals, who)
    dashed = any(v is None for r in [*rows, total_row] for k, v in r.items() if k in COMPLETION_MEASURES)

    return Table(
        columns=columns,
        rows=rows,
        totals=total_row,
        notes=table_notes(dims, measures, ctx, approximate, untracked=sorted(untracked, key=swedish_key),
                          dashed=dashed),
        title=title if title is not None else table_title(dims),
        counted=who,
    )


def build_pivot(
    facts: Iterable[CompletionFact],
    *,
    rows: str = "county",
    columns: str = "target_group",
    measure: str = "completed",
    as_of: datetime.date,
    period: Period | None = None,
    labels: Labels | None = None,
    title: str | None = None,
) -> Table:
    """Cross-tabulate one measure: ``rows`` × ``columns`` with a "Totalt" column and a totals row.

    Counties and target groups are listed in full (every county ``labels`` names – the caller's scope –
    or all 21 when it names none, and every labelled target group) so that tables for different
    courses line up; empty cells show 0. Column keys are ``"<dim>:<key>"``
    (``"target_group:soc"``, ``"-"`` for none) and ``"total"``. The margins count a person in several
    target groups once (and, as every count does, a person once per course version).

    Raises:
        ConfigError: an unknown dimension (see :data:`PIVOT_DIMENSIONS`), a rate or unknown measure,
            the same dimension twice, or a period that ends before it starts or is not whole months.
    """
    row_dim, col_dim = check_dimensions([rows, columns], PIVOT_DIMENSIONS)
    if measure not in MEASURES or MEASURES[measure].kind != "count":
        counts = ", ".join(m for m, spec in MEASURES.items() if spec.kind == "count")
        raise ConfigError(f"a pivot needs a count measure, not {measure!r}", key="measure",
                          hint=f"use one of: {counts}")
    ctx = make_context(as_of, period)
    labels = labels or Labels()

    facts = list(facts)
    seen_any, seen_tracked = bool(facts), any(f.tracked for f in facts)
    untracked = {labels.course(f.course_key) for f in facts if not f.tracked}
    approximate = measure.startswith("completed") and any(
        f.completed_source == "first_seen" and event(f, measure, ctx)[0] for f in facts)
    everyone: list[Part] = []
    by_row: dict[Any, list[Part]] = {}
    by_col: dict[Any, list[Part]] = {}
    cells: dict[tuple[Any, Any], list[Part]] = {}
    months = period_months(ctx.period)
    for group, part in _parts(facts, ctx).items():
        if not counts_for(group, measure, months):
            continue
        everyone.append(part)
        row_values = group_values(group, row_dim)
        col_values = group_values(group, col_dim)
        for rv in row_values:
            by_row.setdefault(rv, []).append(part)
        for cv in col_values:
            by_col.setdefault(cv, []).append(part)
        for rv, cv in product(row_values, col_values):
            cells.setdefault((rv, cv), []).append(part)

    row_values_all = all_values(row_dim, by_row, labels, ctx.period)
    col_values_all = all_values(col_dim, by_col, labels, ctx.period)
    col_keys = [pivot_key(col_dim, cv) for cv in col_values_all]

    # the corner heading names both dimensions ("Län \\ Målgrupp"), as statistical cross-tables do:
    # the column headings are values (target-group names) and need their dimension named somewhere
    (row_column,) = DIMENSION_COLUMNS[row_dim]
    col_title = DIMENSION_COLUMNS[col_dim][0].title
    table_columns = [Column(row_column.key, f"{row_column.title} \\ {col_title}", "dimension")]
    table_columns += [Column(k, display_text(col_dim, cv, labels), "count")
                      for k, cv in zip(col_keys, col_values_all, strict=True)]
    table_columns.append(Column("total", "Totalt", "count"))

    table_rows: list[dict[str, Any]] = []
    who: dict[CellRef, tuple[Part, ...]] = {}
    for i, rv in enumerate(row_values_all):
        row: dict[str, Any] = dict(display_cells(row_dim, rv, labels))
        for key, cv in zip(col_keys, col_values_all, strict=True):
            who[(i, key)] = tuple(cells.get((rv, cv), ()))
            row[key] = _count(who[(i, key)])
        who[(i, "total")] = tuple(by_row.get(rv, ()))
        row["total"] = _count(who[(i, "total")])
        table_rows.append(row)
    who.update({(TOTALS, key): tuple(by_col.get(cv, ())) for key, cv in zip(col_keys, col_values_all, strict=True)})
    who[(TOTALS, "total")] = tuple(everyone)
    totals: dict[str, Any] = {key: _count(who[(TOTALS, key)]) for key in [*col_keys, "total"]}

    dashed = measure in COMPLETION_MEASURES and seen_any and not seen_tracked and not everyone
    if dashed:  # Moodle tracks completion for none of these people: nothing to count, not zero
        for row in table_rows:
            row.update({k: None for k in [*col_keys, "total"]})
        totals = {k: None for k in totals}
        who = {}
    notes = table_notes((row_dim, col_dim), (measure,), ctx, approximate, pivot=True, dashed=dashed,
                   untracked=() if measure in ("enrolled", "reached") else sorted(untracked, key=swedish_key))
    return Table(
        columns=table_columns,
        rows=table_rows,
        totals=totals,
        notes=notes,
        title=title if title is not None else
        f"{MEASURES[measure].title} per {DIMENSION_NOUNS[row_dim]} och {DIMENSION_NOUNS[col_dim]}",
        counted=who,
    )


def _parts(facts: Sequence[CompletionFact], ctx: Context) -> dict[Group, Part]:
    """Every group of the facts (.groups) as a part a cell can hold: how many it holds, and its rounding key."""
    return {group: (len(people), group_key(group, people)) for group, people in group_facts(facts, ctx.as_of).items()}


def _count(parts: Iterable[Part]) -> int:
    return sum(n for n, _ in parts)


def _dash_untracked(row: dict[str, Any], index: int, parts: Mapping[str, Sequence[Part]],
                    who: dict[CellRef, tuple[Part, ...]]) -> None:
    """Completion measures of a row whose people are all where Moodle tracks no completion become None ("–")."""
    if not parts.get("enrolled") or parts.get(TRACKED) or any(parts.get(m) for m in COMPLETION_MEASURES):
        return
    for key in COMPLETION_MEASURES:
        if key in row:
            row[key] = None
            who.pop((index, key), None)


def _who(row: int, parts: Mapping[str, Sequence[Part]], counted: Sequence[str]) -> dict[CellRef, tuple[Part, ...]]:
    """The groups each count of one row sums (the rate's denominator: people where completion is tracked)."""
    who = {(row, m): tuple(parts.get(m, ())) for m in counted}
    who[(row, "completion_rate:denominator")] = tuple(parts.get(TRACKED, ()))
    return who

