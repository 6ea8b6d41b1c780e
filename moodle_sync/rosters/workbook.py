"""Read an XLSX workbook's cells (openpyxl, read-only), after the checks that make any workbook safe to open.

Before openpyxl sees it, a workbook is refused when
- its zip directory says it unpacks to more than :data:`MAX_XLSX_UNPACKED` (a zip bomb);
- any XML part of it declares a DOCTYPE. Excel and LibreOffice never write one, and a DOCTYPE is what a
  "billion laughs" entity bomb or an external entity (XXE, which names a file or URL to read in) needs. Each part
  is read with expat, the parser openpyxl's ElementTree uses, in the encoding expat itself finds, up to the
  part's first element: the only place a DOCTYPE can be.

While it is read, each row keeps only its first :data:`~.cells.MAX_COLUMNS` cells (openpyxl never makes the
others, so a cell in column XFD on every row costs nothing), rows past Excel's last row (1 048 576) are
refused, and an XML part that is not well-formed is named in a :class:`RosterError` like any unreadable file.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import PurePath
from typing import IO, Any
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

from moodle_sync.errors import RosterError
from moodle_sync.rosters.cells import MAX_COLUMNS, TOO_LARGE_HINT, Cell, Table, check_rows

__all__ = ["EXCEL_MAX_ROWS", "MAX_XLSX_UNPACKED", "read_xlsx"]

MAX_XLSX_UNPACKED = 100_000_000           # 50 000 rows of nine columns unpack to about 30 MB
EXCEL_MAX_ROWS = 1_048_576                # the last row of a worksheet in Excel and LibreOffice
_CHUNK = 1 << 16
_SAVE_AGAIN = 'open it in Excel or LibreOffice and save it again as "Excel Workbook (.xlsx)"'
_SAVE_AGAIN_SV = 'Öppna filen i Excel eller LibreOffice och spara den igen som "Excel-arbetsbok (.xlsx)".'


def read_xlsx(path: PurePath, data: bytes, wanted: str | None = None) -> Table:
    """The cells of the worksheet ``wanted`` (default: the first visible one) of the workbook ``data``.

    Raises:
        RosterError: a zip bomb, a DOCTYPE in any part, a workbook that cannot be opened or parsed, no such sheet,
            more rows than a roster may have, or a row past Excel's last.
    """
    import openpyxl  # type: ignore[import-untyped]  # heavy; only XLSX rosters need it

    _check_package(path, data)
    try:
        workbook: Any = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, ParseError) as e:
        raise RosterError(f"{path.name}: cannot open it as an Excel workbook ({type(e).__name__}: {e})",
                          hint=_SAVE_AGAIN,
                          swedish="Filen kan inte öppnas som en Excel-arbetsbok. " + _SAVE_AGAIN_SV) from e
    try:
        return _read_sheet(path, workbook, wanted)
    except ParseError as e:  # a worksheet is parsed as its rows are read
        raise RosterError(f"{path.name}: a worksheet of the workbook is not well-formed XML ({e})", hint=_SAVE_AGAIN,
                          swedish="Ett kalkylblad i arbetsboken går inte att läsa (felaktig XML). "
                                  + _SAVE_AGAIN_SV) from e
    except (ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile, OSError) as e:
        # what openpyxl raises on a worksheet it cannot make sense of (a row number that is no number, a shared
        # string that is not there, a damaged zip member …)
        raise RosterError(f"{path.name}: cannot read the worksheet ({type(e).__name__}: {e})", hint=_SAVE_AGAIN,
                          swedish="Kalkylbladet i arbetsboken går inte att läsa. " + _SAVE_AGAIN_SV) from e
    finally:
        workbook.close()


def _read_sheet(path: PurePath, workbook: Any, wanted: str | None) -> Table:
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
    wider = (sheet.max_column or 0) > MAX_COLUMNS  # as the sheet's <dimension> says
    sheet.reset_dimensions()  # some exporters write a wrong <dimension>; read every row that is there
    rows: list[tuple[int, list[Cell]]] = []
    for number, values in enumerate(sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), start=1):
        if number > EXCEL_MAX_ROWS:
            raise RosterError(f"{path.name}: the worksheet has rows past row {EXCEL_MAX_ROWS:,}, the last a "
                              f"spreadsheet can have; it was not read", hint=_SAVE_AGAIN,
                              swedish=f"Kalkylbladet har rader efter rad {EXCEL_MAX_ROWS:,}, den sista ett "
                                      f"kalkylblad kan ha. Filen lästes inte. {_SAVE_AGAIN_SV}".replace(",", " "))
        if values.count(None) == len(values):  # the rows between those with content: no list made
            continue
        end = len(values)
        while values[end - 1] is None:  # the empty cells right of the last value: not kept
            end -= 1
        cells: list[Cell] = [_xlsx_cell(v) for v in values[:end]]
        if any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
            rows.append((number, cells))
            check_rows(path, rows)
    return Table(format="xlsx", sheet=str(sheet.title), rows=rows, sheets=names, wider=wider)


def _xlsx_cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool | datetime.date | datetime.time):
        return value
    return str(value)  # timedelta and anything newer openpyxl may hand back


def _check_package(path: PurePath, data: bytes) -> None:
    """Refuse a zip bomb by its directory alone, then any part that declares a DOCTYPE.

    Python's zipfile stops each member at the size the directory declares, so a lying directory gains nothing.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # openpyxl says what is wrong with it
    with archive:
        members = archive.infolist()
        unpacked = sum(member.file_size for member in members)
        if unpacked > MAX_XLSX_UNPACKED:
            raise RosterError(f"{path.name}: the workbook would unpack to {unpacked / 1e6:,.0f} MB; a roster may "
                              f"unpack to at most {MAX_XLSX_UNPACKED // 1_000_000} MB, so it was not opened",
                              hint=TOO_LARGE_HINT)
        for member in members:
            if member.is_dir():
                continue
            try:
                with archive.open(member) as part:
                    declared = _declares_doctype(part)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError, OSError, EOFError) as e:
                # an encrypted part, an unknown compression method, a damaged stream
                raise RosterError(f"{path.name}: cannot open it as an Excel workbook (its part {member.filename}: "
                                  f"{e})", hint=_SAVE_AGAIN,
                                  swedish="Filen kan inte öppnas som en Excel-arbetsbok. " + _SAVE_AGAIN_SV) from e
            if declared:
                raise RosterError(
                    f"{path.name}: the workbook contains a DOCTYPE (in its part {member.filename}), which Excel and "
                    f"LibreOffice never write and which can hide an attack on the program that reads it; it was "
                    f"not opened", hint=_SAVE_AGAIN,
                    swedish=f"Arbetsboken innehåller en DOCTYPE-deklaration (i delen {member.filename}). Excel och "
                            f"LibreOffice skriver aldrig en sådan, och den kan dölja ett angrepp på programmet som "
                            f"läser filen, så filen öppnades inte. {_SAVE_AGAIN_SV}")


class _Doctype(Exception):
    """Raised inside expat: the part declares a DOCTYPE (or an entity)."""


class _FirstElement(Exception):
    """Raised inside expat: the part's first element is reached, so no DOCTYPE can follow."""


def _declares_doctype(part: IO[bytes]) -> bool:
    """Whether the XML ``part`` declares a DOCTYPE before its first element (a part that is no XML: False)."""
    parser = expat.ParserCreate()

    def doctype(*_: Any) -> None:
        raise _Doctype

    def first_element(*_: Any) -> None:
        raise _FirstElement

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = first_element
    try:
        while chunk := part.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Doctype:
        return True
    except (_FirstElement, expat.ExpatError):
        return False
    return False
