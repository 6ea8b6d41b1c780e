"""XLSX rosters: date cells, numbers that must stay ids, title rows, hidden sheets."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import openpyxl
import pytest
from roster_files import HEADER, TARGET_GROUPS, WriteXlsx, person

from moodle_sync.errors import RosterError
from moodle_sync.rosters.parse import read_roster

TODAY = datetime.date(2025, 1, 15)


def test_date_cells_and_numeric_ids(write_xlsx: WriteXlsx) -> None:
    rows = [
        HEADER,
        [*person(1)[:6], datetime.datetime(2024, 3, 1), 1234, "Dalarna"],
        [*person(2)[:6], datetime.date(2022, 11, 30), 5678.0, 20],
        [*person(3)[:6], "2021-01-04", 20211234567, "w"],
        [*person(4)[:6], "2020-05-06 00:00:00", "  SE2321000016-77 ", "Dalarnas län"],
        [*person(5)[:6], None, None, "W"],
    ]
    roster = read_roster(write_xlsx(rows), target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == [], [str(p) for p in roster.problems]
    assert (roster.format, roster.encoding, roster.delimiter, roster.sheet) == ("xlsx", None, None, "Personal")
    assert [r.employment_start for r in roster.rows] == [
        datetime.date(2024, 3, 1), datetime.date(2022, 11, 30), datetime.date(2021, 1, 4), datetime.date(2020, 5, 6),
        None]
    assert [r.employee_id for r in roster.rows] == ["1234", "5678", "20211234567", "SE2321000016-77", None]
    assert [r.county for r in roster.rows] == ["W"] * 5
    assert [r.row for r in roster.rows] == [2, 3, 4, 5, 6]


def test_numbers_stored_as_floats_stay_whole_ids(write_xlsx: WriteXlsx, tmp_path: Path) -> None:
    # openpyxl writes 5678 as "5678"; other programs write "5678.0" or E-notation, which read back as floats
    source = write_xlsx([HEADER, [*person(1)[:7], 5678, "W"], [*person(2)[:7], 20211234567, "W"]])
    patched = tmp_path / "floats.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(patched, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<v>5678</v>" in data and b"<v>20211234567</v>" in data
                data = data.replace(b"<v>5678</v>", b"<v>5678.0</v>")
                data = data.replace(b"<v>20211234567</v>", b"<v>2.0211234567E10</v>")
            zout.writestr(item, data)
    roster = read_roster(patched, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == [] and [r.employee_id for r in roster.rows] == ["5678", "20211234567"]


def test_title_rows_above_the_header_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "Personallista – Länsstyrelsen Dalarna"
    for col, header in enumerate(HEADER, start=1):
        sheet.cell(row=3, column=col, value=header)
    for col, value in enumerate(person(1), start=1):
        sheet.cell(row=4, column=col, value=value)
    for col, value in enumerate(person(2), start=1):
        sheet.cell(row=7, column=col, value=value)
    sheet.cell(row=12, column=2, value="   ")  # a cell someone typed spaces into, far below
    path = tmp_path / "title.xlsx"
    workbook.save(path)
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == []
    assert roster.header_row == 3
    assert [r.row for r in roster.rows] == [4, 7]


def test_the_first_visible_sheet_is_read(write_xlsx: WriteXlsx) -> None:
    path = write_xlsx([HEADER, person(1)], title="Blad1", before=["Listor"])
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.sheet == "Blad1" and len(roster.rows) == 1


def test_row_problems_in_a_workbook_name_the_sheet_row(write_xlsx: WriteXlsx) -> None:
    rows = [HEADER, person(1), [*person(2)[:6], 45292, None, "W"], [*person(3)[:6], datetime.time(8, 30), None, "W"]]
    roster = read_roster(write_xlsx(rows), target_groups=TARGET_GROUPS, today=TODAY)
    assert [(p.row, p.column, p.value, p.message) for p in roster.problems] == [
        (3, "Anställningsdatum", "45292", "is a number, not a date"),
        (4, "Anställningsdatum", "08:30:00", "is a time of day, not a date"),
    ]
    assert [r.row for r in roster.rows] == [2]


def test_a_broken_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(RosterError, match="cannot open it as an Excel workbook"):
        read_roster(path, target_groups=TARGET_GROUPS)


def test_a_workbook_with_only_empty_rows_is_refused(write_xlsx: WriteXlsx) -> None:
    with pytest.raises(RosterError, match="no rows with content"):
        read_roster(write_xlsx([[None, "  "], []]), target_groups=TARGET_GROUPS)


def test_error_cells_in_a_workbook_are_refused_with_their_row(write_xlsx: WriteXlsx) -> None:
    rows = [HEADER, person(1), [*person(2)[:3], "#REF!", *person(2)[4:]], [*person(3)[:4], "#N/A", *person(3)[5:]]]
    roster = read_roster(write_xlsx(rows), target_groups=TARGET_GROUPS, today=TODAY)
    assert [(p.row, p.column, p.value) for p in roster.problems] == [(3, "Kommun", "#REF!"), (4, "Enhet", "#N/A")]
    assert all("spreadsheet error" in p.message for p in roster.problems)
    assert [r.row for r in roster.rows] == [2]
