"""The output of aggregation: tables with the groups each count sums, markers for hidden cells, charts, reports.

Every renderer reads only these types. A :class:`Table` keeps the groups each count sums (``counted``) so
that :mod:`~moodle_sync.reports.rounding` can round each group once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = ["TOTALS", "CellRef", "Chart", "ChartPoint", "Column", "Part", "Report", "Suppressed", "Table"]

#: the row index that stands for the totals row in a :data:`CellRef`
TOTALS: Final = -1

#: (row index, column key); row index :data:`TOTALS` is the totals row
CellRef = tuple[int, str]

#: one group of people a count sums (:mod:`~moodle_sync.reports.groups`): how many it holds, and the key of its
#: rounding draw (who it holds and what it is)
Part = tuple[int, bytes]


@dataclass(frozen=True)
class Column:
    """One column. ``rate_of`` names the (numerator, denominator) count columns of a rate."""

    key: str
    title: str
    kind: Literal["dimension", "count", "rate"]
    rate_of: tuple[str, str] | None = None


@dataclass(frozen=True)
class Suppressed:
    """A hidden cell. Primary cells were published as 1..threshold-1 and show ``<threshold``; the rest (rates
    built on them or on a small denominator) show ``..``."""

    primary: bool
    threshold: int = 5

    def __str__(self) -> str:
        return f"<{self.threshold}" if self.primary else ".."


@dataclass
class Table:
    """Rows of dimension values and measures, a totals row (people counted once) and notes in Swedish.

    Cells hold ``int`` (counts), ``float`` 0..1 or None (rates), ``str``/``int`` (dimensions), or a
    :class:`Suppressed` marker after :func:`~moodle_sync.reports.rounding.round_tables`. ``totals`` holds
    the measure columns only; renderers label the row with ``totals_label``.
    """

    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    title: str = ""
    #: every hidden cell (counts and rates) and how it is shown; filled by rounding
    suppressed: dict[CellRef, Suppressed] = field(default_factory=dict)
    #: the threshold applied by rounding, None when the table is not rounded
    threshold: int | None = None
    totals_label: str = "Totalt"
    #: the groups each count cell sums (its true count is the sum of their sizes), filled by aggregation and
    #: used by rounding, never shown; a rate's own denominator is under "<rate key>:denominator"
    counted: dict[CellRef, tuple[Part, ...]] = field(default_factory=dict)

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def cell(self, ref: CellRef) -> Any:
        row, key = ref
        return self.totals.get(key) if row == TOTALS else self.rows[row].get(key)

    @property
    def dimension_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "dimension"]

    @property
    def measure_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind != "dimension"]

    @property
    def primary_cells(self) -> frozenset[CellRef]:
        return frozenset(ref for ref, mark in self.suppressed.items() if mark.primary)

    @property
    def secondary_cells(self) -> frozenset[CellRef]:
        """Count cells hidden only to protect others (rates hidden with their counts are not included)."""
        counts = {c.key for c in self.columns if c.kind == "count"}
        return frozenset(ref for ref, mark in self.suppressed.items() if not mark.primary and ref[1] in counts)


@dataclass(frozen=True)
class ChartPoint:
    label: str
    value: int | float | Suppressed | None


@dataclass(frozen=True)
class Chart:
    """Data for one chart, always taken from the cells of a (rounded) table.

    ``kind`` "hbar" draws horizontal bars (long labels such as counties and target groups), "columns"
    draws vertical columns (months). ``unit`` "rate" means values are 0..1 and drawn as percentages.
    """

    title: str
    kind: Literal["hbar", "columns"]
    unit: Literal["count", "rate"]
    points: tuple[ChartPoint, ...]


@dataclass
class Report:
    """What a preset produces: a title, header lines in Swedish, tables and charts."""

    title: str
    header: list[str]
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    generated_on: datetime.date | None = None
