"""Builders for roster files in every dialect the hubs send (imported by the roster tests as ``roster_files``)."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

#: a small set of target groups; two names hold a comma, as the real ones do
TARGET_GROUPS = {
    "socialsekreterare": "Socialsekreterare och biståndsbedömare",
    "skyddat-boende": "Öppenvård, skyddat boende och HVB-hem",
    "bvc": "Mödrahälsovård, barnavårdscentral (BVC) och gynekologer",
    "vardcentral": "Vårdcentral och asylhälsan",
    "utbildare": "Utbildare",
}

HEADER = ["E-post", "Förnamn", "Efternamn", "Kommun", "Enhet", "Målgrupp", "Anställningsdatum", "HSA-id", "Län"]

_counter = itertools.count()

WriteCsv = Callable[..., Path]
WriteXlsx = Callable[..., Path]


def person(n: int = 1, **overrides: str) -> list[str]:
    """One valid row under :data:`HEADER`; ``overrides`` replace cells by header."""
    row = {"E-post": f"person{n}@falun.example.se", "Förnamn": "Anna", "Efternamn": f"Exempel{n}",
           "Kommun": "Falu kommun", "Enhet": "Individ- och familjeomsorg", "Målgrupp": "socialsekreterare",
           "Anställningsdatum": "2023-08-21", "HSA-id": f"SE2321000016-{1000 + n}", "Län": "W"}
    row.update(overrides)
    return [row[h] for h in HEADER]


def csv_bytes(rows: Sequence[Sequence[str]], *, delimiter: str = ";", encoding: str = "utf-8",
              newline: str = "\r\n") -> bytes:
    """Rows as CSV the way a spreadsheet program writes them (quotes only where needed)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buffer.getvalue().encode(encoding)


def write_csv_in(directory: Path, rows: Sequence[Sequence[str]], *, name: str = "", **kwargs: Any) -> Path:
    path = directory / (name or f"roster{next(_counter)}.csv")
    path.write_bytes(csv_bytes(rows, **kwargs))
    return path


def write_xlsx_in(directory: Path, rows: Sequence[Sequence[Any]], *, name: str = "", title: str = "Personal",
                  before: Sequence[str] = ()) -> Path:
    """A workbook whose first sheet holds ``rows``; ``before`` adds hidden sheets in front of it."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    for i, hidden in enumerate(before):
        extra = workbook.create_sheet(hidden, index=i)
        extra.append(["socialsekreterare"])
        extra.sheet_state = "hidden"
    path = directory / (name or f"roster{next(_counter)}.xlsx")
    workbook.save(path)
    return path


#: a document type declaration with an entity bomb ("billion laughs": 10**9 characters from &l9;)
LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY l0 "lollollollol">'
          + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)) + "]>")
#: one that reads a file of the machine into a cell (XML external entity)
XXE = '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def with_doctype(path: Path, part: str, doctype: str, *, reference: str = "", encoding: str = "utf-8") -> Path:
    """A copy of the workbook at ``path`` whose part ``part`` starts with ``doctype`` (its first "Anna" replaced
    by ``reference``, e.g. "&l9;"), the part written in ``encoding``."""
    out = path.with_name(f"doctype-{next(_counter)}.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                text = data.decode("utf-8").removeprefix('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
                if reference:
                    text = text.replace("Anna", reference, 1)
                declaration = f'<?xml version="1.0" encoding="{encoding}"?>'
                data = (declaration + doctype + text).encode(encoding)  # "utf-16" puts a byte-order mark first
            target.writestr(info, data)
    return out
