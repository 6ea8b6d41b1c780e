"""A roster file comes from outside (a hub's export, a mail attachment): it may not take the machine's memory,
and no name in it may hold invisible or direction-changing characters."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import pytest
from roster_files import HEADER, TARGET_GROUPS, WriteCsv, WriteXlsx, csv_bytes, person

from moodle_sync.errors import RosterError
from moodle_sync.rosters.parse import read_roster
from moodle_sync.rosters.tables import MAX_ROSTER_BYTES, MAX_ROSTER_ROWS, MAX_XLSX_UNPACKED

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


def test_line_breaks_and_tabs_inside_cells_and_a_bom_before_the_file_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_bytes([HEADER, person(1, **{"Målgrupp": "bvc\nutbildare", "Enhet": "IFO\tFalun"})],
                               encoding="utf-8-sig"))
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == [] and roster.rows[0].target_groups == ("bvc", "utbildare")


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
