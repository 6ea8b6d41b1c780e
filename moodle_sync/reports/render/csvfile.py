"""CSV for Swedish Excel: UTF-8 with a byte-order mark, ``;`` between fields, CRLF line ends.

Counts are plain integers. Rates are percentages with one decimal and a decimal comma, without a
percent sign ("62,5"; the heading says "(%)"), so Swedish Excel reads them as numbers. Hidden cells
hold their marker text ("<5", ".."); an undefined rate is empty. A single table starts with its
header row; the totals row comes last, then an empty row and the notes, one per row. A report
writes its title and header lines, then each table under its title, separated by empty rows.
No cell starts like a formula: one that would (an organisation named "=HYPERLINK(…)") gets an apostrophe.
"""

from __future__ import annotations

import csv
import os
from typing import Any, TextIO

from moodle_sync.reports.render._format import UNDEFINED, inert, percent_number, split_notes, totals_row
from moodle_sync.reports.table import Column, Report, Suppressed, Table

__all__ = ["to_csv"]


def to_csv(content: Table | Report, path_or_stream: str | os.PathLike[str] | TextIO) -> None:
    """Write a table or a report as CSV to a path (created or replaced) or an open text stream."""
    if isinstance(path_or_stream, str | os.PathLike):
        with open(path_or_stream, "w", encoding="utf-8-sig", newline="") as stream:
            _write(content, stream)
    else:
        path_or_stream.write("\ufeff")
        _write(content, path_or_stream)


class _InertWriter:
    """csv.writer whose every cell is passed through :func:`inert` first."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")

    def writerow(self, row: list[str]) -> None:
        self._writer.writerow([inert(cell) for cell in row])


def _write(content: Table | Report, stream: TextIO) -> None:
    writer = _InertWriter(stream)
    if isinstance(content, Table):
        _table(writer, content, content.notes)
        return
    common, own = split_notes(content.tables, header=content.header)
    writer.writerow([content.title])
    if content.generated_on is not None:
        writer.writerow([f"Skapad {content.generated_on:%Y-%m-%d}"])
    for line in [*content.header, *common]:
        writer.writerow([line])
    for table, notes in zip(content.tables, own, strict=True):
        writer.writerow([])
        writer.writerow([table.title])
        _table(writer, table, notes)


def _table(writer: _InertWriter, table: Table, notes: list[str]) -> None:
    writer.writerow([f"{c.title} (%)" if c.kind == "rate" else c.title for c in table.columns])
    for row in [*table.rows, totals_row(table)]:
        writer.writerow([_cell(c, row.get(c.key)) for c in table.columns])
    if notes:
        writer.writerow([])
        for note in notes:
            writer.writerow([note])


def _cell(column: Column, value: Any) -> str:
    if isinstance(value, Suppressed):
        return str(value)
    if value is None:
        return "" if column.kind == "dimension" else UNDEFINED  # nothing to count: not a zero
    if column.kind == "rate":
        return percent_number(float(value))
    return str(value)
