"""Chart data taken from table cells, so a chart never shows a number its (rounded) table hides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from moodle_sync.reports.table import Chart, ChartPoint, Suppressed, Table

__all__ = ["chart_from_table", "chart_from_totals", "informative"]


def chart_from_table(
    table: Table,
    *,
    label: str,
    value: str,
    title: str | None = None,
    kind: Literal["hbar", "columns"] = "hbar",
) -> Chart:
    """One point per row: the row's ``label`` column against its ``value`` column (count or rate)."""
    column = table.column(value)
    points = tuple(ChartPoint(str(row.get(label, "")), _value(row.get(value))) for row in table.rows)
    return Chart(title=title or f"{column.title} per {table.column(label).title.lower()}", kind=kind,
                 unit="rate" if column.kind == "rate" else "count", points=points)


def chart_from_totals(
    table: Table,
    *,
    keys: Sequence[str] | None = None,
    title: str,
    kind: Literal["hbar", "columns"] = "hbar",
) -> Chart:
    """One point per column of the totals row (e.g. each target group of a pivot), labelled by its title."""
    columns = [c for c in table.columns if c.kind == "count" and (keys is None or c.key in keys)]
    unit: Literal["count", "rate"] = "count"
    if keys is not None:
        columns = [table.column(k) for k in keys]
        if columns and all(c.kind == "rate" for c in columns):
            unit = "rate"
    points = tuple(ChartPoint(c.title, _value(table.totals.get(c.key))) for c in columns)
    return Chart(title=title, kind=kind, unit=unit, points=points)


def _value(cell: object) -> int | float | Suppressed | None:
    if isinstance(cell, Suppressed) or cell is None:
        return cell
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        raise TypeError(f"a chart needs numbers, not {cell!r}")
    return cell


def informative(chart: Chart) -> bool:
    """Whether a chart shows anything: a bar above zero, or a hidden one (some, but few to show).

    A chart of zeros says nothing the table does not (the ministry preset has a pair of charts per
    course version, many of them all zeros early in a year, or for a course whose completion Moodle
    does not track): reports leave it out.
    """
    return any(isinstance(p.value, Suppressed) or (isinstance(p.value, int | float) and p.value > 0)
               for p in chart.points)
