"""Excel workbooks (openpyxl): one sheet per table, bold frozen headings, numbers as numbers, notes below.

Counts are integers, rates are fractions formatted as percentages, hidden cells are the marker text
("<5", "..") aligned right. A report gets a first sheet "Om rapporten" with its header and notes.
Every text is written as a string cell, never a formula: a label such as "=HYPERLINK(…)" from a roster stays
text, shown with Excel's hidden apostrophe (quotePrefix) so that editing the cell does not turn it into one.
"""

from __future__ import annotations

import importlib
import os
import re
from types import ModuleType
from typing import Any

from moodle_sync.errors import ConfigError
from moodle_sync.reports.render._format import FORMULA_STARTS, UNDEFINED, split_notes, totals_row
from moodle_sync.reports.table import Report, Suppressed, Table

__all__ = ["to_xlsx"]

_FIRST_DATA_ROW = 3  # row 1 title, row 2 headings
_MAX_WIDTH = 60


def to_xlsx(content: Table | Report, path: str | os.PathLike[str]) -> None:
    """Write a table, or a report with all its tables, as an .xlsx workbook.

    Raises:
        ConfigError: openpyxl is not installed.
    """
    openpyxl = _load("openpyxl")
    styles = _load("openpyxl.styles")
    book = openpyxl.Workbook()
    names: set[str] = set()
    if isinstance(content, Table):
        _sheet(book.active, content, content.notes, styles, names)
    else:
        common, own = split_notes(content.tables, header=content.header)
        about = book.active
        about.title = _sheet_name("Om rapporten", names)
        lines: list[str] = [content.title]
        if content.generated_on is not None:
            lines.append(f"Skapad {content.generated_on:%Y-%m-%d}")
        lines += ["", *content.header]
        if common:
            lines += ["", "Noter", *common]
        for i, line in enumerate(lines, start=1):
            if line:
                _put(about.cell(row=i, column=1), line)
        about.cell(row=1, column=1).font = styles.Font(bold=True, size=14)
        if common:
            about.cell(row=len(lines) - len(common), column=1).font = styles.Font(bold=True)
        about.column_dimensions["A"].width = 120
        for table, notes in zip(content.tables, own, strict=True):
            _sheet(book.create_sheet(), table, notes, styles, names)
    book.save(os.fspath(path))


def _load(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise ConfigError("writing .xlsx needs the openpyxl package", key="format",
                          hint="pip install openpyxl, or choose csv") from e


def _sheet(ws: Any, table: Table, notes: list[str], styles: ModuleType, names: set[str]) -> None:
    ws.title = _sheet_name(table.title or "Tabell", names)
    bold = styles.Font(bold=True)
    right = styles.Alignment(horizontal="right")
    title = ws.cell(row=1, column=1)
    _put(title, table.title)
    title.font = styles.Font(bold=True, size=13)
    for j, column in enumerate(table.columns, start=1):
        cell = ws.cell(row=2, column=j)
        _put(cell, column.title)
        cell.font = bold
        cell.alignment = styles.Alignment(wrap_text=True, vertical="bottom",
                                          horizontal="left" if column.kind == "dimension" else "right")
        cell.fill = styles.PatternFill("solid", fgColor="DDDDDD")

    rows = [*table.rows, totals_row(table)]
    for i, row in enumerate(rows, start=_FIRST_DATA_ROW):
        is_total = i == _FIRST_DATA_ROW + len(rows) - 1
        for j, column in enumerate(table.columns, start=1):
            value = row.get(column.key)
            cell = ws.cell(row=i, column=j)
            if isinstance(value, Suppressed) or (value is None and column.kind != "dimension"):
                _put(cell, str(value) if value is not None else UNDEFINED)  # "–": nothing to count, not zero
                cell.alignment = right
            else:
                _put(cell, value)
                if column.kind == "rate":
                    cell.number_format = "0.0%"
                elif column.kind == "count":
                    cell.number_format = "#,##0"
            if is_total:
                cell.font = bold

    # freeze the headings and the dimension columns, so wide pivots stay readable
    ws.freeze_panes = ws.cell(row=_FIRST_DATA_ROW, column=len(table.dimension_columns) + 1).coordinate
    for j, column in enumerate(table.columns, start=1):
        texts = [str(r.get(column.key) or "") for r in rows]
        widest = max([len(t) for t in texts] + [min(len(column.title), 24), 6])
        ws.column_dimensions[_column_letter(j)].width = min(widest + 2, _MAX_WIDTH)

    if notes:
        at = _FIRST_DATA_ROW + len(rows) + 1
        _put(ws.cell(row=at, column=1), "Noter")
        ws.cell(row=at, column=1).font = bold
        for k, note in enumerate(notes, start=1):
            _put(ws.cell(row=at + k, column=1), note)


def _put(cell: Any, value: Any) -> None:
    """Set a cell's value; text is always a string cell (openpyxl makes any text starting with "=" a formula)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True


def _column_letter(index: int) -> str:
    """Excel's column letter for a 1-based index (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _sheet_name(title: str, taken: set[str]) -> str:
    """A unique sheet name: Excel forbids []:*?/\\ and allows 31 characters."""
    base = re.sub(r"[\[\]:*?/\\]", "-", title).strip("' ")[:31] or "Tabell"
    name, n = base, 2
    while name.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name
