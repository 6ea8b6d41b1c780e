"""Cell formatting shared by the renderers: Swedish numbers, markers, totals row, notes placement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moodle_sync.reports.table import Column, Report, Suppressed, Table

#: shown for a rate that is undefined (nobody enrolled); Swedish statistics use a dash for "nothing to show"
UNDEFINED = "–"

#: what a spreadsheet program reads as the start of a formula (or, for tab and CR, hides in front of one)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """Text a spreadsheet program shows as text: one that starts like a formula gets an apostrophe in front.

    Excel, LibreOffice and Numbers run ``=HYPERLINK(...)`` (and ``+``, ``-``, ``@`` starts) in a CSV cell as a
    formula; the apostrophe is how they write text that must stay text (OWASP "CSV injection").
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def count_text(value: int, *, thousands: str = " ") -> str:
    """``12345`` → ``"12 345"`` (Swedish groups thousands with a space)."""
    return f"{value:,}".replace(",", thousands)


def percent_number(value: float) -> str:
    """``0.625`` → ``"62,5"``: one decimal, decimal comma."""
    return f"{value * 100:.1f}".replace(".", ",")


def cell_text(column: Column, value: Any, *, thousands: str = " ", percent_sign: str = " %") -> str:
    """How a cell reads for people: ``"12 345"``, ``"62,5 %"``, ``"<5"``, ``".."``, ``"–"``."""
    if isinstance(value, Suppressed):
        return str(value)
    if value is None:
        return "" if column.kind == "dimension" else UNDEFINED
    if column.kind == "rate" and isinstance(value, int | float):
        return percent_number(value) + percent_sign
    if column.kind == "count" and isinstance(value, int) and not isinstance(value, bool):
        return count_text(value, thousands=thousands)
    return str(value)


def totals_row(table: Table) -> dict[str, Any]:
    """The totals row as a full row: the label in the first dimension column, blanks in the others."""
    row: dict[str, Any] = dict(table.totals)
    dims = table.dimension_columns
    for i, column in enumerate(dims):
        row[column.key] = table.totals_label if i == 0 else ""
    return row


def split_notes(tables: Sequence[Table], *, header: Sequence[str] = ()) -> tuple[list[str], list[list[str]]]:
    """Notes every table shares (shown once, at the top, unless the header says it already) and each
    table's own notes."""
    if not tables:
        return [], []
    shared = [n for n in tables[0].notes if all(n in t.notes for t in tables[1:])]
    own = [[n for n in t.notes if n not in shared] for t in tables]
    return [n for n in shared if n not in header], own


def as_report(content: Report | Table) -> Report:
    if isinstance(content, Report):
        return content
    return Report(title=content.title, header=[], tables=[content])
