"""CSV in every dialect the hubs' spreadsheet programs write: delimiters, encodings, line ends, quoting."""

from __future__ import annotations

import datetime
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from roster_files import HEADER, TARGET_GROUPS, WriteCsv, csv_bytes, person, write_csv_in

from moodle_sync.errors import RosterError
from moodle_sync.rosters.parse import read_roster
from moodle_sync.rosters.roster import RosterRow
from moodle_sync.rosters.tables import decode, formula_or_error

TODAY = datetime.date(2025, 1, 15)


def read(path: Path, **kwargs: object) -> list[RosterRow]:
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == [], [str(p) for p in roster.problems]
    return roster.rows


ASA = person(1, **{"Förnamn": "Åsa", "Efternamn": "Öberg", "Kommun": "Ludvika kommun",
                   "Målgrupp": "Öppenvård, skyddat boende och HVB-hem; socialsekreterare"})
EXPECTED_ASA = RosterRow(row=2, email="person1@falun.example.se", firstname="Åsa", lastname="Öberg",
                         organisation="Ludvika kommun", unit="Individ- och familjeomsorg",
                         target_groups=("skyddat-boende", "socialsekreterare"),
                         employment_start=datetime.date(2023, 8, 21), employee_id="SE2321000016-1001", county="W")


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize(("encoding", "found"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252"),
])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_every_dialect_reads_the_same_rows(write_csv: WriteCsv, delimiter: str, encoding: str, found: str,
                                           newline: str) -> None:
    path = write_csv([HEADER, ASA, person(2)], delimiter=delimiter, encoding=encoding, newline=newline)
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == []
    assert (roster.format, roster.encoding, roster.delimiter) == ("csv", found, delimiter)
    assert roster.rows[0] == EXPECTED_ASA
    assert [r.row for r in roster.rows] == [2, 3]
    assert roster.columns["firstname"] == "Förnamn" and roster.columns["county"] == "Län"


def test_windows_1252_bytes_come_out_as_swedish_letters(tmp_path: Path) -> None:
    path = tmp_path / "ansi.csv"
    lines = ["E-post;Förnamn;Efternamn;Kommun;Målgrupp", "asa@example.se;Åsa;Öberg;Älvdalens kommun;utbildare"]
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    assert b"\xc5sa;\xd6berg" in path.read_bytes()  # really one byte per letter, as Excel's "CSV" writes them
    roster = read_roster(path, target_groups=TARGET_GROUPS)
    assert roster.encoding == "cp1252"
    assert (roster.rows[0].firstname, roster.rows[0].lastname, roster.rows[0].organisation) == (
        "Åsa", "Öberg", "Älvdalens kommun")


def test_utf16_with_bom_is_excels_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes("\r\n".join(["E-post\tFörnamn\tEfternamn\tKommun\tMålgrupp",
                                  "asa@example.se\tÅsa\tÖberg\tMora kommun\tbvc"]).encode("utf-16"))
    roster = read_roster(path, target_groups=TARGET_GROUPS)
    assert (roster.encoding, roster.delimiter) == ("utf-16", "\t")
    assert roster.rows[0].firstname == "Åsa" and roster.rows[0].target_groups == ("bvc",)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised(codec: str) -> None:
    text, encoding = decode("E-post;Förnamn\r\nå;ö\r\n".encode(codec))
    assert (text, encoding) == ("E-post;Förnamn\r\nå;ö\r\n", codec)


def test_quoted_cells_hold_newlines_delimiters_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_bytes(
        b'E-post,F\xc3\xb6rnamn,Efternamn,Kommun,Enhet,M\xc3\xa5lgrupp\r\n'
        b'a@example.se,Anna,"Berg, von",Falu kommun,"Enhet ""Norr""","socialsekreterare\r\nutbildare, bvc"\r\n'
        b'b@example.se,Bo,Ek,Mora kommun,,"\xc3\x96ppenv\xc3\xa5rd, skyddat boende och HVB-hem"\r\n'
    )
    roster = read_roster(path, target_groups=TARGET_GROUPS)
    assert roster.problems == []
    first, second = roster.rows
    assert (first.row, first.lastname, first.unit) == (2, "Berg, von", 'Enhet "Norr"')
    assert first.target_groups == ("bvc", "socialsekreterare", "utbildare")
    # the multi-line cell is one spreadsheet row: the next person is on row 3, not on line 4
    assert (second.row, second.unit, second.target_groups) == (3, "", ("skyddat-boende",))


def test_blank_rows_are_skipped_but_keep_the_row_numbers_a_person_sees(tmp_path: Path) -> None:
    path = tmp_path / "blanks.csv"
    path.write_bytes(csv_bytes([HEADER, person(1)]) + b"\r\n ; ;\r\n" + csv_bytes([person(2)]) + b";;;;\r\n\r\n\r\n")
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == []
    assert [r.row for r in roster.rows] == [2, 5]


def test_stray_whitespace_is_trimmed_and_email_lower_cased(write_csv: WriteCsv) -> None:
    row = person(1, **{"E-post": "  Anna.Exempel@Falun.Example.SE ", "Förnamn": " Anna  Maria ",
                       "Efternamn": "\tExempel\u00a0", "Kommun": "  Falu   kommun", "Målgrupp": " UTBILDARE ; "})
    header = [f"  {h} " for h in HEADER]
    (only,) = read(write_csv([header, row]))
    assert (only.email, only.firstname, only.lastname, only.organisation) == (
        "anna.exempel@falun.example.se", "Anna Maria", "Exempel", "Falu kommun")
    assert only.target_groups == ("utbildare",)


