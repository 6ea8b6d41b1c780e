"""Turn a roster file's bytes into rows of cells: CSV in any common dialect and encoding, or XLSX.

This is the roster's I/O shell. It knows nothing about what the columns mean except to pick the CSV delimiter
that makes the header row readable (and gives a cell as trimmed text, :func:`cell_text`);
:mod:`moodle_sync.rosters.parse` finds the header and :mod:`moodle_sync.rosters.rows` validates the cells.

A roster is one county's staff list, some ten thousand rows at the most. A file much larger than that is refused
before it can take the machine's memory: over :data:`MAX_ROSTER_BYTES` unread, over :data:`MAX_ROSTER_ROWS` rows
as soon as the row past the limit is reached, and a workbook whose zip directory says it unpacks to more than
:data:`MAX_XLSX_UNPACKED` (a zip bomb) before it is opened.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, TypeAlias

from moodle_sync.errors import RosterError
from moodle_sync.rosters.columns import field_for_header

__all__ = ["CSV_SUFFIXES", "MAX_ROSTER_BYTES", "MAX_ROSTER_ROWS", "MAX_XLSX_UNPACKED", "XLSX_SUFFIXES", "Cell",
           "Table", "cell_text", "decode", "formula_or_error", "read_bytes", "read_table"]

#: what a cell can hold: always ``str`` from CSV; from XLSX whatever openpyxl gives
Cell: TypeAlias = str | int | float | bool | datetime.datetime | datetime.date | datetime.time | None

CSV_SUFFIXES = (".csv", ".tsv", ".txt")   # Excel's "Unicode text" export is a tab-separated .txt
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = (";", "\t", ",")             # on a tie, prefer ";": what Swedish Excel writes
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"         # the old binary .xls format
_HEADER_SEARCH = 10                       # non-empty rows to look through for the header row
# what a spreadsheet program runs as a formula when it reads the text back (=, and +, -, @ before a sign or name)
_FORMULA = re.compile(r"[=+\-@]\S")
# Excel's error values, English and Swedish (#REF!, #N/A, #DIV/0!, #NAME?, #SAKNAS!, #VÄRDEFEL! …)
_ERROR_VALUE = re.compile(r"#(?:N/A|[A-ZÅÄÖ][A-ZÅÄÖ0-9/_]*[!?])")

MAX_ROSTER_BYTES = 30_000_000             # 50 000 rows of UTF-16 text; a county's list is a few MB
MAX_ROSTER_ROWS = 50_000                  # rows with content, the header included
MAX_XLSX_UNPACKED = 100_000_000           # 50 000 rows of nine columns unpack to about 30 MB
_TOO_LARGE_HINT = ("a roster holds one county's staff; check that this is the right file (a larger list can be "
                   "imported in parts with --mode add)")


@dataclass
class Table:
    """A file's non-empty rows; each keeps the row number a person sees in a spreadsheet program."""

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)
    #: a workbook's worksheets, in order (hidden ones too): named when the list is not found
    sheets: list[str] = field(default_factory=list)


def read_bytes(path: Path) -> bytes:
    """The bytes of the roster file at ``path``; a file over MAX_ROSTER_BYTES is refused without reading it.

    Raises:
        OSError: as ``open()`` does (no such file, a directory, no permission).
        RosterError: the file is too large.
    """
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(MAX_ROSTER_BYTES + 1) if size <= MAX_ROSTER_BYTES else b""
    if size > MAX_ROSTER_BYTES or len(data) > MAX_ROSTER_BYTES:
        shown = f"{size / 1e6:.0f} MB" if size > MAX_ROSTER_BYTES else "larger than that"
        raise RosterError(f"{path.name}: the file is {shown}; a roster may be at most "
                          f"{MAX_ROSTER_BYTES // 1_000_000} MB, so it was not read", hint=_TOO_LARGE_HINT)
    return data


