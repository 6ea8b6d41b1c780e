"""A roster file comes from outside (a hub's export, a mail attachment): it may not take the machine's time or
memory whatever its shape, only a regular file is read, a workbook may declare no DOCTYPE, and no name in it may
hold invisible or direction-changing characters or line breaks."""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from roster_files import HEADER, LAUGHS, TARGET_GROUPS, XXE, WriteCsv, WriteXlsx, csv_bytes, person, with_doctype

from moodle_sync.errors import RosterError
from moodle_sync.rosters.cells import MAX_COLUMNS
from moodle_sync.rosters.parse import read_roster
from moodle_sync.rosters.tables import MAX_FIELDS, MAX_ROSTER_BYTES, MAX_ROSTER_ROWS, MAX_XLSX_UNPACKED, read_table

TODAY = datetime.date(2025, 1, 15)

HIDDEN = {
    "zero-width-space": "\u200b", "zero-width-joiner": "\u200d", "word-joiner": "\u2060", "bom": "\ufeff",
    "right-to-left-override": "\u202e", "left-to-right-isolate": "\u2066", "right-to-left-mark": "\u200f",
    "soft-hyphen": "\u00ad", "hangul-filler": "\u3164", "halfwidth-hangul-filler": "\uffa0", "nul": "\x00",
    "escape": "\x1b", "c1-control": "\x9b",
}
COLUMNS = ["E-post", "Förnamn", "Efternamn", "Kommun", "Enhet", "Målgrupp", "HSA-id", "Län", "Anställningsdatum"]


def with_hidden(column: str, char: str) -> list[str]:
    """person(2) with ``char`` in the middle of ``column``."""
    row = person(2)
    value = row[HEADER.index(column)]
    row[HEADER.index(column)] = value[:2] + char + value[2:]
    return row


@pytest.mark.parametrize("char", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_name_with_an_invisible_character_is_refused_with_its_row(write_csv: WriteCsv, char: str) -> None:
    roster = read_roster(write_csv([HEADER, person(1), with_hidden("Efternamn", char)]), target_groups=TARGET_GROUPS,
                         today=TODAY)
    assert [r.row for r in roster.rows] == [2]
    [problem] = roster.problems
    assert (problem.row, problem.column) == (3, "Efternamn")
    assert f"(U+{ord(char):04X}" in problem.message and "at character 3" in problem.message


@pytest.mark.parametrize("column", COLUMNS)
def test_every_column_is_checked_and_reported_once(write_csv: WriteCsv, column: str) -> None:
    roster = read_roster(write_csv([HEADER, with_hidden(column, "\u202e")]), target_groups=TARGET_GROUPS,
                         today=TODAY)
    assert [(p.row, p.column) for p in roster.problems] == [(2, column)]
    assert "changes the direction of the text" in roster.problems[0].message and roster.rows == []


def test_an_invisible_character_in_a_workbook_cell_is_refused(write_xlsx: WriteXlsx) -> None:
    roster = read_roster(write_xlsx([HEADER, person(1, **{"Förnamn": "Anna\u200bLena"})]),
                         target_groups=TARGET_GROUPS, today=TODAY)
    assert [(p.row, p.column) for p in roster.problems] == [(2, "Förnamn")]


def test_line_breaks_between_target_groups_around_cells_and_a_bom_before_the_file_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([HEADER, person(1, **{"Målgrupp": "bvc\nutbildare", "Enhet": "\tIFO Falun\r\n",
                                                     "Förnamn": "Anna\n"})], encoding="utf-8-sig"))
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == [] and roster.rows[0].target_groups == ("bvc", "utbildare")
    assert (roster.rows[0].firstname, roster.rows[0].unit) == ("Anna", "IFO Falun")


BREAKS = {"line-separator": "\u2028", "paragraph-separator": "\u2029", "tab-newline": "\t\n", "tab": "\t",
          "crlf": "\r\n", "newline": "\n", "next-line": "\x85"}
ONE_LINE = ["Förnamn", "Efternamn", "Kommun", "Enhet", "HSA-id"]


@pytest.mark.parametrize("char", BREAKS.values(), ids=BREAKS.keys())
@pytest.mark.parametrize("column", ONE_LINE)
def test_a_line_break_or_tab_inside_a_one_line_value_is_refused_with_its_row_and_column(
        write_csv: WriteCsv, column: str, char: str) -> None:
    """Names, organisation, unit and id are one line in Moodle: a break inside one is never quietly a space."""
    roster = read_roster(write_csv([HEADER, person(1), with_hidden(column, char)]), target_groups=TARGET_GROUPS,
                         today=TODAY)
    assert [(p.row, p.column) for p in roster.problems] == [(3, column)]
    assert "at character 3; Moodle keeps this value on one line" in roster.problems[0].message
    assert [r.row for r in roster.rows] == [2]


