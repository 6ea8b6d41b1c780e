"""Rounding in groups: every published count is the sum of its groups' rounded counts, the same in every report.

So the year is the sum of its quarters and months, rows add up to their totals, a hub's figures are the
national report's row for its county, and the same people give the same numbers. (The attack on all of them
together is in test_reports_differencing.py.)
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from report_facts import LABELS, done, fact

from moodle_sync.completions.report import parse_period
from moodle_sync.errors import ConfigError
from moodle_sync.reports import COUNTY_NAMES, TOTALS, CompletionFact, Labels, Table, build_table, round_tables

D = datetime.date
AS_OF = D(2025, 2, 1)
COUNTS = ("enrolled", "enrolled_tracked", "completed", "completed_current", "completed_superseded", "past_deadline",
          "refresher_due")
#: below 3 nothing is marked "<N" (published counts are multiples of 3): the tests see every published number
SEE_ALL = 3


def facts() -> list[CompletionFact]:
    """The issue's organisation: one completion in Q2 and one in Q4 (two people, the year's 2); and others."""
    out = [done(1, D(2024, 5, 3), organisation="Liten AB", enrolled_since=D(2024, 4, 1)),
           done(2, D(2024, 11, 3), organisation="Liten AB", enrolled_since=D(2024, 10, 1))]
    for i in range(3, 40):
        out.append(fact(i, county="W" if i % 3 else "C", organisation=f"Org {i % 5}",
                        enrolled_since=D(2024, i % 12 + 1, 2),
                        target_groups=("soc", "chef") if i % 7 == 0 else ("bvc",),
                        completed_on=D(2024, i % 12 + 1, 20) if i % 2 else None,
                        major=1 if i % 4 == 0 else 2, deadline=D(2024, 6, 1) if i % 3 == 0 else None))
    return out


def published(dims: list[str], period: str | None, secret: bytes, *, scope: str | None = None) -> Table:
    labels = Labels(counties={scope: COUNTY_NAMES[scope]} if scope else dict(COUNTY_NAMES),
                    target_groups=LABELS.target_groups, courses=LABELS.courses)
    visible = [f for f in facts() if scope in (None, f.county)]
    table = build_table(visible, dimensions=dims, as_of=AS_OF, period=parse_period(period), labels=labels)
    return round_tables([table], secret=secret, threshold=SEE_ALL)[0]


def rows(table: Table, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in table.rows}


SECRETS = [f"site {n}".encode() for n in range(12)]


@pytest.mark.parametrize("secret", SECRETS)
def test_the_year_is_the_sum_of_its_quarters_and_of_its_months_in_every_row(secret: bytes) -> None:
    year = published(["organisation"], "2024", secret)
    quarters = [published(["organisation"], f"2024-Q{q}", secret) for q in range(1, 5)]
    months = [published(["organisation"], f"2024-{m:02d}", secret) for m in range(1, 13)]
    for org, row in rows(year, "organisation").items():
        for m in ("completed", "completed_current", "completed_superseded"):
            assert row[m] == sum(rows(q, "organisation").get(org, {}).get(m, 0) for q in quarters), (org, m)
            assert row[m] == sum(rows(mo, "organisation").get(org, {}).get(m, 0) for mo in months), (org, m)
    # the attack: "0" for the year with "<5" in two quarters would pin both quarters at 1
    small = rows(year, "organisation")["Liten AB"]["completed"]
    by_quarter = [rows(q, "organisation").get("Liten AB", {}).get("completed", 0) for q in quarters]
    assert small == sum(by_quarter) and small in (0, 3, 6)


@pytest.mark.parametrize("secret", SECRETS[:10])
@pytest.mark.parametrize("dims", [["county"], ["organisation"], ["course"], ["period"], ["county", "organisation"]])
def test_rows_add_up_to_their_total(secret: bytes, dims: list[str]) -> None:
    table = published(dims, None, secret)
    for m in COUNTS:
        assert table.cell((TOTALS, m)) == sum(r[m] or 0 for r in table.rows), m


@pytest.mark.parametrize("secret", SECRETS[:10])
def test_a_hub_sees_the_national_reports_numbers_for_its_county(secret: bytes) -> None:
    national = rows(published(["county"], "2024", secret), "county")["Dalarnas län"]
    hub = published(["organisation"], "2024", secret, scope="W")
    assert {m: hub.totals[m] for m in COUNTS} == {m: national[m] for m in COUNTS}
    national_orgs = rows(published(["county", "organisation"], "2024", secret), "organisation")
    for org, row in rows(hub, "organisation").items():
        assert {m: row[m] for m in COUNTS} == {m: national_orgs[org][m] for m in COUNTS}


def test_each_count_is_off_by_at_most_two_per_group_and_right_on_average() -> None:
    # 40 people in 4 groups (two organisations × two target-group sets), all enrolled in January 2024
    many = [fact(i, organisation=f"Org {i % 2}", target_groups=("soc",) if i % 4 < 2 else ("soc", "chef"),
                 enrolled_since=D(2024, 1, 5)) for i in range(41)]
    truth = build_table(many, dimensions=["target_group"], as_of=AS_OF, labels=LABELS)
    seen = []
    for secret in SECRETS:
        table = round_tables([build_table(many, dimensions=["target_group"], as_of=AS_OF, labels=LABELS)],
                             secret=secret, threshold=SEE_ALL)[0]
        assert table.totals["enrolled"] % 3 == 0 and abs(table.totals["enrolled"] - truth.totals["enrolled"]) <= 8
        chef = rows(table, "target_group")["Chefer, samordnare och verksamhetsutvecklare"]["enrolled"]
        assert abs(chef - 20) <= 4  # the two groups with chef: 10 + 10
        seen.append(table.totals["enrolled"])
    assert len(set(seen)) > 1 and abs(sum(seen) / len(seen) - 41) < 3


def test_the_same_people_give_the_same_numbers() -> None:
    first = published(["county", "target_group"], "2024-Q2", b"site")
    assert published(["county", "target_group"], "2024-Q2", b"site").rows == first.rows
    # the totals of any breakdown count the same people: the same numbers
    assert published(["county"], "2024-Q2", b"site").totals == first.totals


@pytest.mark.parametrize("period", [(D(2024, 1, 2), D(2024, 3, 31)), (D(2024, 1, 1), D(2024, 3, 30))])
def test_a_period_that_is_not_whole_months_is_refused(period: tuple[D, D]) -> None:
    with pytest.raises(ConfigError, match="whole calendar months"):
        build_table(facts(), dimensions=["county"], as_of=AS_OF, period=period)
