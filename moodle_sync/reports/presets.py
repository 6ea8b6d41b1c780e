"""Ready-made reports: what an agency sends to the ministry, and the follow-up view for hubs.

Each preset takes completion facts and returns a :class:`Report`, its counts randomly rounded
(:mod:`moodle_sync.reports.rounding`), that every renderer can draw. :data:`PRESETS` names them for the
command line.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any, Final

from moodle_sync.reports.aggregate import build_pivot, build_table
from moodle_sync.reports.charts import chart_from_table, chart_from_totals, informative
from moodle_sync.reports.dimensions import order_key
from moodle_sync.reports.measures import qualifies
from moodle_sync.reports.model import CompletionFact, Labels
from moodle_sync.reports.rounding import round_tables, rounding_note
from moodle_sync.reports.table import Chart, Report, Table

__all__ = ["PRESETS", "redovisning", "uppfoljning"]


def redovisning(
    facts: Iterable[CompletionFact],
    *,
    year: int,
    labels: Labels,
    threshold: int = 5,
    as_of: datetime.date,
    secret: bytes,
) -> Report:
    """The yearly account to the ministry: people reached and people who completed, per county and target group.

    For each course and major version with any activity in ``year`` there are two pivots (Län ×
    Målgrupp, with Totalt margins): "Nådda" (enrolled during the year) and "Genomförda" (completed
    during the year). Every count is the sum of its groups' counts, each randomly rounded to base 3
    (:mod:`~moodle_sync.reports.rounding`); published values below ``threshold`` show as
    ``<threshold``.

    Args:
        facts: completion facts; only those of the year are counted.
        year: the calendar year reported (1 January–31 December).
        labels: display names of counties, target groups and courses.
        threshold: published counts below it show as ``<threshold`` (at least 2).
        as_of: the day the data was taken; printed in the header.
        secret: the rounding secret (see :func:`~moodle_sync.reports.rounding.round_tables`).
    """
    facts = list(facts)
    period = (datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    active = {(f.course_key, f.major) for f in facts
              if any(qualifies(f, m, as_of=as_of, period=period) for m in ("reached", "completed"))}
    versions = sorted(active, key=lambda kv: order_key("course", kv, labels))

    tables: list[Table] = []
    names: list[str] = []
    for key, major in versions:
        subset = [f for f in facts if (f.course_key, f.major) == (key, major)]
        current = max(f.current_major for f in subset)
        name = f"{labels.course(key)}, version {major} ({'aktuell' if major >= current else 'äldre version'})"
        names.append(name)
        for measure, heading in (("reached", "Nådda"), ("completed", "Genomförda")):
            tables.append(build_pivot(subset, rows="county", columns="target_group", measure=measure,
                                      as_of=as_of, period=period, labels=labels, title=f"{heading} – {name}"))
    tables = round_tables(tables, secret=secret, threshold=threshold)

    charts: list[Chart] = []
    for name, completed in zip(names, tables[1::2], strict=True):
        groups = [c.key for c in completed.columns if c.key.startswith("target_group:")]
        charts.append(chart_from_table(completed, label="county", value="total", title=f"Genomförda per län – {name}"))
        charts.append(chart_from_totals(completed, keys=groups, title=f"Genomförda per målgrupp – {name}"))

    charts = [c for c in charts if informative(c)]  # no chart of zeros: the tables say it
    header = [
        f"Redovisningsperiod: 1 januari–31 december {year}. Uppgifterna är hämtade {as_of:%Y-%m-%d}."
        + (" Året är inte avslutat, så siffrorna kan ändras." if as_of < period[1] else ""),
        "Nådda: personer som skrevs in på kursen under året (aktiva eller avstängda inskrivningar).",
        "Genomförda: personer som slutförde kursen under året, oavsett när de skrevs in; de kan därför "
        "vara fler än de nådda.",
        "Varje person räknas en gång per cell. En person i flera målgrupper räknas i varje målgrupp men bara "
        "en gång i kolumnen och raden Totalt.",
        "Version = kursens huvudversion. Genomföranden på en äldre version redovisas för sig och gäller "
        "som historik.",
        rounding_note(threshold),
    ]
    if not versions:
        header.append("Inga inskrivningar eller genomföranden under året.")
    return Report(title=f"Redovisning {year}: nådda och genomförda per län och målgrupp", header=header,
                  tables=tables, charts=charts, generated_on=as_of)


def uppfoljning(
    facts: Iterable[CompletionFact],
    *,
    labels: Labels,
    as_of: datetime.date,
    period: tuple[datetime.date, datetime.date] | None = None,
    threshold: int = 5,
    secret: bytes,
) -> Report:
    """Follow-up: every measure per county, per target group and per course (and version), and enrolments and
    completions per month.

    Counts are sums of randomly rounded groups; the four tables' totals count the same people, so they show
    the same numbers. Charts: completion rate per county and per target group, completions per month.
    """
    facts = list(facts)
    common: dict[str, Any] = {"as_of": as_of, "period": period, "labels": labels}
    tables = [
        build_table(facts, dimensions=["county"], title="Per län", **common),
        build_table(facts, dimensions=["target_group"], title="Per målgrupp", **common),
        build_table(facts, dimensions=["course"], title="Per kurs", **common),
        build_table(facts, dimensions=["period"], measures=("enrolled", "completed"), title="Per månad", **common),
    ]
    by_county, by_group, by_course, by_month = round_tables(tables, secret=secret, threshold=threshold)

    charts = [
        chart_from_table(by_county, label="county", value="completion_rate", title="Andel genomförda per län"),
        chart_from_table(by_group, label="target_group", value="completion_rate",
                         title="Andel genomförda per målgrupp"),
        chart_from_table(by_month, label="period", value="completed", kind="columns",
                         title="Genomförda per månad"),
    ]
    charts = [c for c in charts if informative(c)]
    span = f"{period[0]:%Y-%m-%d}–{period[1]:%Y-%m-%d}" if period else "hela tiden"
    header = [
        f"Period: {span}. Uppgifterna är hämtade {as_of:%Y-%m-%d}.",
        rounding_note(threshold),
    ]
    return Report(title="Uppföljning av utbildningsinsatserna", header=header,
                  tables=[by_county, by_group, by_course, by_month], charts=charts, generated_on=as_of)


#: presets by name, for ``moodle-sync report <name>``; each takes facts and keyword arguments
PRESETS: Final[dict[str, Callable[..., Report]]] = {
    "redovisning": redovisning,
    "uppfoljning": uppfoljning,
}
