"""A roster file's cells, whatever the format: the :class:`Table` they are read into, the limits every reader keeps,
and a cell as trimmed text.

A roster is one county's staff list, some ten thousand rows at the most. Every reader (:mod:`.tables` for CSV,
:mod:`.workbook` for XLSX) keeps the same bounds, so no shape of file can take the machine's time or memory:
at most :data:`MAX_ROSTER_ROWS` rows with content (refused at the first one past it), and at most
:data:`MAX_COLUMNS` cells of each row kept (the cells to their right are never made). A roster's nine fields fit
many times over; of a file whose rows reach further (a cell in Excel's last column, XFD) only columns A to BL are
read, and a required column beyond them is named in the error's hint.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TypeAlias

from moodle_sync.errors import RosterError
from moodle_sync.formulas import starts_like_formula
from moodle_sync.i18n import _

__all__ = ["MAX_COLUMNS", "MAX_ROSTER_ROWS", "TOO_LARGE_HINT", "Cell", "Table", "cell_text", "check_rows",
           "column_letters", "formula_or_error"]

#: what a cell can hold: always ``str`` from CSV; from XLSX whatever openpyxl gives
Cell: TypeAlias = str | int | float | bool | datetime.datetime | datetime.date | datetime.time | None

MAX_ROSTER_ROWS = 50_000                  # rows with content, the header included
MAX_COLUMNS = 64                          # cells kept per row: columns A to BL
TOO_LARGE_HINT = ("a roster holds one county's staff; check that this is the right file (a larger list can be "
                  "imported in parts with --mode add)")
# Excel's error values, English and Swedish (#REF!, #N/A, #DIV/0!, #NAME?, #SAKNAS!, #VÄRDEFEL! …)
_ERROR_VALUE = re.compile(r"#(?:N/A|[A-ZÅÄÖ][A-ZÅÄÖ0-9/_]*[!?])")


@dataclass
class Table:
    """A file's non-empty rows; each keeps the row number a person sees in a spreadsheet program."""

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    #: each row's first MAX_COLUMNS cells, without the empty ones at its end
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)
    #: a workbook's worksheets, in order (hidden ones too): named when the list is not found
    sheets: list[str] = field(default_factory=list)
    #: some row reaches past column MAX_COLUMNS (a workbook: by its declared size); those cells were not read
    wider: bool = False


def check_rows(path: PurePath, rows: list[tuple[int, list[Cell]]]) -> None:
    """Refuse the file once ``rows`` holds more than MAX_ROSTER_ROWS rows (call it after each row added)."""
    if len(rows) > MAX_ROSTER_ROWS:
        raise RosterError(f"{path.name}: more than {MAX_ROSTER_ROWS:,} rows (row {rows[-1][0]} is one too many); "
                          f"it was not read", hint=TOO_LARGE_HINT)


def column_letters(number: int) -> str:
    """A 1-based column number as a spreadsheet names it: 1 → A, 64 → BL, 16 384 → XFD."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_text(cell: Cell) -> str:
    """A cell as trimmed text. Whole numbers lose the ".0" a spreadsheet gives them (1234.0 -> "1234")."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime.datetime) and cell.time() == datetime.time():
        return cell.date().isoformat()
    if isinstance(cell, datetime.date | datetime.time):
        return cell.isoformat()
    text = unicodedata.normalize("NFC", str(cell))  # macOS writes "å" as a + ring; Moodle would see two users
    return text.strip().strip("\u200b\ufeff").strip()


def formula_or_error(text: str) -> tuple[str, str] | None:
    """Why a trimmed cell text is no value (a formula, or a spreadsheet error such as ``#REF!``) and what to do.

    A roster value that starts like a formula would come back out of Moodle and of every report as one
    (:mod:`moodle_sync.formulas`).
    """
    if _ERROR_VALUE.fullmatch(text):
        return (_("is a spreadsheet error, not a value"),
                _("fix the formula that gives it, or copy the column and paste it as values"))
    if starts_like_formula(text):
        return (_("starts like a spreadsheet formula (=, +, - or @, also after spaces), which is refused in rosters"),
                _("type the value itself without the sign in front; paste formulas as values"))
    return None