def test_a_line_separator_in_a_workbook_cell_is_refused(write_xlsx: WriteXlsx) -> None:
    roster = read_roster(write_xlsx([HEADER, person(1, **{"Kommun": "Falu\u2029kommun"})]),
                         target_groups=TARGET_GROUPS, today=TODAY)
    assert [(p.row, p.column) for p in roster.problems] == [(2, "Kommun")]
    assert "U+2029 PARAGRAPH SEPARATOR" in roster.problems[0].message


def test_a_formula_after_spaces_in_a_workbook_cell_is_refused(write_xlsx: WriteXlsx) -> None:
    roster = read_roster(write_xlsx([HEADER, person(1, **{"Efternamn": "\u00a0+ 1", "Enhet": "@ SUM(1)"})]),
                         target_groups=TARGET_GROUPS, today=TODAY)
    assert [(p.row, p.column) for p in roster.problems] == [(2, "Efternamn"), (2, "Enhet")]
    assert all("formula" in p.message for p in roster.problems)


# --- size -----------------------------------------------------------------------------------------

def test_a_file_over_the_byte_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    row = csv_bytes([person(1, **{"Enhet": "x" * 200})])
    path.write_bytes(csv_bytes([HEADER]) + row * (MAX_ROSTER_BYTES // len(row) + 1))
    with pytest.raises(RosterError, match=f"at most {MAX_ROSTER_BYTES // 1_000_000} MB, so it was not read") as caught:
        read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert "--mode add" in caught.value.hint


def test_more_rows_than_the_limit_are_refused_at_the_first_one_too_many(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([HEADER] + [person(n) for n in range(MAX_ROSTER_ROWS)]))
    with pytest.raises(RosterError, match=f"more than {MAX_ROSTER_ROWS:,} rows \\(row {MAX_ROSTER_ROWS + 1} is"):
        read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)


def test_a_county_of_ten_thousand_people_is_well_within_the_limits(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([HEADER] + [person(n) for n in range(10_000)]))
    assert len(read_roster(path, target_groups=TARGET_GROUPS, today=TODAY).rows) == 10_000


def test_a_zip_bomb_workbook_is_refused_before_it_is_opened(write_xlsx: WriteXlsx, tmp_path: Path) -> None:
    """A real roster's sheet padded with spaces until it unpacks past the limit, compressed to a few hundred KB."""
    source = write_xlsx([HEADER, person(1)])
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED,
                                                              compresslevel=1) as out:
        for info in original.infolist():
            data = original.read(info)
            if not info.filename.startswith("xl/worksheets/sheet"):
                out.writestr(info, data)
                continue
            head, tail = data.rsplit(b"</worksheet>", 1)
            with out.open(info.filename, "w", force_zip64=True) as member:
                member.write(head)
                chunk = b" " * 1_000_000
                for _ in range(MAX_XLSX_UNPACKED // len(chunk) + 1):
                    member.write(chunk)
                member.write(b"</worksheet>" + tail)
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(RosterError, match=f"at most {MAX_XLSX_UNPACKED // 1_000_000} MB, so it was not opened"):
        read_roster(bomb, target_groups=TARGET_GROUPS, today=TODAY)


def test_a_normal_workbook_is_far_below_the_unpacked_limit(write_xlsx: WriteXlsx) -> None:
    path = write_xlsx([HEADER] + [person(n) for n in range(200)])
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        assert sum(i.file_size for i in archive.infolist()) * 100 < MAX_XLSX_UNPACKED
    assert len(read_roster(path, target_groups=TARGET_GROUPS, today=TODAY).rows) == 200


# --- a workbook's XML may declare no DOCTYPE (entity bombs, external entities) -----------------------------

DOCTYPES = {"billion-laughs": (LAUGHS, "&l9;"), "external-entity": (XXE, "&x;"), "unused": (LAUGHS, "")}
PARTS = ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml", "xl/styles.xml", "docProps/core.xml"]


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("kind", DOCTYPES, ids=DOCTYPES.keys())
def test_a_workbook_with_a_doctype_in_any_part_is_refused_naming_the_file_and_part(
        write_xlsx: WriteXlsx, part: str, kind: str) -> None:
    doctype, reference = DOCTYPES[kind]
    path = with_doctype(write_xlsx([HEADER, person(1)]), part, doctype, reference=reference)
    with pytest.raises(RosterError) as caught:
        read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert f"{path.name}: the workbook contains a DOCTYPE (in its part {part})" in str(caught.value)
    assert "save it again" in caught.value.hint
    assert "DOCTYPE" in caught.value.swedish and "spara den igen" in caught.value.swedish


def test_a_doctype_in_a_part_written_in_utf_16_is_refused_too(write_xlsx: WriteXlsx) -> None:
    path = with_doctype(write_xlsx([HEADER, person(1)]), "xl/worksheets/sheet1.xml", XXE, reference="&x;",
                        encoding="utf-16")
    with pytest.raises(RosterError, match="contains a DOCTYPE"):
        read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)