def test_excels_sep_line_sets_the_delimiter_and_is_not_a_row(tmp_path: Path) -> None:
    path = tmp_path / "sep.csv"
    path.write_bytes(b"sep=,\r\n" + csv_bytes([HEADER, person(1)], delimiter=","))
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.delimiter == "," and roster.header_row == 1 and roster.rows[0].row == 2


def test_decomposed_letters_from_macos_are_composed(write_csv: WriteCsv) -> None:
    decomposed = unicodedata.normalize("NFD", "Åsa")
    header = [unicodedata.normalize("NFD", h) for h in HEADER]
    (only,) = read(write_csv([header, person(1, **{"Förnamn": decomposed})]))
    assert only.firstname == "Åsa" and len(only.firstname) == 3


def test_a_workbook_saved_under_a_csv_name_is_read_as_a_workbook(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in [HEADER, person(1)]:
        workbook.active.append(row)
    path = tmp_path / "really-excel.csv"
    workbook.save(path)
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.format == "xlsx" and len(roster.rows) == 1


def test_an_old_xls_file_is_refused_with_a_way_out(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(RosterError, match=r"\.xls") as caught:
        read_roster(path, target_groups=TARGET_GROUPS)
    assert ".xlsx" in caught.value.hint


# --- round trip: whatever valid people a hub writes, in whatever dialect, come back unchanged ----------------

LETTERS = "abcdefghijklmnopqrstuvwxyzåäöéüABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖÉÜ"
# a value that starts like a formula ("-0", "-Anna") is refused on purpose: see test_roster_rows
name_text = st.text(alphabet=LETTERS + " -'", min_size=1, max_size=30).filter(
    lambda s: s.strip(" -'") != "" and formula_or_error(s.strip()) is None)
# a line break or tab inside an organisation or unit is refused on purpose (Moodle keeps them on one line)
free_text = st.text(alphabet=LETTERS + " -'.,;|\"0123456789()/&", max_size=40).filter(
    lambda s: formula_or_error(s.strip()) is None)
local_part = st.from_regex(r"[a-z0-9]([a-z0-9._+-]{0,20}[a-z0-9])?", fullmatch=True).filter(lambda s: ".." not in s)
domains = st.sampled_from(["example.se", "falun.example.se", "exempel.invalid", "mora.example.se"])
group_spellings = {key: [key, key.upper(), name, name.lower(), f" {name} "] for key, name in TARGET_GROUPS.items()}


@st.composite
def people(draw: st.DrawFn) -> list[tuple[list[str], dict[str, object]]]:
    """Rows of valid, distinct people, each with the row as written and what reading it must give."""
    count = draw(st.integers(min_value=1, max_value=6))
    locals_ = draw(st.lists(local_part, min_size=count, max_size=count, unique=True))
    out: list[tuple[list[str], dict[str, object]]] = []
    for i, local in enumerate(locals_):
        keys = draw(st.lists(st.sampled_from(sorted(TARGET_GROUPS)), min_size=1, max_size=3))
        spelt = [draw(st.sampled_from(group_spellings[k])) for k in keys]
        separator = draw(st.sampled_from([";", ",", "|", "\n", " ; "]))
        first, last = draw(name_text), draw(name_text)
        org = draw(free_text.filter(lambda s: s.strip() != ""))
        unit = draw(free_text)
        start = draw(st.none() | st.dates(datetime.date(1970, 1, 1), TODAY))
        employee = draw(st.none() | st.from_regex(r"SE[0-9]{10}-[0-9A-Za-z]{1,6}", fullmatch=True))
        county = draw(st.sampled_from(["W", "w", "20", "Dalarna", "Dalarnas län", "AB", "Stockholms län"]))
        email = f"{local}@{draw(domains)}"
        written = [draw(st.sampled_from([email, email.upper()])), first, last, org, unit, separator.join(spelt),
                   start.isoformat() if start else "", f"{i}{employee}" if employee else "", county]
        expected: dict[str, object] = {
            "email": email.lower(), "firstname": " ".join(first.split()), "lastname": " ".join(last.split()),
            "organisation": " ".join(org.split()), "unit": " ".join(unit.split()),
            "target_groups": tuple(sorted(set(keys))), "employment_start": start,
            "employee_id": f"{i}{employee}" if employee else None,
            "county": "AB" if county in ("AB", "Stockholms län") else "W",
            "userid": None, "moodle_email": None,  # a row read matches no account yet: the planner's part
        }
        out.append((written, expected))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=people(), delimiter=st.sampled_from([";", ",", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
       newline=st.sampled_from(["\r\n", "\n"]))
def test_valid_people_round_trip_through_any_dialect(tmp_path_factory: pytest.TempPathFactory,
                                                     rows: list[tuple[list[str], dict[str, object]]],
                                                     delimiter: str, encoding: str, newline: str) -> None:
    path = write_csv_in(tmp_path_factory.mktemp("rt"), [HEADER] + [w for w, _ in rows], delimiter=delimiter,
                        encoding=encoding, newline=newline)
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == [], [str(p) for p in roster.problems]
    assert roster.delimiter == delimiter
    if encoding == "cp1252":
        assert roster.encoding in ("cp1252", "utf-8")  # text without å ä ö is both
    else:
        assert roster.encoding == encoding
    got = [{k: v for k, v in vars(r).items() if k != "row"} for r in roster.rows]
    assert got == [e for _, e in rows]
    assert [r.row for r in roster.rows] == list(range(2, 2 + len(rows)))
