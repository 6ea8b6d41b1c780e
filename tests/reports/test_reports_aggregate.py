"""Aggregation: each measure, period filtering, people counted once per course version, target groups once in
totals."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_facts import AS_OF, LABELS, done, fact, many

from moodle_sync.errors import ConfigError
from moodle_sync.reports import CompletionFact, Labels, build_pivot, build_table

D = datetime.date
YEAR_2024 = (D(2024, 1, 1), D(2024, 12, 31))


def by(table, key: str) -> dict[object, dict[str, object]]:  # type: ignore[no-untyped-def]
    return {row[key]: row for row in table.rows}


def test_enrolled_counts_active_and_suspended_people_once_each() -> None:
    facts = [fact(1), fact(2, status="suspended"), fact(3, county="C")]
    table = build_table(facts, dimensions=["county"], as_of=AS_OF, labels=LABELS)
    rows = by(table, "county")
    assert rows["Dalarnas län"]["enrolled"] == 2
    assert rows["Uppsala län"]["enrolled"] == 1
    assert table.totals["enrolled"] == 3


def test_completed_and_rate() -> None:
    facts = [done(1, D(2024, 3, 1)), done(2, D(2024, 3, 5)), fact(3), fact(4)]
    table = build_table(facts, dimensions=["county"], as_of=AS_OF)
    [row] = table.rows
    assert (row["enrolled"], row["completed"]) == (4, 2)
    assert row["completion_rate"] == pytest.approx(0.5)
    assert table.totals["completion_rate"] == pytest.approx(0.5)


def test_a_course_moodle_does_not_track_counts_enrolments_but_no_rate_or_lateness() -> None:
    # people 1-2 in a tracked course (one completed), people 3-4 only in a course without criteria,
    # all four past their deadline: nobody can be seen to complete the untracked course
    gone = D(2024, 2, 1)
    facts = [done(1, D(2024, 3, 1), deadline=gone), fact(2, deadline=gone),
             fact(3, course_key="skola", deadline=gone, tracked=False),
             fact(4, course_key="skola", deadline=gone, tracked=False)]
    table = build_table(facts, dimensions=["county"], as_of=AS_OF, labels=LABELS)
    [row] = table.rows
    assert (row["enrolled"], row["completed"], row["past_deadline"]) == (4, 1, 1)
    assert row["completion_rate"] == pytest.approx(0.5)  # 1 of the 2 whose completion Moodle shows
    assert any("följer inte slutförandet av skola" in n for n in table.notes)
    by_course = build_table(facts, dimensions=["course"], as_of=AS_OF, labels=LABELS)
    untracked = next(r for r in by_course.rows if r["course"] == "skola")
    # nothing to count where Moodle tracks no completion: "–" (None), not 0, and a note says what "–" means
    assert (untracked["enrolled"], untracked["enrolled_tracked"]) == (2, 0)
    assert untracked["completion_rate"] is None and untracked["past_deadline"] is None
    assert untracked["completed"] is None and untracked["refresher_due"] is None
    assert any(n.startswith("Streck (–): Moodle följer inte slutförandet") for n in by_course.notes)
    tracked = next(r for r in by_course.rows if r["course"] != "skola")
    assert (tracked["enrolled_tracked"], tracked["completed"], tracked["past_deadline"]) == (2, 1, 1)
    assert by_course.totals["enrolled_tracked"] == 2 and by_course.totals["completed"] == 1
    assert not any(n.startswith("Streck (–)") for n in table.notes)  # every row there tracks someone
    assert not any("följer inte" in n for n in build_table(facts[:2], dimensions=["county"], as_of=AS_OF).notes)


def test_rate_is_none_when_nobody_in_the_row_is_enrolled() -> None:
    # enrolled after the period, but past the deadline on as_of: a row with a count and no enrolment
    late = fact(1, enrolled_since=D(2025, 2, 1), deadline=D(2024, 3, 1))
    table = build_table([late], dimensions=["county"], as_of=D(2025, 3, 1), period=YEAR_2024)
    [row] = table.rows
    assert row["enrolled"] == 0 and row["past_deadline"] == 1
    assert row["completion_rate"] is None


def test_current_and_superseded_completions_are_split_by_major_version() -> None:
    facts = [
        done(1, D(2024, 2, 1), major=2, current_major=2),
        done(2, D(2023, 5, 1), major=1, current_major=2),
        done(3, D(2023, 6, 1), major=1, current_major=2),
        fact(4, major=1, current_major=2),
    ]
    table = build_table(facts, dimensions=["county"], as_of=AS_OF)
    [row] = table.rows
    assert row["completed"] == 3
    assert (row["completed_current"], row["completed_superseded"]) == (1, 2)


def test_course_dimension_gives_kurs_and_version_columns_with_titles() -> None:
    facts = [done(1, D(2024, 2, 1), major=2), done(2, D(2023, 5, 1), major=1), fact(3, course_key="hrv-soc", major=1,
                                                                                       current_major=1)]
    table = build_table(facts, dimensions=["course"], as_of=AS_OF, labels=LABELS)
    assert [(c.key, c.title) for c in table.dimension_columns] == [("course", "Kurs"), ("version", "Version")]
    # labels order: hrv-soc before vinr; versions ascending
    assert [(r["course"], r["version"]) for r in table.rows] == [
        ("HRV fördjupning, socialtjänst", 1), ("VINR grundkurs", 1), ("VINR grundkurs", 2)]
    assert [r["completed_superseded"] for r in table.rows] == [0, 1, 0]


def test_past_deadline_counts_active_people_not_done_by_as_of() -> None:
    facts = [
        fact(1, deadline=D(2024, 6, 1)),                                   # late
        fact(2, deadline=D(2024, 6, 30)),                                  # deadline is today: not late yet
        done(3, D(2024, 5, 1), deadline=D(2024, 6, 1)),                     # done in time
        done(4, D(2024, 7, 15), deadline=D(2024, 6, 1)),                    # done, but after as_of
        fact(5, deadline=D(2024, 6, 1), status="suspended"),               # not expected any more
        fact(6),                                                           # no deadline
    ]
    table = build_table(facts, dimensions=["county"], as_of=AS_OF)
    assert table.rows[0]["past_deadline"] == 2


def test_refresher_due_on_or_before_as_of_for_active_people() -> None:
    facts = [fact(1, refresher_due=AS_OF), fact(2, refresher_due=D(2024, 1, 1)), fact(3, refresher_due=D(2024, 7, 1)),
             fact(4, refresher_due=D(2024, 1, 1), status="suspended")]
    table = build_table(facts, dimensions=["county"], as_of=AS_OF)
    assert table.rows[0]["refresher_due"] == 2


def test_period_filters_enrolments_by_end_and_completions_by_both_ends() -> None:
    facts = [
        fact(1, enrolled_since=D(2022, 5, 1)),                                   # enrolled before: counts
        fact(2, enrolled_since=D(2025, 1, 2)),                                   # after the end: not
        done(3, D(2023, 12, 31), enrolled_since=D(2023, 1, 1)),                  # completed before
        done(4, D(2024, 12, 31), enrolled_since=D(2024, 12, 1)),                 # completed on the last day
        done(5, D(2025, 1, 1), enrolled_since=D(2024, 12, 1)),                   # completed after
        done(6, D(2024, 3, 3), enrolled_since=None),                             # date from the completion
        fact(7, enrolled_since=None),                                            # no date at all: not counted
    ]
    table = build_table(facts, dimensions=["county"], as_of=D(2025, 2, 1), period=YEAR_2024,
                        measures=("enrolled", "reached", "completed"))
    [row] = table.rows
    assert row["enrolled"] == 5          # 1, 3, 4, 5, 6; 2 enrolled after the end, 7 has no date
    assert row["reached"] == 3           # 4, 5, 6 enrolled within 2024
    assert row["completed"] == 2         # 4, 6
    assert any("2024-01-01–2024-12-31" in n for n in table.notes)

    everything = build_table(facts, dimensions=["county"], as_of=D(2025, 2, 1))
    assert everything.rows[0]["enrolled"] == 7 and everything.rows[0]["completed"] == 4


def test_person_in_two_target_groups_counts_in_each_row_and_once_in_totals() -> None:
    facts = [done(1, D(2024, 2, 1), target_groups=("soc", "chef")), fact(2, target_groups=("soc",)),
             fact(3, target_groups=())]
    table = build_table(facts, dimensions=["target_group"], as_of=AS_OF, labels=LABELS)
    rows = by(table, "target_group")
    # labels order, then people without a target group last
    assert list(rows) == ["Socialsekreterare och biståndsbedömare", "Chefer, samordnare och verksamhetsutvecklare",
                          "Ingen målgrupp angiven"]
    assert [r["enrolled"] for r in rows.values()] == [2, 1, 1]
    assert rows["Chefer, samordnare och verksamhetsutvecklare"]["completed"] == 1
    assert table.totals["enrolled"] == 3 and table.totals["completed"] == 1
    assert any("flera målgrupper" in n and "en gång i totalen" in n for n in table.notes)


def test_a_person_counts_once_per_course_version_in_rows_and_totals() -> None:
    # every count is a sum of groups of one course version (reports/groups.py), so the unit is an enrolment
    facts = [done(1, D(2024, 2, 1)), done(1, D(2024, 3, 1), course_key="hrv-soc"), fact(2)]
    table = build_table(facts, dimensions=["course"], as_of=AS_OF, labels=LABELS)
    assert [r["enrolled"] for r in table.rows] == [1, 2]
    assert table.totals["enrolled"] == 3 and table.totals["completed"] == 2
    assert any("en gång per kursversion" in n and "två gånger i totalen" in n for n in table.notes)


def test_a_person_in_two_course_versions_counts_twice_in_a_row_without_courses() -> None:
    facts = [fact(1), fact(1, course_key="hrv-soc"), fact(2, major=1, current_major=2), fact(2)]
    table = build_table(facts, dimensions=["county"], as_of=AS_OF)
    assert table.rows[0]["enrolled"] == 4 and table.totals["enrolled"] == 4
    assert any("två gånger, i sin rad och i totalen" in n for n in table.notes)


def test_counties_in_official_order_unknown_last_and_named() -> None:
    facts = [fact(1, county="BD"), fact(2, county=None), fact(3, county="W"), fact(4, county="AB"), fact(5, county="C"),
             fact(6, county="AC")]
    table = build_table(facts, dimensions=["county"], as_of=AS_OF, labels=Labels(counties={"W": "Dalarna"}))
    assert [r["county"] for r in table.rows] == ["Stockholms län", "Uppsala län", "Dalarna", "Västerbottens län",
                                                 "Norrbottens län", "Okänt län"]


def test_organisations_sort_the_swedish_way() -> None:
    facts = [fact(i, organisation=o) for i, o in enumerate(["Örebro kommun", "Åre kommun", "Ale kommun", "Älvdalen"])]
    table = build_table(facts, dimensions=["organisation"], as_of=AS_OF)
    assert [r["organisation"] for r in table.rows] == ["Ale kommun", "Åre kommun", "Älvdalen", "Örebro kommun"]


def test_period_dimension_places_each_measure_in_its_own_month_and_fills_gaps() -> None:
    facts = [done(1, D(2024, 4, 2), enrolled_since=D(2024, 1, 10)), fact(2, enrolled_since=D(2024, 1, 20))]
    table = build_table(facts, dimensions=["period"], as_of=AS_OF, measures=("enrolled", "completed"))
    rows = by(table, "period")
    assert list(rows) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert (rows["2024-01"]["enrolled"], rows["2024-01"]["completed"]) == (2, 0)
    assert (rows["2024-04"]["enrolled"], rows["2024-04"]["completed"]) == (0, 1)
    assert rows["2024-02"]["enrolled"] == 0
    assert table.column("period").title == "Månad"
    assert any(n.startswith("Månad =") for n in table.notes)


def test_swedish_headings() -> None:
    table = build_table([fact(1)], dimensions=["county", "target_group"], as_of=AS_OF)
    titles = [c.title for c in table.columns]
    assert titles[:6] == ["Län", "Målgrupp", "Inskrivna", "Inskrivna där slutförandet följs", "Genomförda",
                          "Andel genomförda"]
    assert table.column("completion_rate").kind == "rate"
    # the rate's denominator is its own column: enrolments where Moodle tracks completion
    assert table.column("completion_rate").rate_of == ("completed", "enrolled_tracked")


def test_approximate_completion_dates_are_noted() -> None:
    exact = build_table([done(1, D(2024, 2, 1))], dimensions=["county"], as_of=AS_OF)
    rough = build_table([done(1, D(2024, 2, 1), completed_source="first_seen")], dimensions=["county"], as_of=AS_OF)
    assert not any("ungefärliga" in n for n in exact.notes)
    assert any("ungefärliga" in n for n in rough.notes)


@pytest.mark.parametrize("kwargs", [
    {"dimensions": ["län"]},
    {"dimensions": ["county", "county"]},
    {"dimensions": ["county"], "measures": ("enrolled", "completion_rate")},
    {"dimensions": ["county"], "measures": ("finished",)},
    {"dimensions": ["county"], "period": (D(2024, 2, 1), D(2024, 1, 1))},
])
def test_bad_arguments_are_config_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        build_table([fact(1)], as_of=AS_OF, **kwargs)  # type: ignore[arg-type]


def test_pivot_lists_every_county_and_target_group_with_margins() -> None:
    facts = [done(1, D(2024, 2, 1), target_groups=("soc", "chef")), done(2, D(2024, 3, 1), county="AB")]
    table = build_pivot(facts, measure="completed", as_of=AS_OF, labels=LABELS)
    assert [c.title for c in table.columns][:2] == ["Län \\ Målgrupp", "Socialsekreterare och biståndsbedömare"]
    assert table.columns[-1].key == "total" and table.columns[-1].title == "Totalt"
    assert len(table.rows) == 21 and table.rows[0]["county"] == "Stockholms län"
    w = by(table, "county")["Dalarnas län"]
    assert (w["target_group:soc"], w["target_group:chef"], w["target_group:bvc"], w["total"]) == (1, 1, 0, 1)
    assert table.totals == {"target_group:soc": 2, "target_group:bvc": 0, "target_group:chef": 1, "total": 2}


# --- rows add up to the totals row when nobody is counted twice ----------------------------------------

facts_once = st.lists(
    st.builds(
        lambda county, group, major, enrolled, completed: dict(
            county=county, target_groups=(group,), major=major, current_major=2,
            enrolled_since=D(2024, 1, 1) + datetime.timedelta(days=enrolled),
            completed_on=None if completed is None else D(2024, 1, 1) + datetime.timedelta(days=enrolled + completed)),
        st.sampled_from(["AB", "C", "W", None]), st.sampled_from(["soc", "bvc"]), st.sampled_from([1, 2]),
        st.integers(0, 300), st.none() | st.integers(0, 200)),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(facts_once, st.sampled_from([["county"], ["county", "target_group"], ["course", "period"], ["period"]]))
def test_rows_add_up_to_the_totals_when_each_person_has_one_fact(rows: list[dict[str, object]],
                                                                   dims: list[str]) -> None:
    facts: list[CompletionFact] = [fact(i, **r) for i, r in enumerate(rows)]
    table = build_table(facts, dimensions=dims, as_of=D(2025, 1, 1))
    for column in table.columns:
        if column.kind == "count" and table.rows:
            assert table.totals[column.key] == sum(row[column.key] for row in table.rows), column.key
    assert table.totals["enrolled"] == len(facts)


def test_people_ids_never_reach_the_table() -> None:
    table = build_table(many(987_650, 3), dimensions=["county", "organisation"], as_of=AS_OF)
    assert "98765" not in repr(table.rows) + repr(table.totals)