def test_a_worksheet_that_is_not_well_formed_xml_is_a_roster_error(write_xlsx: WriteXlsx, tmp_path: Path) -> None:
    source = write_xlsx([HEADER, person(1)])
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(broken, "w") as out:
        for info in original.infolist():
            data = original.read(info)
            out.writestr(info, data.replace(b"</row>", b"</rad>", 1) if "worksheets" in info.filename else data)
    with pytest.raises(RosterError, match="not well-formed XML"):
        read_roster(broken, target_groups=TARGET_GROUPS, today=TODAY)


# --- reading takes time and memory in proportion to the file, whatever its shape ---------------------------

def sheet_with(tmp_path: Path, rows_xml: str, dimension: str = "") -> Path:
    """A workbook whose one worksheet holds ``rows_xml`` (``<row>`` elements with inline strings) and declares
    its size as ``dimension`` (e.g. "A1:XFD2", as Excel writes it), if given."""
    path = tmp_path / f"sheet{len(list(tmp_path.iterdir()))}.xlsx"
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    size = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"{size}<sheetData>{rows_xml}</sheetData></worksheet>")
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info, sheet if info.filename == "xl/worksheets/sheet1.xml" else source.read(info))
    return path


def inline_row(number: int, cells: dict[str, str]) -> str:
    return f'<row r="{number}">' + "".join(f'<c r="{col}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
                                           for col, value in cells.items()) + "</row>"


def test_a_cell_in_the_last_column_of_every_row_makes_no_wide_rows(tmp_path: Path) -> None:
    """Each row kept is at most MAX_COLUMNS cells: a cell in XFD (column 16 384) made 16 384 per row before."""
    rows = [inline_row(1, dict(zip("ABCDEF", HEADER[:6], strict=True)) | {"XFD": "x"})]
    rows += [inline_row(n, dict(zip("ABCDEF", person(n)[:6], strict=True)) | {"XFD": "x"}) for n in range(2, 202)]
    path = sheet_with(tmp_path, "".join(rows), "A1:XFD201")
    table = read_table(path, path.read_bytes())
    assert len(table.rows) == 201 and max(len(cells) for _, cells in table.rows) <= MAX_COLUMNS and table.wider
    assert table.rows[1][1][:2] == ["person2@falun.example.se", "Anna"]
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert len(roster.rows) == 200 and roster.problems == []


def test_a_roster_column_past_the_columns_read_is_named_in_the_hint(tmp_path: Path) -> None:
    header = dict(zip("ABCDE", HEADER[:5], strict=True)) | {"BM": "Målgrupp"}  # column 65
    path = sheet_with(tmp_path, inline_row(1, header) + inline_row(2, {"A": "a@falun.se", "BM": "bvc"}), "A1:BM2")
    with pytest.raises(RosterError, match="required column missing: target_groups") as caught:
        read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert f"only the first {MAX_COLUMNS} columns (A to BL) are read" in caught.value.hint


def test_a_row_past_the_last_row_of_a_spreadsheet_is_refused(tmp_path: Path) -> None:
    """openpyxl hands back every missing row up to a row's number; <row r="2000000000"> would never end."""
    path = sheet_with(tmp_path, inline_row(1, dict(zip("ABCDEF", HEADER[:6], strict=True)))
                      + inline_row(1_048_577, {"A": "x"}))
    with pytest.raises(RosterError, match="rows past row 1,048,576, the last a spreadsheet can have"):
        read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)


