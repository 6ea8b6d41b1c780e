"""Random rounding to base 3, keyed by who is counted: the protection every report that leaves the tool gets.

Each count is rounded on its own to a neighbouring multiple of 3 (a count that is one already stays; 1 goes
to 0 with chance 2/3 and to 3 with chance 1/3; 2 to 3 with 2/3 and to 0 with 1/3), so it is off by at most 2
and right on average. The "random" draw is an HMAC of the set of people the cell counts, under a secret the
state store keeps: the same people give the same published number in every report, period, filter and
preset, so asking again, or asking the same thing another way, tells nothing new. The difference of two
published counts is a multiple of 3 that can be 4 away from the true difference either way, so a small
count cannot be had by subtracting one report from another (the attack suppression alone cannot stop once
reports can be cut by any period and filter). Published values 1..threshold-1 show as ``<threshold``; rates
are computed from the published counts.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import Any

from moodle_sync.errors import ConfigError
from moodle_sync.reports.table import TOTALS, CellRef, Suppressed, Table

__all__ = ["BASE", "people_key", "random_round", "round_tables", "rounding_note"]

BASE = 3


def people_key(people: Iterable[int]) -> bytes:
    """The identity of a cell: a digest of the (sorted, distinct) Moodle user ids it counts."""
    return hashlib.sha256(",".join(map(str, sorted(set(people)))).encode()).digest()


def random_round(value: int, key: bytes, secret: bytes) -> int:
    """``value`` rounded to a neighbouring multiple of :data:`BASE`, unbiased, the same for the same key."""
    rest = value % BASE
    if rest == 0:
        return value
    draw = int.from_bytes(hmac.new(secret, key, hashlib.sha256).digest()[:8], "big") / 2**64
    # up with chance rest/BASE, down otherwise: the expected value is the true one
    return value - rest + BASE if draw < rest / BASE else value - rest


def round_tables(tables: Sequence[Table], *, secret: bytes, threshold: int = 5) -> list[Table]:
    """Copies of ``tables`` with every count randomly rounded and rates recomputed from the rounded counts.

    Args:
        tables: tables from :func:`~moodle_sync.reports.aggregate.build_table` or ``build_pivot`` (they
            know who each count counts); not suppressed or rounded before.
        secret: the installation's rounding secret (the state store keeps one per site).
        threshold: published counts 1..threshold-1 show as ``<threshold``; at least 2.

    Raises:
        ConfigError: the threshold is below 2.
        ValueError: a table does not know who its counts count, or was protected already.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 2:
        raise ConfigError(f"the suppression threshold must be a whole number of at least 2, not {threshold!r}",
                          key="threshold")
    return [_round(table, secret, threshold) for table in tables]


def rounding_note(threshold: int) -> str:
    marked = list(range(BASE, threshold, BASE))
    small = (f" Avrundade värden under {threshold} ({', '.join(map(str, marked))}) visas som <{threshold}."
             if marked else "")
    return (f"Alla antal är slumpvis avrundade till en multipel av {BASE}, vart och ett för sig (högst 2 från "
            "det verkliga värdet, rätt i genomsnitt; samma personer ger alltid samma tal). Därför summerar "
            f"rader och kolumner inte alltid exakt till Totalt, och 0 kan stå för 1 eller 2.{small} Andelar "
            "räknas på de avrundade talen.")


def _round(table: Table, secret: bytes, threshold: int) -> Table:
    if table.threshold is not None or table.suppressed:
        raise ValueError(f"table {table.title!r} is already protected")
    counts = [c.key for c in table.columns if c.kind == "count"]
    result = copy.deepcopy(table)
    result.counted = {}
    result.relations = []  # rounded cells do not add up: nothing to recompute a hidden cell from
    marks: dict[CellRef, Suppressed] = {}
    published: dict[CellRef, int] = {}
    for ref, (true_count, who) in table.counted.items():
        published[ref] = random_round(true_count, who, secret)
    rows: list[tuple[int, dict[str, Any]]] = [*enumerate(result.rows), (TOTALS, result.totals)]
    for r, row in rows:
        for key in counts:
            if key not in row or (row[key] is None and (r, key) not in published):
                continue  # not in the table, or nothing to count there ("–")
            if (r, key) not in published:
                raise ValueError(f"table {table.title!r}: nobody is known behind cell {(r, key)}")
            value = published[(r, key)]
            if 0 < value < threshold:
                marks[(r, key)] = Suppressed(primary=True, threshold=threshold)
                row[key] = marks[(r, key)]
            else:
                row[key] = value
        for column in table.columns:
            if column.kind != "rate" or column.rate_of is None or column.key not in row:
                continue
            numerator, denominator = column.rate_of
            den = published.get((r, f"{column.key}:denominator"), published.get((r, denominator), 0))
            if (r, numerator) in marks or (r, denominator) in marks or 0 < den < threshold:
                marks[(r, column.key)] = Suppressed(primary=False, threshold=threshold)
                row[column.key] = marks[(r, column.key)]
            else:
                row[column.key] = min(1.0, published[(r, numerator)] / den) if den else None
    result.suppressed = marks
    result.threshold = threshold
    result.notes = [*table.notes, rounding_note(threshold)]
    return result
