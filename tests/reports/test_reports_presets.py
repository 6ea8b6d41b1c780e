"""Presets: the yearly account to the ministry (redovisning) and the follow-up report."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import openpyxl
from report_checks import derivable_by_subtraction, pinned_by_combining
from report_facts import LABELS, done, fact, many

from moodle_sync.reports import PRESETS, TOTALS, Report, Suppressed, redovisning, to_csv, to_text, to_xlsx, uppfoljning
from moodle_sync.reports.render import html_document

D = datetime.date
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
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF)
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


def test_redovisning_counts_reached_in_the_year_and_completed_in_the_year() -> None:
    # threshold 2 hides only ones, and there are none here: every count can be checked
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF, threshold=2)
    assert not any(t.suppressed for t in report.tables[2:])
    reached, completed = report.tables[4], report.tables[5]
    county = {r["county"]: r for r in reached.rows}
    assert county["Dalarnas län"]["target_group:soc"] == 12 and county["Dalarnas län"]["target_group:chef"] == 7
    assert county["Dalarnas län"]["total"] == 12
    assert county["Uppsala län"]["target_group:bvc"] == 9          # the six enrolled in 2023 are not reached
    assert county["Stockholms län"]["total"] == 2
    assert reached.totals["total"] == 23
    done_by = {r["county"]: r for r in completed.rows}
    assert done_by["Uppsala län"]["total"] == 6                     # enrolled 2023, completed 2024
    assert done_by["Dalarnas län"]["total"] == 7
    assert completed.totals["total"] == 15
    old_completed = report.tables[3]
    assert old_completed.totals["total"] == 6                      # the 2023 completions are left out


def test_redovisning_header_says_what_was_counted_and_how() -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF, threshold=3)
    header = " ".join(report.header)
    assert "1 januari–31 december 2024" in header and "2025-01-20" in header
    assert "Nådda: personer som skrevs in på kursen under året" in header
    assert "Genomförda: personer som slutförde kursen under året" in header
    assert "en gång per cell" in header and "bara en gång i kolumnen och raden Totalt" in header
    assert "huvudversion" in header
    assert "Värden 1–2 visas som <3" in header
    assert all(t.threshold == 3 for t in report.tables)
    early = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=D(2024, 10, 1))
    assert "Året är inte avslutat" in " ".join(early.header)


def test_redovisning_leaves_no_hidden_cell_derivable() -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF)
    reached = report.tables[4]
    assert reached.rows[0]["county"] == "Stockholms län" and reached.rows[0]["total"] == Suppressed(primary=True)
    assert reached.rows[15]["county"] == "Dalarnas län" and reached.rows[15]["target_group:soc"] == Suppressed(False)
    for table in report.tables:
        assert derivable_by_subtraction(table) == []
        assert pinned_by_combining(table) == set()


def test_redovisning_charts_come_from_the_suppressed_tables() -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF)
    assert len(report.charts) == 2 * 3
    by_county = report.charts[4]
    assert by_county.title == "Genomförda per län – VINR grundkurs, version 2 (aktuell)"
    values = {p.label: p.value for p in by_county.points}
    assert values["Stockholms län"] == Suppressed(primary=True) and values["Dalarnas län"] == 7
    by_group = report.charts[5]
    assert [p.label for p in by_group.points] == ["Socialsekreterare och biståndsbedömare",
                                                  "Mödrahälsovård, BVC och gynekologer",
                                                  "Chefer, samordnare och verksamhetsutvecklare"]


def test_redovisning_renders_everywhere(tmp_path: Path) -> None:
    report = redovisning(facts_2024(), year=2024, labels=LABELS, as_of=AS_OF)
    text = to_text(report)
    assert "Nådda – VINR grundkurs, version 2 (aktuell)" in text and "<5" in text
    assert text.count("Värden 1–4 visas som <5") == 1           # the rule once, not once per table
    stream = io.StringIO()
    to_csv(report, stream)
    rows = list(csv.reader(io.StringIO(stream.getvalue().lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [report.title]
    assert ["Län \\ Målgrupp", "Socialsekreterare och biståndsbedömare", "Mödrahälsovård, BVC och gynekologer",
            "Chefer, samordnare och verksamhetsutvecklare", "Totalt"] in rows
    to_xlsx(report, tmp_path / "r.xlsx")
    assert len(openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames) == 1 + 6
    page = html_document(report)
    assert page.count("<svg") == 6 and page.count("<table>") == 6


def test_redovisning_of_a_quiet_year_says_so() -> None:
    report = redovisning(facts_2024(), year=2019, labels=LABELS, as_of=AS_OF)
    assert report.tables == [] and "Inga inskrivningar eller genomföranden under året." in report.header
    assert "Redovisning 2019" in to_text(report)


def test_uppfoljning_suppresses_its_tables_together() -> None:
    facts = many(1, 30) + many(100, 20, county="C", completed_on=D(2024, 2, 2)) + [fact(300, county="AB")]
    report = uppfoljning(facts, labels=LABELS, as_of=D(2024, 6, 30))
    by_county, by_group, by_month = report.tables
    assert [t.title for t in report.tables] == ["Per län", "Per målgrupp", "Per månad"]
    assert [c.title for c in by_month.columns] == ["Månad", "Inskrivna", "Genomförda"]
    for m in ("enrolled", "completed"):
        shown = {isinstance(t.totals[m], Suppressed) for t in report.tables}
        assert len(shown) == 1, f"the {m} total is hidden in one table and shown in another"
    assert by_county.cell((0, "enrolled")) == Suppressed(primary=True)
    assert by_county.cell((1, "enrolled")) == Suppressed(primary=False)    # C's 20 protects AB's 1
    assert by_county.cell((1, "completion_rate")) == Suppressed(primary=False)
    assert [c.kind for c in report.charts] == ["hbar", "hbar", "columns"]
    assert report.charts[0].unit == "rate"
    # AB: 0 of <5 completed, a rate that would give the count away
    assert [p.value for p in report.charts[0].points] == [Suppressed(primary=False), Suppressed(primary=False), 0.0]
    assert by_county.cell((TOTALS, "enrolled")) == 51


def test_presets_registry() -> None:
    assert set(PRESETS) == {"redovisning", "uppfoljning"}
    report = PRESETS["redovisning"]([done(1, D(2024, 3, 3))], year=2024, labels=LABELS, as_of=AS_OF)
    assert isinstance(report, Report)
