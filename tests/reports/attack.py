"""An attacker on published counts: interval constraint propagation over every sum the reader knows.

It knows nothing of how the tool protects a count beyond the rule the report states. What it is given
generously: exactly which people (elements) every published cell counts, so it knows every additive
relation there is, including which cells are disjoint parts of which. Cells are split into Venn regions
(elements in the same published cells form one region, and every cell is the sum of its regions); the
regions' bounds are narrowed from each cell's interval until nothing changes, as interval constraint
propagation does, and every cell's interval is read off its regions.

Two readings of a published number, as the report's own note states its rule:

- :func:`pinned_per_cell`: each count rounded on its own, at most 2 off (``v`` means ``v-2..v+2``).
- :func:`pinned_by_groups`: each count the sum of its groups' rounded counts (the groups named by the
  note), each group at most 2 off. The attacker first derives what it can of every group's published
  value from all published sums (exact equations); a contradiction means a number breaks the stated rule.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

#: an upper bound no count reaches: "unbounded" for the propagation
UNBOUNDED = 10**9

Cell = frozenset[Hashable]


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int


@dataclass(frozen=True)
class Pin:
    truth: int
    bounds: Bounds
    cell: Cell


def propagate(cells: Mapping[Cell, Bounds]) -> tuple[dict[Cell, Bounds], list[tuple[Cell, Bounds]]]:
    """The interval of every cell's sum consistent with all cells' intervals, and its regions' intervals.

    Args:
        cells: the elements each published cell sums → the interval its published value allows for the sum.

    Returns:
        every cell → the narrowest interval bounds propagation proves for it; every region (its elements)
        with the interval proved for its sum.

    Raises:
        AssertionError: the intervals contradict each other (the rule they were read by is not the one
            the numbers were made by).
    """
    index = {cell: i for i, cell in enumerate(cells)}
    membership: dict[Hashable, list[int]] = {}
    for cell, i in index.items():
        for element in cell:
            membership.setdefault(element, []).append(i)
    regions: dict[tuple[int, ...], list[Hashable]] = {}
    for element, where in membership.items():
        regions.setdefault(tuple(where), []).append(element)
    region_keys = list(regions)
    parts: list[list[int]] = [[] for _ in index]
    for r, where in enumerate(region_keys):
        for i in where:
            parts[i].append(r)
    low = [0] * len(region_keys)
    high = [UNBOUNDED] * len(region_keys)
    limits = list(cells.values())

    pending = set(range(len(limits)))
    while pending:
        i = pending.pop()
        rs = parts[i]
        sum_low = sum(low[r] for r in rs)
        sum_high = sum(high[r] for r in rs)
        for r in rs:
            new_high = min(high[r], limits[i].high - (sum_low - low[r]))
            new_low = max(low[r], limits[i].low - (sum_high - high[r]))
            if new_low > new_high:
                raise AssertionError("the published values contradict each other under the rule they were read by")
            if (new_low, new_high) != (low[r], high[r]):
                sum_low += new_low - low[r]
                sum_high += new_high - high[r]
                low[r], high[r] = new_low, new_high
                pending.update(region_keys[r])
    result = {cell: Bounds(max(limits[i].low, sum(low[r] for r in parts[i])),
                           min(limits[i].high, sum(high[r] for r in parts[i])))
              for cell, i in index.items()}
    return result, [(frozenset(regions[key]), Bounds(low[r], high[r])) for r, key in enumerate(region_keys)]


def pinned_per_cell(published: Sequence[tuple[Cell, int]], *, below: int = 5) -> list[Pin]:
    """Small cells pinned when each published value ``v`` means a true count in ``v-2..v+2`` (and at least 0)."""
    cells: dict[Cell, Bounds] = {}
    for cell, value in published:
        _intersect(cells, cell, Bounds(max(0, value - 2), value + 2))
    bounds, _ = propagate(cells)
    return _pins(bounds, {cell: len(cell) for cell in bounds}, below)


def pinned_by_groups(published: Sequence[tuple[Cell, int]], group_of: Mapping[Hashable, Hashable], *,
                     below: int = 5) -> list[Pin]:
    """Small cells pinned when each published value is the sum of its groups' published values (multiples of
    3), each group's true count within 2 of its value; generously, the attacker is told which groups have
    anyone in them (at least 1 each)."""
    sums: dict[Cell, Bounds] = {}
    for cell, value in published:
        _intersect(sums, frozenset(group_of[e] for e in cell), Bounds(value, value))
    _, regions = propagate(sums)
    region_of: dict[Hashable, int] = {}
    truths: list[Bounds] = []
    for k, (groups, shown) in enumerate(regions):  # groups no published cell tells apart: only their sum is known
        n = len(groups)
        low, high = 3 * -(-shown.low // 3), 3 * (shown.high // 3)
        truths.append(Bounds(max(n, low - 2 * n), high + 2 * n))
        region_of.update((group, k) for group in groups)
    bounds: dict[Cell, Bounds] = {}
    for cell, _ in published:
        ks = {region_of[group_of[e]] for e in cell}
        bounds[cell] = Bounds(sum(truths[k].low for k in ks), sum(truths[k].high for k in ks))
    return _pins(bounds, {cell: len(cell) for cell in bounds}, below)


def _intersect(cells: dict[Cell, Bounds], cell: Cell, bounds: Bounds) -> None:
    was = cells.get(cell)
    cells[cell] = bounds if was is None else Bounds(max(was.low, bounds.low), min(was.high, bounds.high))


def _pins(bounds: Mapping[Cell, Bounds], truth: Mapping[Cell, int], below: int) -> list[Pin]:
    pins = []
    for cell, b in bounds.items():
        assert b.low <= truth[cell] <= b.high, f"the attacker's rule excludes the truth {truth[cell]}: {b}"
        if 1 <= truth[cell] < below and b.low == b.high:
            pins.append(Pin(truth[cell], b, cell))
    return pins