def read_table(path: PurePath, data: bytes, *, sheet: str | None = None) -> Table:
    """Read ``data`` (the bytes of the file at ``path``) as CSV or XLSX, chosen by the file's suffix.

    ``sheet`` names the worksheet of a workbook to read (default: the first visible one).

    Raises:
        RosterError: unknown suffix, a workbook that cannot be opened, text that cannot be decoded or parsed.
    """
    suffix = path.suffix.lower()
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise RosterError(f"{path.name}: this is an old-style Excel file (.xls), which cannot be read",
                          hint='open it in Excel and save it as "Excel Workbook (.xlsx)" or as "CSV UTF-8"')
    if suffix in XLSX_SUFFIXES or (suffix in CSV_SUFFIXES and data.startswith(_ZIP_MAGIC)):
        # a workbook renamed to .csv is still a workbook: read what it is, not what it is called
        return _read_xlsx(path, data, sheet)
    if sheet is not None:
        raise RosterError(f"{path.name}: --sheet is for Excel workbooks (.xlsx); this file is read as CSV")
    if suffix in CSV_SUFFIXES:
        text, encoding = decode(data, name=path.name)
        return _read_csv(path, text, encoding)
    accepted = ", ".join(CSV_SUFFIXES + XLSX_SUFFIXES)
    raise RosterError(f"{path.name}: cannot read a {suffix or 'suffix-less'} file as a roster",
                      hint=f"save the staff list as CSV or Excel; accepted file names end in {accepted}")


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

    A roster value that starts like a formula would come back out of Moodle and of every report as one.
    """
    if _ERROR_VALUE.fullmatch(text):
        return ("is a spreadsheet error, not a value",
                "fix the formula that gives it, or copy the column and paste it as values")
    if _FORMULA.match(text):
        return ("starts like a spreadsheet formula (=, +, - or @), which is refused in rosters",
                "type the value itself; paste formulas as values")
    return None


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
        delimiter = _sniff_delimiter(text)
    rows: list[tuple[int, list[Cell]]] = []
    try:
        for number, record in enumerate(_records(text, delimiter), start=1):
            if any(cell.strip() for cell in record):
                rows.append((number, list(record)))
                _check_rows(path, rows)
    except csv.Error as e:
        raise RosterError(f"{path.name}: the CSV cannot be parsed near row {len(rows) + 1}: {e}",
                          hint='a quote (") that is opened but never closed makes the rest of the file one cell; '
                               "check that row, or save the file again from the spreadsheet program") from e
    return Table(format="csv", encoding=encoding, delimiter=delimiter, rows=rows)


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(_text_lines(text), delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


_LINE_END = re.compile(r"\r\n|\n|\r")


def _text_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their endings, one at a time, as ``open(newline="")`` gives them to csv.

    ``io.StringIO(text)`` would copy the whole text first, at four bytes a character.
    """
    start = 0
    for match in _LINE_END.finditer(text):
        yield text[start:match.end()]
        start = match.end()
    if start < len(text):
        yield text[start:]


def _sniff_delimiter(text: str) -> str:
    """The delimiter that makes the most header cells recognisable; failing that, the commonest in line one."""
    first_line = next((line for line in _lines(text) if line.strip()), "")
    best, best_score = DELIMITERS[0], (-1, -1)
    for delimiter in DELIMITERS:
        known, seen = 0, 0
        try:
            for record in _records(text, delimiter):
                cells = [c.strip() for c in record if c.strip()]
                if not cells:
                    continue
                known = max(known, sum(field_for_header(c) is not None for c in cells))
                seen += 1
                if seen >= _HEADER_SEARCH:
                    break
        except csv.Error:
            continue
        score = (known, first_line.count(delimiter))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one by one (``splitlines()`` would copy a whole large file at once)."""
    return (match.group() for match in re.finditer(r"[^\r\n]*", text))


def _check_rows(path: PurePath, rows: list[tuple[int, list[Cell]]]) -> None:
    if len(rows) > MAX_ROSTER_ROWS:
        raise RosterError(f"{path.name}: more than {MAX_ROSTER_ROWS:,} rows (row {rows[-1][0]} is one too many); "
                          f"it was not read", hint=_TOO_LARGE_HINT)


def _check_unpacked_size(path: PurePath, data: bytes) -> None:
    """Refuse a workbook that would unpack to more than MAX_XLSX_UNPACKED, by its zip directory alone.

    Python's zipfile stops each member at the size the directory declares, so a lying directory gains nothing.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members: Iterable[zipfile.ZipInfo] = archive.infolist()
            unpacked = sum(member.file_size for member in members)
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # openpyxl says what is wrong with it
    if unpacked > MAX_XLSX_UNPACKED:
        raise RosterError(f"{path.name}: the workbook would unpack to {unpacked / 1e6:,.0f} MB; a roster may unpack to "
                          f"at most {MAX_XLSX_UNPACKED // 1_000_000} MB, so it was not opened", hint=_TOO_LARGE_HINT)


def _read_xlsx(path: PurePath, data: bytes, wanted: str | None = None) -> Table:
    import openpyxl  # type: ignore[import-untyped]  # heavy; only XLSX rosters need it

    _check_unpacked_size(path, data)

    try:
        workbook: Any = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as e:
        raise RosterError(f"{path.name}: cannot open it as an Excel workbook ({type(e).__name__}: {e})",
                          hint='open it in Excel and save it again as "Excel Workbook (.xlsx)"') from e
    try:
        sheets = list(workbook.worksheets)
        if not sheets:
            raise RosterError(f"{path.name}: the workbook has no worksheet")
        names = [str(s.title) for s in sheets]
        if wanted is not None:
            sheet = next((s for s in sheets if str(s.title) == wanted), None) or next(
                (s for s in sheets if str(s.title).casefold() == wanted.strip().casefold()), None)
            if sheet is None:
                raise RosterError(f"{path.name}: the workbook has no sheet {wanted!r}",
                                  hint="its sheets: " + ", ".join(f'"{n}"' for n in names))
        else:
            # the first sheet a person sees: templates often hide a sheet of drop-down lists in front
            sheet = next((s for s in sheets if s.sheet_state == "visible"), sheets[0])
        sheet.reset_dimensions()  # some exporters write a wrong <dimension>; read every row that is there
        rows: list[tuple[int, list[Cell]]] = []
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            cells: list[Cell] = [_xlsx_cell(v) for v in values]
            if any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
                rows.append((number, cells))
                _check_rows(path, rows)
        return Table(format="xlsx", sheet=str(sheet.title), rows=rows, sheets=names)
    finally:
        workbook.close()


def _xlsx_cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool | datetime.date | datetime.time):
        return value
    return str(value)  # timedelta and anything newer openpyxl may hand back
