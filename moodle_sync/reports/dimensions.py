"""The dimensions a report groups people by: county, target group, organisation, course version, month.

What each dimension is (the values a group of people counts under are in :mod:`.groups`), how a value
is shown (Swedish county and course names, "Okänd månad"), the order rows come in (counties in the
official order AB, C, D … BD, å, ä, ö after z), and the full lists a pivot shows so that tables line up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from moodle_sync.errors import ConfigError
from moodle_sync.reports.measures import Period
from moodle_sync.reports.model import COUNTY_CODES, Labels
from moodle_sync.reports.table import Column

__all__ = ["DIMENSIONS", "DIMENSION_COLUMNS", "DIMENSION_NOUNS", "PIVOT_DIMENSIONS", "UNKNOWN_MONTH", "SortKey",
           "all_values", "check_dimensions", "display_cells", "display_text", "month_range",
           "order_key", "pivot_key", "swedish_key"]

DIMENSIONS: Final = ("county", "target_group", "organisation", "course", "period")
#: dimensions a pivot can put on its rows or columns ("course" needs two columns, so it cannot)
PIVOT_DIMENSIONS: Final = ("county", "target_group", "organisation", "period")

DIMENSION_COLUMNS: Final[Mapping[str, tuple[Column, ...]]] = {
    "county": (Column("county", "Län", "dimension"),),
    "target_group": (Column("target_group", "Målgrupp", "dimension"),),
    "organisation": (Column("organisation", "Organisation", "dimension"),),
    "course": (Column("course", "Kurs", "dimension"), Column("version", "Version", "dimension")),
    "period": (Column("period", "Månad", "dimension"),),
}
DIMENSION_NOUNS: Final[Mapping[str, str]] = {
    "county": "län", "target_group": "målgrupp", "organisation": "organisation",
    "course": "kurs och version", "period": "månad",
}
UNKNOWN_MONTH: Final = "Okänd månad"
SortKey = tuple[int, int, str, int]


def check_dimensions(dimensions: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """``dimensions`` as a tuple; ConfigError for one not in ``allowed`` or one named twice."""
    unknown = [d for d in dimensions if d not in allowed]
    if unknown:
        raise ConfigError(f"unknown report dimension {unknown[0]!r}", key="dimensions",
                          hint=f"use any of: {', '.join(allowed)}")
    if len(set(dimensions)) != len(dimensions):
        raise ConfigError("a report dimension is named twice", key="dimensions")
    return tuple(dimensions)


def display_cells(dim: str, value: Any, labels: Labels) -> dict[str, Any]:
    if dim == "course":
        key, major = value
        return {"course": labels.course(key), "version": major}
    return {dim: display_text(dim, value, labels)}


def display_text(dim: str, value: Any, labels: Labels) -> str:
    if dim == "county":
        return labels.county(value)
    if dim == "target_group":
        return labels.target_group(value)
    if dim == "period":
        return UNKNOWN_MONTH if value is None else str(value)
    return str(value)


def swedish_key(text: str) -> str:
    """A sort key that puts å, ä, ö after z, as Swedish readers expect."""
    return text.casefold().translate({ord("å"): "{", ord("ä"): "|", ord("æ"): "|", ord("ö"): "}", ord("ø"): "}"})


def order_key(dim: str, value: Any, labels: Labels) -> SortKey:
    """The sort key of a raw dimension value (county code, target-group key, (course key, major), month)."""
    if value is None:
        return (2, 0, "", 0)
    if dim == "county":
        if value in COUNTY_CODES:
            return (0, COUNTY_CODES.index(value), "", 0)
        order = list(labels.counties)
        return (1, order.index(value), "", 0) if value in order else (1, len(order), swedish_key(value), 0)
    if dim == "target_group":
        order = list(labels.target_groups)
        return (0, order.index(value), "", 0) if value in order else (1, 0, swedish_key(labels.target_group(value)), 0)
    if dim == "course":
        key, major = value
        order = list(labels.courses)
        if key in order:
            return (0, order.index(key), "", major)
        return (1, 0, swedish_key(labels.course(key)) + "\0" + key, major)
    return (0, 0, swedish_key(str(value)), 0)


def all_values(dim: str, seen: Mapping[Any, object], labels: Labels, period: Period | None) -> list[Any]:
    """Every value a pivot lists for ``dim``: the full lists of counties and target groups, else those seen."""
    values: list[Any] = []
    if dim == "county":
        # the counties the labels name are the caller's scope (a hub: its own county); none: all 21
        values = list(labels.counties) or list(COUNTY_CODES)
    elif dim == "target_group":
        values = list(labels.target_groups)
    elif dim == "period":
        values = month_range([v for v in seen if v is not None], period)
    values += list(seen)
    unique = list(dict.fromkeys(values))
    return sorted(unique, key=lambda v: order_key(dim, v, labels))


def pivot_key(dim: str, value: Any) -> str:
    return f"{dim}:{'-' if value is None else value}"


def month_range(months: Sequence[str], period: Period | None) -> list[str]:
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
