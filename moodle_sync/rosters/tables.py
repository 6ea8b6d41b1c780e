"""Turn a roster file's bytes into rows of cells: CSV in any common dialect and encoding, or XLSX (:mod:`.workbook`).

This is the roster's I/O shell. It knows nothing about what the columns mean except to pick the CSV delimiter
that makes the header row readable; :mod:`moodle_sync.rosters.parse` finds the header and
:mod:`moodle_sync.rosters.rows` validates the cells (:mod:`.cells` gives a cell as trimmed text).

A file is hostile input until read. Only a regular file is read (a FIFO or a device is refused before it is
opened: :mod:`moodle_sync.regular_files`), one over :data:`MAX_ROSTER_BYTES` is refused unread, and reading
takes time and memory in proportion to the file whatever its shape, within the bounds of :mod:`.cells`. For CSV:
- a run of empty lines (or lines of only delimiters and spaces) between rows is passed over in one step, never
  line by line, and still counted, so row numbers are the ones a spreadsheet shows;
- at most :data:`~.workbook.EXCEL_MAX_ROWS` rows, and as many lines handed to the CSV parser (a quote left open
  makes lines part of one cell), more than a spreadsheet can hold;
- at most :data:`MAX_FIELDS` cells in a row (Excel's 16 384 columns; delimiters inside quotes count too), so no
  row of a million semicolons is ever split into a million cells.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path, PurePath

from moodle_sync.errors import RosterError
from moodle_sync.regular_files import NotRegularFile, open_regular
from moodle_sync.rosters.cells import (
    MAX_COLUMNS,
    MAX_ROSTER_ROWS,
    TOO_LARGE_HINT,
    Cell,
    Table,
    cell_text,
    check_rows,
    formula_or_error,
)
from moodle_sync.rosters.columns import field_for_header
from moodle_sync.rosters.workbook import EXCEL_MAX_ROWS, MAX_XLSX_UNPACKED, read_xlsx

__all__ = ["CSV_SUFFIXES", "MAX_FIELDS", "MAX_ROSTER_BYTES", "MAX_ROSTER_ROWS", "MAX_XLSX_UNPACKED", "XLSX_SUFFIXES",
           "Cell", "Table", "cell_text", "decode", "formula_or_error", "read_bytes", "read_table"]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")   # Excel's "Unicode text" export is a tab-separated .txt
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = (";", "\t", ",")             # on a tie, prefer ";": what Swedish Excel writes
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"         # the old binary .xls format
_HEADER_SEARCH = 10                       # non-empty rows to look through for the header row
_SNIFF_RECORDS = 1_000                    # rows (empty ones too) the delimiter is guessed from, at the most

MAX_ROSTER_BYTES = 30_000_000             # 50 000 rows of UTF-16 text; a county's list is a few MB
MAX_FIELDS = 16_384                       # the columns of a worksheet in Excel (A to XFD)


def read_bytes(path: Path) -> bytes:
    """The bytes of the roster file at ``path``; a file over MAX_ROSTER_BYTES is refused without reading it.

    Raises:
        OSError: as ``open()`` does (no such file, no permission).
        RosterError: not a regular file (a FIFO, a device, a directory: never opened), or too large.
    """
    try:
        file, status = open_regular(path)
    except NotRegularFile as e:
        raise RosterError(f"{path}: is {e.kind}, not a roster file; it was not read",
                          hint="name the roster file itself (a .csv or .xlsx file)") from e
    with file:
        size = status.st_size
        data = file.read(MAX_ROSTER_BYTES + 1) if size <= MAX_ROSTER_BYTES else b""
    if size > MAX_ROSTER_BYTES or len(data) > MAX_ROSTER_BYTES:
        shown = f"{size / 1e6:.0f} MB" if size > MAX_ROSTER_BYTES else "larger than that"
        raise RosterError(f"{path.name}: the file is {shown}; a roster may be at most "
                          f"{MAX_ROSTER_BYTES // 1_000_000} MB, so it was not read", hint=TOO_LARGE_HINT)
    return data


def read_table(path: PurePath, data: bytes, *, sheet: str | None = None) -> Table:
    """Read ``data`` (the bytes of the file at ``path``) as CSV or XLSX, chosen by the file's suffix.

    ``sheet`` names the worksheet of a workbook to read (default: the first visible one).

    Raises:
        RosterError: unknown suffix, a workbook that cannot be opened, text that cannot be decoded or parsed, a
            file past the limits.
    """
    suffix = path.suffix.lower()
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise RosterError(f"{path.name}: this is an old-style Excel file (.xls), which cannot be read",
                          hint='open it in Excel and save it as "Excel Workbook (.xlsx)" or as "CSV UTF-8"')
    if suffix in XLSX_SUFFIXES or (suffix in CSV_SUFFIXES and data.startswith(_ZIP_MAGIC)):
        # a workbook renamed to .csv is still a workbook: read what it is, not what it is called
        return read_xlsx(path, data, sheet)
    if sheet is not None:
        raise RosterError(f"{path.name}: --sheet is for Excel workbooks (.xlsx); this file is read as CSV")
    if suffix in CSV_SUFFIXES:
        text, encoding = decode(data, name=path.name)
        return _read_csv(path, text, encoding)
    accepted = ", ".join(CSV_SUFFIXES + XLSX_SUFFIXES)
    raise RosterError(f"{path.name}: cannot read a {suffix or 'suffix-less'} file as a roster",
                      hint=f"save the staff list as CSV or Excel; accepted file names end in {accepted}")


def decode(data: bytes, *, name: str = "file") -> tuple[str, str]:
    """Decode text bytes; return the text and the encoding found (a Python codec name).

    A byte-order mark decides first (UTF-8, UTF-16, UTF-32). Without one: UTF-16 if the bytes are full of NULs,
    else UTF-8 if the bytes are valid UTF-8, else Windows-1252 (what Swedish Excel writes for "CSV"), so å ä ö
    come out right.
    """
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    encoding = next((enc for bom, enc in boms if data.startswith(bom)), None)
    if encoding is None:
        encoding = _guess_bomless(data)
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as e:
        if encoding == "utf-8":
            try:
                return data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                # cp1252 leaves five bytes undefined; latin-1 defines all 256 and agrees on å ä ö
                return data.decode("latin-1"), "latin-1"
        raise RosterError(f"{name}: the text is not valid {encoding} (byte {e.start})",
                          hint='save the file again as "CSV UTF-8" from Excel') from e


def _guess_bomless(data: bytes) -> str:
    sample = data[:4096]
    if sample.count(0) * 4 > len(sample):
        # ASCII text in UTF-16 has a NUL beside every letter: after it in little-endian, before it in big-endian
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    return "utf-8"


def _read_csv(path: PurePath, text: str, encoding: str) -> Table:
    text = text.lstrip("\ufeff")
    delimiter: str | None = None
    sep = re.match(r"sep=(.)[ \t]*\r?\n", text, re.IGNORECASE)
    if sep:  # Excel's own hint line; Excel does not show it as a row, so neither do we count it
        delimiter, text = sep.group(1), text[sep.end():]
    if delimiter is None:
        delimiter = _sniff_delimiter(path, text)
    table = Table(format="csv", encoding=encoding, delimiter=delimiter)
    try:
        for number, record in _records(path, text, delimiter):
            kept = record[:MAX_COLUMNS]
            if len(record) > MAX_COLUMNS and not table.wider:
                table.wider = any(cell.strip() for cell in record[MAX_COLUMNS:])
            if any(cell.strip() for cell in kept):
                while not kept[-1]:
                    kept.pop()
                cells: list[Cell] = list(kept)
                table.rows.append((number, cells))
                check_rows(path, table.rows)
    except csv.Error as e:
        raise RosterError(f"{path.name}: the CSV cannot be parsed near row {len(table.rows) + 1}: {e}",
                          hint='a quote (") that is opened but never closed makes the rest of the file one cell; '
                               "check that row, or save the file again from the spreadsheet program") from e
    return table


def _records(path: PurePath, text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV row of ``text`` that is not passed over as blank, with its row number."""
    lines = _Lines(path, text, delimiter)
    for record in csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False):
        yield lines.row, record
        lines.row_done()


