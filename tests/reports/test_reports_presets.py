"""Presets: the yearly account to the ministry (redovisning) and the follow-up report."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import openpyxl
from report_facts import LABELS, done, fact, many

from moodle_sync.reports import PRESETS, TOTALS, Report, Suppressed, redovisning, to_csv, to_text, to_xlsx, uppfoljning
from moodle_sync.reports.render import html_document

D = datetime.date
SECRET = b"test secret"
AS_OF = D(2025, 1, 20)


def facts_2024() -> list:  # type: ignore[type-arg]
    return (
        # VINR v2: 12 reached in W (soc and chef), 9 in C, 2 in AB; 7 of W's completed in 2024
        many(1, 5, target_groups=("soc", "chef"), completed_on=D(2024, 3, 3))
        + many(10, 2, target_groups=("soc", "chef"), completed_on=D(2024, 4, 4))
        + many(20, 5, target_groups=("soc",))
        + many(40, 9, county="C", target_groups=("bvc",))
        + many(60, 2, county="AB", completed_on=D(2024, 5, 5))
        # enrolled 2023, completed 2024: completed, not reached
        + many(70, 6, county="C", enrolled_since=D(2023, 9, 1), completed_on=D(2024, 2, 2))
        # the old version, completed in 2023: not in the 2024 account at all
        + many(80, 8, major=1, enrolled_since=D(2023, 1, 1), completed_on=D(2023, 3, 3))
        # the old version, still enrolled and completed in 2024
        + many(90, 6, major=1, enrolled_since=D(2023, 1, 1), completed_on=D(2024, 1, 15))
        # 2025: not counted
        + many(100, 4, enrolled_since=D(2025, 1, 2))
        + [fact(200, course_key="hrv-soc", major=1, current_major=1, enrolled_since=D(2024, 8, 1))]
    )


def test_redovisning_has_a_reached_and_a_completed_pivot_per_course_version() -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF, secret=SECRET)
    assert report.title == "Redovisning 2024: nådda och genomförda per län och målgrupp"
    assert [t.title for t in report.tables] == [
        "Nådda – HRV fördjupning, socialtjänst, version 1 (aktuell)",
        "Genomförda – HRV fördjupning, socialtjänst, version 1 (aktuell)",
        "Nådda – VINR grundkurs, version 1 (äldre version)",
        "Genomförda – VINR grundkurs, version 1 (äldre version)",
        "Nådda – VINR grundkurs, version 2 (aktuell)",
        "Genomförda – VINR grundkurs, version 2 (aktuell)",
    ]
    for table in report.tables:
        assert [c.title for c in table.columns] == [
            "Län \\ Målgrupp", "Socialsekreterare och biståndsbedömare", "Mödrahälsovård, BVC och gynekologer",
            "Chefer, samordnare och verksamhetsutvecklare", "Totalt"]
        assert len(table.rows) == 21 and table.threshold == 5


def near(shown: object, true: int, groups: int = 1) -> bool:
    """A published count for ``true`` people in ``groups`` groups (organisation, target groups, course version,
    month: reports/groups.py), each rounded to a multiple of 3 at most 2 away; or the small-count marker."""
    if isinstance(shown, Suppressed):
        return shown.primary and 1 <= true <= 3 + 2 * groups
    return isinstance(shown, int) and shown % 3 == 0 and abs(shown - true) <= 2 * groups


def test_redovisning_counts_reached_in_the_year_and_completed_in_the_year() -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF, secret=SECRET)
    reached, completed = report.tables[4], report.tables[5]
    county = {r["county"]: r for r in reached.rows}
    # W's twelve: seven in soc and chef, five in soc only (two groups)
    assert near(county["Dalarnas län"]["target_group:soc"], 12, 2)
    assert near(county["Dalarnas län"]["target_group:chef"], 7)
    assert near(county["Dalarnas län"]["total"], 12, 2)
    assert near(county["Uppsala län"]["target_group:bvc"], 9)          # the six enrolled in 2023 are not reached
    assert near(county["Stockholms län"]["total"], 2)
    assert near(reached.totals["total"], 23, 4)
    assert reached.totals["total"] == sum(r["total"] for r in reached.rows if isinstance(r["total"], int)) \
        or any(isinstance(r["total"], Suppressed) for r in reached.rows)
    done_by = {r["county"]: r for r in completed.rows}
    assert near(done_by["Uppsala län"]["total"], 6)                     # enrolled 2023, completed 2024
    assert near(done_by["Dalarnas län"]["total"], 7, 2)                 # five in March, two in April
    assert near(completed.totals["total"], 15, 4)
    assert near(report.tables[3].totals["total"], 6)                   # the 2023 completions are left out
    assert county["Gotlands län"]["total"] == 0                        # nobody is always 0


def test_redovisning_header_says_what_was_counted_and_how() -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF, threshold=10, secret=SECRET)
    header = " ".join(report.header)
    assert "1 januari–31 december 2024" in header and "2025-01-20" in header
    assert "Nådda: personer som skrevs in på kursen under året" in header
    assert "Genomförda: personer som slutförde kursen under året" in header
    assert "en gång per cell" in header and "bara en gång i kolumnen och raden Totalt" in header
    assert "huvudversion" in header
    assert "slumpvis avrundning i små grupper" in header and "(3, 6, 9) visas som <10" in header
    assert "summan av sina gruppers avrundade antal" in header
    assert all(t.threshold == 10 for t in report.tables)
    early = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=D(2024, 10, 1), secret=SECRET)
    assert "Året är inte avslutat" in " ".join(early.header)


def test_redovisning_counts_are_rounded_and_the_same_people_show_the_same_number() -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF, secret=SECRET)
    for table in report.tables:
        for row in [*table.rows, table.totals]:
            for key, value in row.items():
                if key.startswith("target_group:") or key == "total":
                    assert isinstance(value, Suppressed) or value % 3 == 0, (table.title, row)
    reached = {r["county"]: r for r in report.tables[4].rows}
    # W's soc and W's total count the same twelve people: one number, wherever they are counted
    assert reached["Dalarnas län"]["target_group:soc"] == reached["Dalarnas län"]["total"]
    again = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF, secret=SECRET)
    assert [t.rows for t in again.tables] == [t.rows for t in report.tables]
    drawn = {repr([[*t.rows, t.totals] for t in redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF,
                                                             secret=site).tables]) for site in (b"a", b"b", b"c")}
    assert len(drawn) > 1  # the site's secret decides the draw


def test_redovisning_charts_come_from_the_rounded_tables() -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF, secret=SECRET)
    # three course versions, two charts each, but the version nobody completed in 2024 draws none
    assert len(report.charts) == 2 * 2
    assert all(any(isinstance(p.value, int | float) and p.value > 0 for p in c.points) for c in report.charts)
    by_county = report.charts[2]
    assert by_county.title == "Genomförda per län – VINR grundkurs, version 2 (aktuell)"
    values = {p.label: p.value for p in by_county.points}
    table = {r["county"]: r["total"] for r in report.tables[5].rows}
    assert values == table
    by_group = report.charts[3]
    assert [p.label for p in by_group.points] == ["Socialsekreterare och biståndsbedömare",
                                                  "Mödrahälsovård, BVC och gynekologer",
                                                  "Chefer, samordnare och verksamhetsutvecklare"]


def test_redovisning_renders_everywhere(tmp_path: Path) -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF, secret=SECRET)
    text = to_text(report)
    assert "Nådda – VINR grundkurs, version 2 (aktuell)" in text
    assert text.count("slumpvis avrundning") == 1          # the rule once, not once per table
    stream = io.StringIO()
    to_csv(report, stream)
    rows = list(csv.reader(io.StringIO(stream.getvalue().lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [report.title]
    assert ["Län \\ Målgrupp", "Socialsekreterare och biståndsbedömare", "Mödrahälsovård, BVC och gynekologer",
            "Chefer, samordnare och verksamhetsutvecklare", "Totalt"] in rows
    to_xlsx(report, tmp_path / "r.xlsx")
    assert len(openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames) == 1 + 6
    page = html_document(report)
    assert page.count("<svg") == 4 and page.count("<table>") == 6


def test_redovisning_of_a_quiet_year_says_so() -> None:
    report = redovisning(facts_2024(), year=2019, labels=LABELS, as_of=AS_OF, secret=SECRET)
    assert report.tables == [] and "Inga inskrivningar eller genomföranden under året." in report.header
    assert "Redovisning 2019" in to_text(report)


def test_uppfoljning_shows_the_same_totals_in_its_four_tables() -> None:
    facts = many(1, 30) + many(100, 20, county="C", completed_on=D(2024, 2, 2)) + [fact(300, county="AB")]
    report = uppfoljning(facts, labels=LABELS, as_of=D(2024, 6, 30), secret=SECRET)
    by_county, by_group, by_course, by_month = report.tables
    assert [t.title for t in report.tables] == ["Per län", "Per målgrupp", "Per kurs", "Per månad"]
    assert [c.title for c in by_course.columns][:2] == ["Kurs", "Version"], "per course and version (issue 21)"
    assert [c.title for c in by_month.columns] == ["Månad", "Inskrivna", "Genomförda"]
    for m in ("enrolled", "completed"):
        assert len({repr(t.totals[m]) for t in report.tables}) == 1, f"the {m} total differs between tables"
    assert near(by_county.cell((TOTALS, "enrolled")), 51)
    assert by_county.cell((0, "enrolled")) == Suppressed(primary=True) or by_county.cell((0, "enrolled")) == 0
    assert [c.kind for c in report.charts] == ["hbar", "hbar", "columns"]
    assert report.charts[0].unit == "rate"
    rates = [p.value for p in report.charts[0].points]
    assert all(v is None or isinstance(v, Suppressed) or 0 <= v <= 1 for v in rates)


def test_presets_registry() -> None:
    assert set(PRESETS) == {"redovisning", "uppfoljning"}
    report = PRESETS["redovisning"]([done(1, D(2024, 3, 3))], year=2024, labels=LABELS, as_of=AS_OF, secret=SECRET)
    assert isinstance(report, Report)
