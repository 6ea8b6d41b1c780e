"""The measures a report counts, and whether one completion fact counts for a measure and on which day.

Each measure counts distinct people: enrolled (and the part of them where Moodle tracks completion, the
completion rate's denominator), reached, completed (split by current or superseded major version),
past the deadline and due for a refresher. :func:`event` decides for one fact, within a period and as of
a day; the aggregation in :mod:`.aggregate` only groups and counts what it says.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from moodle_sync.errors import ConfigError
from moodle_sync.reports.model import CompletionFact
from moodle_sync.reports.table import Column

__all__ = ["COMPLETION_MEASURES", "DEFAULT_MEASURES", "MEASURES", "TRACKED", "Context", "Measure", "Period",
           "check_measures", "event", "make_context", "measure_cells", "measure_column", "qualifies"]


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    kind: Literal["count", "rate"]


MEASURES: Final[Mapping[str, Measure]] = {m.key: m for m in (
    Measure("enrolled", "Inskrivna", "count"),
    Measure("enrolled_tracked", "Inskrivna där slutförandet följs", "count"),
    Measure("reached", "Nådda", "count"),
    Measure("completed", "Genomförda", "count"),
    Measure("completion_rate", "Andel genomförda", "rate"),
    Measure("completed_current", "Genomförda, aktuell version", "count"),
    Measure("completed_superseded", "Genomförda, äldre version", "count"),
    Measure("past_deadline", "Ej genomförda, sista dag passerad", "count"),
    Measure("refresher_due", "Dags för repetition", "count"),
)}

DEFAULT_MEASURES: Final = ("enrolled", "enrolled_tracked", "completed", "completion_rate", "completed_current",
                           "completed_superseded", "past_deadline", "refresher_due")

#: people enrolled in course versions whose completion Moodle tracks: the completion rate's denominator
TRACKED: Final = "enrolled_tracked"
#: measures that need Moodle to track completion: "–" (None) in a row where it tracks it for nobody
COMPLETION_MEASURES: Final = ("completed", "completed_current", "completed_superseded", "past_deadline",
                              "refresher_due")

Period = tuple[datetime.date, datetime.date]


@dataclass(frozen=True)
class Context:
    """The day a report describes (deadlines and refreshers are judged against it) and its period, if any."""

    as_of: datetime.date
    period: Period | None


def make_context(as_of: datetime.date, period: Period | None) -> Context:
    """The context of a report; ConfigError for a period that ends before it starts or is not whole months."""
    if period is not None and period[0] > period[1]:
        raise ConfigError(f"the report period ends ({period[1]}) before it starts ({period[0]})", key="period")
    if period is not None and (period[0].day != 1 or (period[1] + datetime.timedelta(days=1)).day != 1):
        # every count is a sum of groups of one calendar month (.groups): nothing finer can be cut
        raise ConfigError(f"the report period {period[0]}–{period[1]} is not whole calendar months", key="period",
                          hint="start on the first day of a month and end on the last day of a month")
    return Context(as_of=as_of, period=period)


def check_measures(measures: Sequence[str]) -> list[str]:
    """The count measures among ``measures``; ConfigError for an unknown or repeated one, or a rate without
    ``completed``."""
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ConfigError(f"unknown report measure {unknown[0]!r}", key="measures",
                          hint=f"use any of: {', '.join(MEASURES)}")
    if len(set(measures)) != len(measures):
        raise ConfigError("a report measure is named twice", key="measures")
    if "completion_rate" in measures and "completed" not in measures:
        raise ConfigError("completion_rate needs the completed measure too", key="measures")
    return [m for m in measures if MEASURES[m].kind == "count"]


def qualifies(fact: CompletionFact, measure: str, *, as_of: datetime.date, period: Period | None = None) -> bool:
    """Whether ``fact`` counts for the count ``measure`` (see :func:`.aggregate.build_table` for the rules)."""
    check_measures([measure])
    return event(fact, measure, make_context(as_of, period))[0]


def _enrolled_on(fact: CompletionFact) -> datetime.date | None:
    days = [d for d in (fact.enrolled_since, fact.completed_on) if d is not None]
    return min(days) if days else None


def event(fact: CompletionFact, measure: str, ctx: Context) -> tuple[bool, datetime.date | None]:
    """Whether ``fact`` counts for ``measure``, and the day it happened (its month, for "period")."""
    period = ctx.period
    if measure == TRACKED:
        ok, day = event(fact, "enrolled", ctx)
        return ok and fact.tracked, day
    if measure in ("enrolled", "reached"):
        day = _enrolled_on(fact)
        if period is None:
            return True, day
        if day is None:
            return False, None
        if measure == "enrolled":
            return day <= period[1], day
        return period[0] <= day <= period[1], day
    if measure in ("completed", "completed_current", "completed_superseded"):
        day = fact.completed_on
        if day is None or (period is not None and not period[0] <= day <= period[1]):
            return False, day
        if measure == "completed_current":
            return fact.major >= fact.current_major, day
        if measure == "completed_superseded":
            return fact.major < fact.current_major, day
        return True, day
    if measure == "past_deadline":
        if not fact.tracked:
            return False, fact.deadline  # nobody can be seen to complete it: not known to be late
        done = fact.completed_on is not None and fact.completed_on <= ctx.as_of
        late = fact.deadline is not None and fact.deadline < ctx.as_of
        return fact.status == "active" and late and not done, fact.deadline
    if measure == "refresher_due":
        due = fact.refresher_due is not None and fact.refresher_due <= ctx.as_of
        return fact.status == "active" and due, fact.refresher_due
    raise AssertionError(f"unknown measure {measure}")


def measure_column(measure: str, measures: Sequence[str]) -> Column:
    spec = MEASURES[measure]
    if spec.kind == "rate":
        # its denominator is enrolled_tracked; a table without that column names enrolled, which holds it
        return Column(spec.key, spec.title, "rate",
                      rate_of=("completed", TRACKED if TRACKED in measures else "enrolled"))
    return Column(spec.key, spec.title, "count")


def measure_cells(measures: Sequence[str], counts: Mapping[str, int]) -> dict[str, Any]:
    cells: dict[str, Any] = {}
    for measure in measures:
        if measure == "completion_rate":
            enrolled = counts[TRACKED]
            cells[measure] = counts["completed"] / enrolled if enrolled else None
        else:
            cells[measure] = counts[measure]
    return cells