class LinesToCsv:
    """Counts the lines the CSV parser is handed (csv.reader wrapped while the test runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = csv.reader

        def counting(lines: Iterator[str], **kwargs: Any) -> Any:
            def each() -> Iterator[str]:
                for line in lines:
                    self.count += 1
                    yield line
            return real(each(), **kwargs)

        monkeypatch.setattr(csv, "reader", counting)


@pytest.mark.parametrize("blank", ["\n", "\r\n", ";;;  ;\n", " \t \r"], ids=["lf", "crlf", "delimiters", "spaces-cr"])
def test_blank_lines_are_passed_over_in_one_step_and_still_counted_as_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([HEADER]) + (blank * 100_000).encode() + csv_bytes([person(1), person(2)]))
    lines = LinesToCsv(monkeypatch)
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert [r.row for r in roster.rows] == [100_002, 100_003]  # the rows a spreadsheet shows them in
    assert lines.count < 100, "each blank line was handed to the CSV parser one by one"  # the delimiter guess too


def test_a_quoted_cell_spanning_blank_lines_keeps_them(write_csv: WriteCsv) -> None:
    roster = read_roster(write_csv([HEADER, person(1, **{"Målgrupp": "bvc\n\n\nutbildare"}), person(2)]),
                         target_groups=TARGET_GROUPS, today=TODAY)
    assert [(r.row, r.target_groups) for r in roster.rows] == [(2, ("bvc", "utbildare")), (3, ("socialsekreterare",))]


@pytest.mark.parametrize("flood", ["\n" * 1_100_000, ('"' + "\n" * 99_999 + '"\n') * 11],
                         ids=["blank-lines", "lines-inside-quotes"])
def test_more_rows_or_lines_than_a_spreadsheet_can_hold_are_refused(tmp_path: Path, flood: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([HEADER]) + flood.encode() + csv_bytes([person(1)]))
    with pytest.raises(RosterError, match="more than 1,048,576 rows, more than a spreadsheet can have"):
        read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)


def test_a_row_of_more_cells_than_a_spreadsheet_has_is_refused_before_it_is_split(write_csv: WriteCsv) -> None:
    path = write_csv([HEADER, person(1)])
    path.write_bytes(path.read_bytes() + b";" * MAX_FIELDS + b"x\r\n")
    with pytest.raises(RosterError, match=f"row 3 has more than {MAX_FIELDS:,} cells"):
        read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)


def test_a_csv_row_keeps_only_the_columns_read(write_csv: WriteCsv) -> None:
    path = write_csv([HEADER + [""] * 100 + ["Anteckning"], person(1) + [""] * 100 + ["x"]])
    table = read_table(path, path.read_bytes())
    assert [len(cells) for _, cells in table.rows] == [len(HEADER), len(HEADER)] and table.wider
    assert len(read_roster(path, target_groups=TARGET_GROUPS, today=TODAY).rows) == 1


# --- only a regular file is read ----------------------------------------------------------------------------

def test_a_fifo_given_as_a_roster_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "roster.csv"
    os.mkfifo(fifo)
    done = threading.Event()

    def let_a_waiting_reader_go() -> None:  # so that a reader that did open it fails this test instead of hanging
        if not done.wait(20):
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    helper = threading.Thread(target=let_a_waiting_reader_go, daemon=True)
    helper.start()
    try:
        with pytest.raises(RosterError) as caught:
            read_roster(fifo, target_groups=TARGET_GROUPS, today=TODAY)
    finally:
        done.set()
        helper.join()
    assert str(caught.value).startswith(f"{fifo}: is a named pipe (FIFO), not a roster file; it was not read")


def test_a_device_given_as_a_roster_is_refused() -> None:
    with pytest.raises(RosterError, match="is a character device, not a roster file"):
        read_roster("/dev/zero", target_groups=TARGET_GROUPS, today=TODAY)


@pytest.mark.parametrize("rows_xml", [
    '<row r="x1"><c r="A1" t="inlineStr"><is><t>E-post</t></is></c></row>',   # a row number that is no number
    '<row r="1"><c r="A1" t="s"><v>7</v></c></row>',                           # a shared string that is not there
], ids=["row-number", "shared-string"])
def test_a_worksheet_openpyxl_cannot_read_is_a_roster_error(tmp_path: Path, rows_xml: str) -> None:
    with pytest.raises(RosterError, match="cannot read the worksheet"):
        read_roster(sheet_with(tmp_path, rows_xml), target_groups=TARGET_GROUPS, today=TODAY)
