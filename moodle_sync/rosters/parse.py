"""Read a hub's staff list (CSV or XLSX) into validated roster rows, with every problem found at once.

:func:`read_roster` raises only when the file as a whole is unusable. Row problems are collected, each with its
row number and column header, so a hub can fix them all in one go; a row with any problem is left out of
``Roster.rows`` (that is what ``--skip-invalid`` relies on). This module finds the header row, matches the
columns and checks across rows (the same e-mail or employee id twice); :mod:`.rows` checks each row's cells,
:mod:`.tables` reads the file's cells and :mod:`.roster` holds the result.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from moodle_sync import clock
from moodle_sync.errors import RosterError
from moodle_sync.i18n import _, ngettext
from moodle_sync.rosters.cells import MAX_COLUMNS, Table, cell_text, column_letters
from moodle_sync.rosters.columns import FIELDS, ColumnMap, field_for_header, match_columns
from moodle_sync.rosters.roster import Roster, RosterRow, RowProblem
from moodle_sync.rosters.rows import RowReader, TargetGroups
from moodle_sync.rosters.tables import read_bytes, read_table

__all__ = ["read_roster"]

_HEADER_SEARCH = 10   # non-empty rows to look through for the header row, when the first one is a title


def read_roster(path: str | Path, *, target_groups: Mapping[str, str], counties: bool = True,
                today: datetime.date | None = None, sheet: str | None = None) -> Roster:
    """Read and validate a roster file.

    Args:
        path: a ``.csv``/``.tsv``/``.txt`` (comma, semicolon or tab; UTF-8 with or without BOM, UTF-16 with
            BOM, or Windows-1252) or an ``.xlsx`` file (its first visible sheet).
        target_groups: target-group key -> Swedish name; a cell may give either, in any case.
        counties: read a county column ("Län") when there is one; False ignores it.
        today: the date "more than a year in the future" is measured from (default: today).
        sheet: the worksheet of an ``.xlsx`` workbook to read (default: the first visible one).

    Returns:
        The roster. Rows with problems are in ``problems`` and not in ``rows``.

    Raises:
        RosterError: the file is missing or unreadable, has an unknown suffix, is empty, has no header row or no
            data rows, or lacks a required column.
    """
    if not target_groups:
        raise ValueError("read_roster needs the target groups (key -> name) to check the rows against")
    file = Path(path)
    try:
        data = read_bytes(file)
    except FileNotFoundError as e:
        raise RosterError(f"{file}: no such file", hint="check the path and the file name") from e
    except IsADirectoryError as e:
        raise RosterError(f"{file}: is a directory, not a roster file") from e
    except OSError as e:
        raise RosterError(f"{file}: cannot be read ({e.strerror or e})",
                          hint="check that the file is not open elsewhere and that you may read it") from e
    if not data.strip():
        raise RosterError(f"{file}: the file is empty", hint="export the staff list again; the file has no content")

    table = read_table(file, data, sheet=sheet)
    if not table.rows:
        raise RosterError(f"{file}: the file has no rows with content",
                          hint="export the staff list again; the first sheet/file holds only empty rows")
    header_index = _find_header(table)
    header_row, header_cells = table.rows[header_index]
    where = _("{file}, row {row}").format(file=file.name, row=header_row) + (
        _(' of sheet "{sheet}"').format(sheet=table.sheet) if table.sheet else "")
    try:
        colmap = match_columns([cell_text(c) for c in header_cells], where=where, counties=counties)
    except RosterError as e:
        if table.wider:  # a column past MAX_COLUMNS was never read
            e.hint = (f"only the first {MAX_COLUMNS} columns (A to {column_letters(MAX_COLUMNS)}) are read, and "
                      f"this file has more: move the roster's columns to the left or delete the others"
                      + (f"; {e.hint}" if e.hint else ""))
        if len(table.sheets) > 1 and sheet is None:  # the list may be on another sheet of the workbook
            others = ", ".join(f'"{n}"' for n in table.sheets if n != table.sheet)
            e.hint = (f'this was sheet "{table.sheet}"; the workbook also has {others}: name the one with the '
                      f'list with --sheet NAME' + (f"; {e.hint}" if e.hint else ""))
        raise
    body = table.rows[header_index + 1:]
    if not body:
        raise RosterError(f"{file}: the header row (row {header_row}) has no rows of people under it",
                          hint="put one person per row under the header row")

    reader = RowReader(colmap, TargetGroups(target_groups), today or clock.today())
    parsed = [reader.read(number, cells) for number, cells in body]
    problems = [p for _, row_problems in parsed for p in row_problems]
    problems += _duplicates([row for row, _ in parsed], colmap)
    order = {name: i for i, name in enumerate(FIELDS)}
    by_header = {header: order[name] for name, header in colmap.headers.items()}
    problems.sort(key=lambda p: (p.row, by_header.get(p.column, len(order))))
    bad = {p.row for p in problems}
    return Roster(
        path=str(path),
        format=table.format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        rows=[row for row, _ in parsed if row.row not in bad],
        invalid=[row for row, _ in parsed if row.row in bad],
        problems=problems,
        sha256=hashlib.sha256(data).hexdigest(),
        columns=dict(colmap.headers),
        ignored_columns=list(colmap.ignored),
        sheet=table.sheet,
        header_row=header_row,
    )


def _find_header(table: Table) -> int:
    """The header is the first non-empty row, unless that is a title: then the first that names two fields."""
    for i, (_number, cells) in enumerate(table.rows[:_HEADER_SEARCH]):
        if sum(field_for_header(cell_text(c)) is not None for c in cells) >= 2:
            return i
    return 0


def _duplicates(rows: Sequence[RosterRow], colmap: ColumnMap) -> list[RowProblem]:
    """Same email, or same employee id, on more than one row: a problem on each of those rows."""
    problems: list[RowProblem] = []
    checks: list[tuple[str, str, str]] = [
        ("email", _("also appears on {others}"), _("list each person once; put all their target groups in one cell")),
        ("employee_id", _("is also the employee id on {others}"), _("two people cannot share an id; check both rows")),
    ]
    for name, message, hint in checks:
        if name not in colmap.index:
            continue
        seen: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            value = row.email if name == "email" else (row.employee_id or "")
            if value:
                seen[value].append(row.row)
        for value, numbers in seen.items():
            for number in numbers if len(numbers) > 1 else ():
                others = [n for n in numbers if n != number]
                text = ngettext("row {rows}", "rows {rows}", len(others)).format(rows=", ".join(map(str, others)))
                problems.append(RowProblem(number, colmap.headers[name], value, message.format(others=text), hint))
    return problems
