"""Aggregation: completion facts → a :class:`Table` of people counted per group.

Every measure counts distinct people (Moodle user ids) per row; the totals row counts each person
once over the whole table, however many rows they appear in. Pure: no I/O.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any, Final, Literal

from moodle_sync.errors import ConfigError
from moodle_sync.reports.model import COUNTY_CODES, CompletionFact, Labels
from moodle_sync.reports.rounding import people_key
from moodle_sync.reports.table import TOTALS, CellRef, Column, Relation, Table

__all__ = ["DEFAULT_MEASURES", "DIMENSIONS", "MEASURES", "PIVOT_DIMENSIONS", "Measure", "build_pivot",
           "build_table", "order_key", "qualifies"]

DIMENSIONS: Final = ("county", "target_group", "organisation", "course", "period")
#: dimensions a pivot can put on its rows or columns ("course" needs two columns, so it cannot)
PIVOT_DIMENSIONS: Final = ("county", "target_group", "organisation", "period")


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

_DIMENSION_COLUMNS: Final[Mapping[str, tuple[Column, ...]]] = {
    "county": (Column("county", "Län", "dimension"),),
    "target_group": (Column("target_group", "Målgrupp", "dimension"),),
    "organisation": (Column("organisation", "Organisation", "dimension"),),
    "course": (Column("course", "Kurs", "dimension"), Column("version", "Version", "dimension")),
    "period": (Column("period", "Månad", "dimension"),),
}
_DIMENSION_NOUNS: Final[Mapping[str, str]] = {
    "county": "län", "target_group": "målgrupp", "organisation": "organisation",
    "course": "kurs och version", "period": "månad",
}
UNKNOWN_MONTH: Final = "Okänd månad"
#: people enrolled in course versions whose completion Moodle tracks: the completion rate's denominator
_TRACKED: Final = "enrolled_tracked"
#: measures that need Moodle to track completion: "–" (None) in a row where it tracks it for nobody
COMPLETION_MEASURES: Final = ("completed", "completed_current", "completed_superseded", "past_deadline",
                              "refresher_due")

Period = tuple[datetime.date, datetime.date]
_SortKey = tuple[int, int, str, int]


@dataclass(frozen=True)
class _Context:
    as_of: datetime.date
    period: Period | None


def build_table(
    facts: Iterable[CompletionFact],
    *,
    dimensions: Sequence[str],
    as_of: datetime.date,
    period: Period | None = None,
    labels: Labels | None = None,
    measures: Sequence[str] = DEFAULT_MEASURES,
    title: str | None = None,
) -> Table:
    """Count people per group of ``dimensions``.

    Measures (each counts distinct people in the row):

    - ``enrolled``: an active or suspended enrolment; with a period, enrolled on or before its end.
    - ``enrolled_tracked``: ``enrolled`` in course versions whose completion Moodle tracks (the rate's
      denominator).
    - ``reached``: enrolled within the period (the same as ``enrolled`` without one).
    - ``completed``: completed (within the period, if given); ``completed_current`` /
      ``completed_superseded`` split it by whether the version is the course's current major.
    - ``completion_rate``: completed / enrolled_tracked, 0..1, None when nobody is.
    - ``past_deadline``: active, not completed by ``as_of``, deadline before ``as_of``.
    - ``refresher_due``: active, refresher due on or before ``as_of``.

    A missing enrolment date is taken from the completion date (one cannot complete before enrolling);
    without either, the enrolment counts only when no period is given. ``past_deadline`` and
    ``refresher_due`` describe the state on ``as_of`` and ignore the period. In a row whose people are all
    in course versions where Moodle tracks no completion, the completion measures are None ("–"), not 0.

    With the "period" dimension each measure is placed in the month of its own date: enrolment for
    enrolled/reached, completion for the completed measures, deadline and refresher date for the others.

    Args:
        facts: one fact per person and course version.
        dimensions: any of :data:`DIMENSIONS`, in column order; "course" gives two columns, Kurs and Version.
        as_of: the day the report describes (deadlines and refreshers are judged against it).
        period: (first day, last day), both included.
        labels: display names; county names default to the official ones.
        measures: any of :data:`MEASURES`; ``completion_rate`` needs ``enrolled`` and ``completed``.
        title: the table's title; a Swedish one is made from the dimensions when None.

    Returns:
        A table sorted by the dimensions (counties in the official order AB, C, D … BD) with a totals
        row, additive relations for suppression and Swedish notes on what was counted.

    Raises:
        ConfigError: an unknown or repeated dimension or measure, or a period that ends before it starts.
    """
    dims = _check_dimensions(dimensions, DIMENSIONS)
    counted = _check_measures(measures)
    ctx = _context(as_of, period)
    labels = labels or Labels()

    # "enrolled" and its tracked part are always counted: the rate's denominator, and whether a row is tracked
    collected = list(dict.fromkeys([*counted, "enrolled", _TRACKED]))
    groups: dict[tuple[Any, ...], dict[str, set[int]]] = {}
    totals: dict[str, set[int]] = {m: set() for m in collected}
    approximate = False
    untracked: set[str] = set()
    for fact in facts:
        if not fact.tracked:
            untracked.add(labels.course(fact.course_key))
        for measure in collected:
            ok, day = _event(fact, measure, ctx)
            if not ok:
                continue
            totals[measure].add(fact.person)
            approximate |= measure == "completed" and fact.completed_source == "first_seen"
            if not dims:
                continue
            for key in product(*(_dimension_values(fact, d, day) for d in dims)):
                groups.setdefault(key, {}).setdefault(measure, set()).add(fact.person)

    if list(dims) == ["period"]:
        for month in _month_range([k[0] for k in groups if k[0] is not None], ctx.period):
            groups.setdefault((month,), {})

    keys = sorted(groups, key=lambda k: tuple(_sort_key(d, v, labels) for d, v in zip(dims, k, strict=True)))
    columns = [c for d in dims for c in _DIMENSION_COLUMNS[d]] + [_measure_column(m, measures) for m in measures]
    rows: list[dict[str, Any]] = []
    who: dict[CellRef, tuple[int, bytes]] = {}
    for i, key in enumerate(keys):
        row: dict[str, Any] = {}
        for dim, value in zip(dims, key, strict=True):
            row.update(_display(dim, value, labels))
        row.update(_measure_cells(measures, {m: len(groups[key].get(m, ())) for m in collected}))
        rows.append(row)
        who.update(_who(i, groups[key], counted))
        _dash_untracked(row, i, groups[key], who)
    total_row = _measure_cells(measures, {m: len(people) for m, people in totals.items()})
    who.update(_who(TOTALS, totals, counted))
    _dash_untracked(total_row, TOTALS, totals, who)
    dashed = any(v is None for r in [*rows, total_row] for k, v in r.items() if k in COMPLETION_MEASURES)

    return Table(
        columns=columns,
        rows=rows,
        totals=total_row,
        notes=_notes(dims, measures, ctx, approximate, untracked=sorted(untracked, key=_swedish), dashed=dashed),
        title=title if title is not None else _title(dims),
        relations=_relations(keys, dims, counted),
        counted=who,
    )


def build_pivot(
    facts: Iterable[CompletionFact],
    *,
    rows: str = "county",
    columns: str = "target_group",
    measure: str = "completed",
    as_of: datetime.date,
    period: Period | None = None,
    labels: Labels | None = None,
    title: str | None = None,
) -> Table:
    """Cross-tabulate one measure: ``rows`` × ``columns`` with a "Totalt" column and a totals row.

    Counties and target groups are listed in full (every county ``labels`` names – the caller's scope –
    or all 21 when it names none, and every labelled target group) so that tables for different
    courses line up; empty cells show 0. Column keys are ``"<dim>:<key>"``
    (``"target_group:soc"``, ``"-"`` for none) and ``"total"``. The margins count each person once.

    Raises:
        ConfigError: an unknown dimension (see :data:`PIVOT_DIMENSIONS`), a rate or unknown measure,
            the same dimension twice, or a period that ends before it starts.
    """
    row_dim, col_dim = _check_dimensions([rows, columns], PIVOT_DIMENSIONS)
    if measure not in MEASURES or MEASURES[measure].kind != "count":
        counts = ", ".join(m for m, spec in MEASURES.items() if spec.kind == "count")
        raise ConfigError(f"a pivot needs a count measure, not {measure!r}", key="measure",
                          hint=f"use one of: {counts}")
    ctx = _context(as_of, period)
    labels = labels or Labels()

    everyone: set[int] = set()
    by_row: dict[Any, set[int]] = {}
    by_col: dict[Any, set[int]] = {}
    cells: dict[tuple[Any, Any], set[int]] = {}
    approximate = False
    untracked: set[str] = set()
    seen_tracked = seen_any = False
    for fact in facts:
        seen_any, seen_tracked = True, seen_tracked or fact.tracked
        if not fact.tracked:
            untracked.add(labels.course(fact.course_key))
        ok, day = _event(fact, measure, ctx)
        if not ok:
            continue
        approximate |= measure.startswith("completed") and fact.completed_source == "first_seen"
        everyone.add(fact.person)
        row_values = _dimension_values(fact, row_dim, day)
        col_values = _dimension_values(fact, col_dim, day)
        for rv in row_values:
            by_row.setdefault(rv, set()).add(fact.person)
        for cv in col_values:
            by_col.setdefault(cv, set()).add(fact.person)
        for rv, cv in product(row_values, col_values):
            cells.setdefault((rv, cv), set()).add(fact.person)

    row_values_all = _all_values(row_dim, by_row, labels, ctx.period)
    col_values_all = _all_values(col_dim, by_col, labels, ctx.period)
    col_keys = [_pivot_key(col_dim, cv) for cv in col_values_all]

    # the corner heading names both dimensions ("Län \\ Målgrupp"), as statistical cross-tables do:
    # the column headings are values (target-group names) and need their dimension named somewhere
    (row_column,) = _DIMENSION_COLUMNS[row_dim]
    col_title = _DIMENSION_COLUMNS[col_dim][0].title
    table_columns = [Column(row_column.key, f"{row_column.title} \\ {col_title}", "dimension")]
    table_columns += [Column(k, _display_text(col_dim, cv, labels), "count")
                      for k, cv in zip(col_keys, col_values_all, strict=True)]
    table_columns.append(Column("total", "Totalt", "count"))

    table_rows: list[dict[str, Any]] = []
    who: dict[CellRef, tuple[int, bytes]] = {}
    for i, rv in enumerate(row_values_all):
        row: dict[str, Any] = dict(_display(row_dim, rv, labels))
        for key, cv in zip(col_keys, col_values_all, strict=True):
            row[key] = len(cells.get((rv, cv), ()))
            who[(i, key)] = (row[key], people_key(cells.get((rv, cv), ())))
        row["total"] = len(by_row.get(rv, ()))
        who[(i, "total")] = (row["total"], people_key(by_row.get(rv, ())))
        table_rows.append(row)
    totals: dict[str, Any] = {key: len(by_col.get(cv, ())) for key, cv in zip(col_keys, col_values_all, strict=True)}
    totals["total"] = len(everyone)
    who.update({(TOTALS, key): (len(by_col.get(cv, ())), people_key(by_col.get(cv, ())))
                for key, cv in zip(col_keys, col_values_all, strict=True)})
    who[(TOTALS, "total")] = (len(everyone), people_key(everyone))

    relations: list[Relation] = []
    n = len(table_rows)
    if col_keys:
        relations += [Relation((i, "total"), tuple((i, k) for k in col_keys)) for i in range(n)]
        relations.append(Relation((TOTALS, "total"), tuple((TOTALS, k) for k in col_keys)))
    if n:
        relations += [Relation((TOTALS, k), tuple((i, k) for i in range(n))) for k in [*col_keys, "total"]]

    dashed = measure in COMPLETION_MEASURES and seen_any and not seen_tracked and not everyone
    if dashed:  # Moodle tracks completion for none of these people: nothing to count, not zero
        for row in table_rows:
            row.update({k: None for k in [*col_keys, "total"]})
        totals = {k: None for k in totals}
        who = {}
    notes = _notes((row_dim, col_dim), (measure,), ctx, approximate, pivot=True, dashed=dashed,
                   untracked=() if measure in ("enrolled", "reached") else sorted(untracked, key=_swedish))
    return Table(
        columns=table_columns,
        rows=table_rows,
        totals=totals,
        notes=notes,
        title=title if title is not None else
        f"{MEASURES[measure].title} per {_DIMENSION_NOUNS[row_dim]} och {_DIMENSION_NOUNS[col_dim]}",
        relations=relations,
        counted=who,
    )


def qualifies(fact: CompletionFact, measure: str, *, as_of: datetime.date, period: Period | None = None) -> bool:
    """Whether ``fact`` counts for the count ``measure`` (see :func:`build_table` for the rules)."""
    _check_measures([measure])
    return _event(fact, measure, _context(as_of, period))[0]


def order_key(dimension: str, value: Any, labels: Labels) -> tuple[int, int, str, int]:
    """The sort key of a raw dimension value (county code, target-group key, (course key, major), month)."""
    return _sort_key(dimension, value, labels)


# --- what counts -----------------------------------------------------------------------------------


def _enrolled_on(fact: CompletionFact) -> datetime.date | None:
    days = [d for d in (fact.enrolled_since, fact.completed_on) if d is not None]
    return min(days) if days else None


def _event(fact: CompletionFact, measure: str, ctx: _Context) -> tuple[bool, datetime.date | None]:
    """Whether ``fact`` counts for ``measure``, and the day it happened (its month, for "period")."""
    period = ctx.period
    if measure == _TRACKED:
        ok, day = _event(fact, "enrolled", ctx)
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


def _dash_untracked(row: dict[str, Any], index: int, people: Mapping[str, set[int]],
                    who: dict[CellRef, tuple[int, bytes]]) -> None:
    """Completion measures of a row whose people are all where Moodle tracks no completion become None ("–")."""
    if not people.get("enrolled") or people.get(_TRACKED) or any(people.get(m) for m in COMPLETION_MEASURES):
        return
    for key in COMPLETION_MEASURES:
        if key in row:
            row[key] = None
            who.pop((index, key), None)


def _who(row: int, people: Mapping[str, set[int]], counted: Sequence[str]) -> dict[CellRef, tuple[int, bytes]]:
    """Who each count of one row counts (the rate's denominator: people where completion is tracked)."""
    who = {(row, m): (len(people.get(m, ())), people_key(people.get(m, ()))) for m in counted}
    tracked = people.get(_TRACKED, set())
    who[(row, "completion_rate:denominator")] = (len(tracked), people_key(tracked))
    return who


def _measure_column(measure: str, measures: Sequence[str]) -> Column:
    spec = MEASURES[measure]
    if spec.kind == "rate":
        # its denominator is enrolled_tracked; a table without that column names enrolled, which holds it
        return Column(spec.key, spec.title, "rate",
                      rate_of=("completed", _TRACKED if _TRACKED in measures else "enrolled"))
    return Column(spec.key, spec.title, "count")


def _measure_cells(measures: Sequence[str], counts: Mapping[str, int]) -> dict[str, Any]:
    cells: dict[str, Any] = {}
    for measure in measures:
        if measure == "completion_rate":
            enrolled = counts[_TRACKED]
            cells[measure] = counts["completed"] / enrolled if enrolled else None
        else:
            cells[measure] = counts[measure]
    return cells


# --- dimensions ------------------------------------------------------------------------------------


def _dimension_values(fact: CompletionFact, dim: str, day: datetime.date | None) -> list[Any]:
    if dim == "county":
        return [fact.county]
    if dim == "target_group":
        return list(dict.fromkeys(fact.target_groups)) or [None]
    if dim == "organisation":
        return [fact.organisation]
    if dim == "course":
        return [(fact.course_key, fact.major)]
    if dim == "period":
        return [None if day is None else f"{day:%Y-%m}"]
    raise AssertionError(f"unknown dimension {dim}")


def _display(dim: str, value: Any, labels: Labels) -> dict[str, Any]:
    if dim == "course":
        key, major = value
        return {"course": labels.course(key), "version": major}
    return {dim: _display_text(dim, value, labels)}


def _display_text(dim: str, value: Any, labels: Labels) -> str:
    if dim == "county":
        return labels.county(value)
    if dim == "target_group":
        return labels.target_group(value)
    if dim == "period":
        return UNKNOWN_MONTH if value is None else str(value)
    return str(value)


def _swedish(text: str) -> str:
    """A sort key that puts å, ä, ö after z, as Swedish readers expect."""
    return text.casefold().translate({ord("å"): "{", ord("ä"): "|", ord("æ"): "|", ord("ö"): "}", ord("ø"): "}"})


def _sort_key(dim: str, value: Any, labels: Labels) -> _SortKey:
    if value is None:
        return (2, 0, "", 0)
    if dim == "county":
        if value in COUNTY_CODES:
            return (0, COUNTY_CODES.index(value), "", 0)
        order = list(labels.counties)
        return (1, order.index(value), "", 0) if value in order else (1, len(order), _swedish(value), 0)
    if dim == "target_group":
        order = list(labels.target_groups)
        return (0, order.index(value), "", 0) if value in order else (1, 0, _swedish(labels.target_group(value)), 0)
    if dim == "course":
        key, major = value
        order = list(labels.courses)
        if key in order:
            return (0, order.index(key), "", major)
        return (1, 0, _swedish(labels.course(key)) + "\0" + key, major)
    return (0, 0, _swedish(str(value)), 0)


def _all_values(dim: str, seen: Mapping[Any, object], labels: Labels, period: Period | None) -> list[Any]:
    """Every value a pivot lists for ``dim``: the full lists of counties and target groups, else those seen."""
    values: list[Any] = []
    if dim == "county":
        # the counties the labels name are the caller's scope (a hub: its own county); none: all 21
        values = list(labels.counties) or list(COUNTY_CODES)
    elif dim == "target_group":
        values = list(labels.target_groups)
    elif dim == "period":
        values = _month_range([v for v in seen if v is not None], period)
    values += list(seen)
    unique = list(dict.fromkeys(values))
    return sorted(unique, key=lambda v: _sort_key(dim, v, labels))


def _pivot_key(dim: str, value: Any) -> str:
    return f"{dim}:{'-' if value is None else value}"


def _month_range(months: Sequence[str], period: Period | None) -> list[str]:
    """Every month from the first to the last one seen (or the period's), so gaps show as zero rows."""
    bounds = list(months)
    if period is not None:
        bounds += [f"{period[0]:%Y-%m}", f"{period[1]:%Y-%m}"]
    if not bounds:
        return []
    first, last = min(bounds), max(bounds)
    year, month = int(first[:4]), int(first[5:7])
    out: list[str] = []
    while (current := f"{year:04d}-{month:02d}") <= last:
        out.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


# --- relations, notes, checks ----------------------------------------------------------------------


def _relations(keys: Sequence[tuple[Any, ...]], dims: Sequence[str], counted: Sequence[str]) -> list[Relation]:
    """The sums a reader could subtract from: the totals row, completed = current + superseded, margins."""
    relations: list[Relation] = []
    n = len(keys)
    if n:
        relations += [Relation((TOTALS, m), tuple((i, m) for i in range(n))) for m in counted]
    if {"completed", "completed_current", "completed_superseded"} <= set(counted):
        relations += [Relation((i, "completed"), ((i, "completed_current"), (i, "completed_superseded")))
                      for i in [*range(n), TOTALS]]
    if len(dims) >= 2:
        # rows that differ in one dimension only add up to a margin that another table may publish
        for d in range(len(dims)):
            members: dict[tuple[Any, ...], list[int]] = {}
            for i, key in enumerate(keys):
                members.setdefault(key[:d] + key[d + 1:], []).append(i)
            for rows in members.values():
                if len(rows) >= 2:
                    relations += [Relation(None, tuple((i, m) for i in rows)) for m in counted]
    return relations


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " och " + words[-1]


def _title(dims: Sequence[str]) -> str:
    return "Utbildning per " + _join([_DIMENSION_NOUNS[d] for d in dims]) if dims else "Utbildning totalt"


def _notes(dims: Sequence[str], measures: Sequence[str], ctx: _Context, approximate: bool, *,
           pivot: bool = False, untracked: Sequence[str] = (), dashed: bool = False) -> list[str]:
    period, as_of = ctx.period, ctx.as_of
    notes: list[str] = []
    if period is not None:
        notes.append(f"Period: {period[0]:%Y-%m-%d}–{period[1]:%Y-%m-%d}.")
    if "enrolled" in measures:
        until = f", inskrivna senast {period[1]:%Y-%m-%d}" if period else ""
        notes.append(f"Inskrivna: personer med en aktiv eller avstängd inskrivning på kursversionen{until}.")
    if "reached" in measures:
        notes.append("Nådda: personer som skrevs in under perioden (aktiva eller avstängda inskrivningar).")
    if "completed" in measures:
        within = " under perioden" if period else ""
        notes.append(f"Genomförda: personer som slutförde kursversionen{within}, oavsett när de skrevs in.")
    if _TRACKED in measures:
        notes.append("Inskrivna där slutförandet följs: inskrivna på kursversioner där Moodle följer slutförandet; "
                     "de är nämnaren i Andel genomförda.")
    if "completion_rate" in measures:
        notes.append("Andel genomförda = genomförda / inskrivna där slutförandet följs.")
    if "completed_current" in measures or "completed_superseded" in measures:
        notes.append("Aktuell version = kursens nuvarande huvudversion; äldre version = en tidigare "
                     "huvudversion (genomförandet gäller som historik).")
    if "past_deadline" in measures:
        notes.append(f"Ej genomförda, sista dag passerad: aktiva inskrivningar som inte var slutförda "
                     f"{as_of:%Y-%m-%d} och vars sista dag hade passerat.")
    if "refresher_due" in measures:
        notes.append(f"Dags för repetition: aktiva inskrivningar med repetitionsdatum senast {as_of:%Y-%m-%d}.")
    if period is not None and ("enrolled" in measures or "reached" in measures):
        notes.append("En inskrivning utan datum räknas från slutförandedatumet, och inte alls om även det saknas.")
    if pivot:
        several = (" En person i flera målgrupper räknas i varje målgrupp, så målgrupperna kan summera till "
                   "mer än Totalt." if "target_group" in dims else "")
        notes.append("Varje person räknas en gång per cell; kolumnen Totalt och raden Totalt räknar varje "
                     f"person en gång.{several}")
    elif "target_group" in dims:
        notes.append("Varje person räknas en gång per rad. En person i flera målgrupper räknas i varje "
                     "målgrupp men bara en gång i totalen, så raderna kan summera till mer än totalen.")
    else:
        notes.append("Varje person räknas en gång per rad och bara en gång i totalen.")
    if "course" in dims:
        notes.append("Version = kursens huvudversion som personen är inskriven på.")
    if "period" in dims:
        notes.append("Månad = månaden då det räknade inträffade: inskrivning för inskrivna och nådda, "
                     "slutförande för genomförda, sista dag respektive repetitionsdatum för övriga.")
    if untracked:
        lacks = "kursen saknar" if len(untracked) == 1 else "kurserna saknar"
        notes.append(f"Moodle följer inte slutförandet av {_join(untracked)} ({lacks} villkor för slutförande "
                     "eller har slutförandet avstängt): "
                     "där räknas inskrivna, men ingen kan räknas som genomförd eller som sen.")
    if dashed:
        notes.append("Streck (–): Moodle följer inte slutförandet för någon i raden, så där finns inga genomförda, "
                     "sena eller repetitioner att räkna (det betyder inte noll).")
    if approximate:
        notes.append("Vissa slutförandedatum är ungefärliga: de anger när uppgiften först hämtades från "
                     "Moodle, inte när kursen slutfördes.")
    return notes


def _check_dimensions(dimensions: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    unknown = [d for d in dimensions if d not in allowed]
    if unknown:
        raise ConfigError(f"unknown report dimension {unknown[0]!r}", key="dimensions",
                          hint=f"use any of: {', '.join(allowed)}")
    if len(set(dimensions)) != len(dimensions):
        raise ConfigError("a report dimension is named twice", key="dimensions")
    return tuple(dimensions)


def _check_measures(measures: Sequence[str]) -> list[str]:
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ConfigError(f"unknown report measure {unknown[0]!r}", key="measures",
                          hint=f"use any of: {', '.join(MEASURES)}")
    if len(set(measures)) != len(measures):
        raise ConfigError("a report measure is named twice", key="measures")
    if "completion_rate" in measures and "completed" not in measures:
        raise ConfigError("completion_rate needs the completed measure too", key="measures")
    return [m for m in measures if MEASURES[m].kind == "count"]


def _context(as_of: datetime.date, period: Period | None) -> _Context:
    if period is not None and period[0] > period[1]:
        raise ConfigError(f"the report period ends ({period[1]}) before it starts ({period[0]})", key="period")
    return _Context(as_of=as_of, period=period)