_LINE_END = re.compile(r"\r\n|\n|\r")
_TOO_MANY_HINT = "a staff list is a few thousand rows of a few columns; check that this is the right file"


class _Lines:
    """The lines of ``text`` with their endings, one at a time, as ``open(newline="")`` gives them to csv.

    At the start of a row, the blank lines before it (empty, or only spaces and delimiters) are passed over in
    one regular-expression step and counted, so ``row`` is the spreadsheet's row number. Inside a row (a quoted
    cell spanning lines) every line is handed on, unchanged. ``io.StringIO(text)`` would copy the whole text
    first, at four bytes a character.
    """

    def __init__(self, path: PurePath, text: str, delimiter: str) -> None:
        self.path = path
        self.text = text
        self.delimiter = delimiter
        self.blank = re.compile(f"[\\s{re.escape(delimiter)}]+")
        self.pos = 0
        self.row = 0              # the row being read (1-based, blank rows counted)
        self.handed = 0           # lines handed to csv
        self.fields = 0           # delimiters in the row so far
        self.at_row_start = True

    def row_done(self) -> None:
        self.at_row_start = True

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        text, pos = self.text, self.pos
        if self.at_row_start:
            self.at_row_start, self.fields = False, 0
            pos = self._pass_blank_lines(pos)
            self.row += 1
        if pos >= len(text):
            raise StopIteration
        end = _LINE_END.search(text, pos)
        self.pos = end.end() if end else len(text)
        line = text[pos:self.pos]
        self.handed += 1
        self.fields += line.count(self.delimiter)
        if self.row > EXCEL_MAX_ROWS or self.handed > EXCEL_MAX_ROWS:
            self._refuse_rows()
        if self.fields >= MAX_FIELDS:
            raise RosterError(f"{self.path.name}: row {self.row} has more than {MAX_FIELDS:,} cells, more than a "
                              f"spreadsheet can have; it was not read", hint=_TOO_MANY_HINT)
        return line

    def _pass_blank_lines(self, pos: int) -> int:
        """Where the first line from ``pos`` on with content starts; each blank line before it counts as a row."""
        text = self.text
        run = self.blank.match(text, pos)
        if run is None:
            return pos
        last = max(text.rfind("\n", pos, run.end()), text.rfind("\r", pos, run.end()))
        if last < pos:  # spaces before content on this line
            return pos
        self.row += text.count("\n", pos, last + 1) + text.count("\r", pos, last + 1) - \
            text.count("\r\n", pos, last + 1)
        if self.row > EXCEL_MAX_ROWS:
            self._refuse_rows()
        return last + 1

    def _refuse_rows(self) -> None:
        raise RosterError(f"{self.path.name}: more than {EXCEL_MAX_ROWS:,} rows, more than a spreadsheet can have "
                          f"(empty ones counted, and the lines of a quote that is never closed); it was not read",
                          hint=_TOO_MANY_HINT)


def _sniff_delimiter(path: PurePath, text: str) -> str:
    """The delimiter that makes the most header cells recognisable; failing that, the commonest in line one."""
    first_line = _first_line(text)
    best, best_score = DELIMITERS[0], (-1, -1)
    for delimiter in DELIMITERS:
        known, seen = 0, 0
        try:
            for read, (_, record) in enumerate(_records(path, text, delimiter), start=1):
                cells = [c.strip() for c in record if c.strip()]
                if cells:
                    known = max(known, sum(field_for_header(c) is not None for c in cells))
                    seen += 1
                if seen >= _HEADER_SEARCH or read >= _SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        except RosterError:
            pass  # too many rows or cells further on: scored on the rows before; the file is refused when read
        score = (known, first_line.count(delimiter))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_line(text: str) -> str:
    """The first line of ``text`` that holds more than spaces (found without splitting the text into lines)."""
    found = re.search(r"\S", text)
    if found is None:
        return ""
    start = max(text.rfind("\n", 0, found.start()), text.rfind("\r", 0, found.start())) + 1
    end = _LINE_END.search(text, found.start())
    return text[start:end.start() if end else len(text)]
