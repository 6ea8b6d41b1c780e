"""Random rounding to base 3 of small groups, keyed by who is counted: the protection every report that leaves
the tool gets, for all of them together.

The facts are split once into groups that no report can split further (:mod:`.groups`: one organisation's
people with the same target groups, in one course version, whose event fell in one month). Each group's
count is rounded on its own to a neighbouring multiple of 3 (a count that is one already stays; 1 goes to 0
with chance 2/3 and to 3 with chance 1/3; 2 to 3 with 2/3 and to 0 with 1/3), so it is off by at most 2 and
right on average. The "random" draw is an HMAC of the group and the people in it, under a secret the state
store keeps: the same people give the same number in every report, so asking again tells nothing new.

Every published count, in every report, period, breakdown, scope and preset, is the sum of its groups'
rounded counts. So the whole published set is a function of independently rounded, disjoint groups, and
no combination of reports can pin a small count: whatever a reader adds up or subtracts, any group with
someone in it could hold one person more or one fewer (whichever stays within 2 of its rounded count)
without changing a single published number, so every count with anyone in it keeps at least two possible
values. The year is the sum of its quarters and months, rows add up to their totals (target groups
excepted: a person in two groups counts in each), and a hub sees the same numbers as the national
report's row for its county. The price is that a count of many groups can be further from the truth than
2 (by about √(2 × groups), still right on average). Published values 1..threshold-1 show as
``<threshold``; rates are computed from the published counts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from moodle_sync.errors import ConfigError
from moodle_sync.reports.table import TOTALS, CellRef, Part, Suppressed, Table

__all__ = ["BASE", "random_round", "round_tables", "rounding_note"]

BASE = 3


def random_round(value: int, key: bytes, secret: bytes) -> int:
    """``value`` rounded to a neighbouring multiple of :data:`BASE`, unbiased, the same for the same key."""
    rest = value % BASE
    if rest == 0:
        return value
    draw = int.from_bytes(hmac.new(secret, key, hashlib.sha256).digest()[:8], "big") / 2**64
    # up with chance rest/BASE, down otherwise: the expected value is the true one
    return value - rest + BASE if draw < rest / BASE else value - rest


def round_tables(tables: Sequence[Table], *, secret: bytes, threshold: int = 5) -> list[Table]:
    """Copies of ``tables`` with every count the sum of its groups' rounded counts, and rates recomputed from them.

    Args:
        tables: tables from :func:`~moodle_sync.reports.aggregate.build_table` or ``build_pivot`` (they
            know the groups each count sums); not suppressed or rounded before.
        secret: the installation's rounding secret (the state store keeps one per site).
        threshold: published counts 1..threshold-1 show as ``<threshold``; at least 2.

    Raises:
        ConfigError: the threshold is below 2.
        ValueError: a table does not know who its counts count, or was protected already.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 2:
        raise ConfigError(f"the report threshold must be a whole number of at least 2, not {threshold!r}",
                          key="threshold")
    drawn: dict[bytes, int] = {}  # a group in several tables is drawn once (the same draw anyway)
    return [_round(table, secret, threshold, drawn) for table in tables]


def rounding_note(threshold: int) -> str:
    marked = list(range(BASE, threshold, BASE))
    small = (f" Summor under {threshold} ({', '.join(map(str, marked))}) visas som <{threshold}."
             if marked else "")
    return ("Alla antal är skyddade med slumpvis avrundning i små grupper: de räknade delas upp efter "
            "organisation, målgrupper, kursversion och månad, och varje grupps antal avrundas för sig till en "
            f"multipel av {BASE} (högst 2 från det verkliga, rätt i genomsnitt; samma personer ger alltid samma "
            "tal). Varje tal i rapporten är summan av sina gruppers avrundade antal, så månader och kvartal "
            "summerar till året och rader till sin total (utom målgrupper, där en person i flera räknas i var "
            "och en), i alla rapporter, och inget litet antal kan räknas fram genom att lägga ihop eller dra "
            "ifrån tal ur olika rapporter. Ett tal som består av många "
            "grupper kan därför avvika mer än 2 från det verkliga värdet, och 0 kan stå för några få personer."
            f"{small} Andelar räknas på de avrundade talen; en andel som bygger på ett värde under {threshold} "
            "visas som .. (två punkter).")


def _round(table: Table, secret: bytes, threshold: int, drawn: dict[bytes, int]) -> Table:
    if table.threshold is not None or table.suppressed:
        raise ValueError(f"table {table.title!r} is already protected")
    counts = [c.key for c in table.columns if c.kind == "count"]

    def rounded(parts: tuple[Part, ...]) -> int:
        total = 0
        for size, key in parts:
            if key not in drawn:
                drawn[key] = random_round(size, key, secret)
            total += drawn[key]
        return total

    result = dataclasses.replace(table, rows=[dict(row) for row in table.rows], totals=dict(table.totals),
                                 columns=list(table.columns), counted={})
    marks: dict[CellRef, Suppressed] = {}
    published = {ref: rounded(parts) for ref, parts in table.counted.items()}
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
