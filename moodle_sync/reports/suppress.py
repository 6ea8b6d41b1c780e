"""Small-count suppression: hide counts 1..threshold-1, then enough other cells that none can be recomputed.

Primary cells are the small counts. Secondary (complementary) cells are hidden so that no primary
cell can be recovered from a sum the reader sees: first cell by cell in each relation (a row, a
column, the totals row, completed = current + superseded), then, until stable, for any hidden cell
that a combination of relations still pins down (exact rational elimination over the hidden cells).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

from moodle_sync.errors import ConfigError
from moodle_sync.reports.table import TOTALS, CellRef, Suppressed, Table

__all__ = ["TableCell", "suppress", "suppress_together", "suppression_note"]

#: (table index, row index or TOTALS, column key): a cell among several tables suppressed together
TableCell = tuple[int, int, str]
_Relation = tuple[TableCell | None, tuple[TableCell, ...]]
#: how many candidate cells to try when looking for one that frees a pinned cell
_TRIES = 24


def suppress(table: Table, *, threshold: int = 5) -> Table:
    """Return a copy of ``table`` with small counts and the cells that would reveal them hidden.

    Args:
        table: an unsuppressed table (counts are ``int``).
        threshold: counts 1..threshold-1 are hidden and shown as ``<threshold``; at least 2.

    Raises:
        ConfigError: the threshold is below 2.
        ValueError: the table was already suppressed.
    """
    return suppress_together([table], threshold=threshold)[0]


def suppress_together(
    tables: Sequence[Table],
    *,
    threshold: int = 5,
    links: Iterable[tuple[TableCell, TableCell]] = (),
) -> list[Table]:
    """Suppress several tables as one, so a cell hidden in one cannot be read from another.

    Args:
        tables: unsuppressed tables.
        threshold: as for :func:`suppress`.
        links: pairs of cells, in different tables, that hold the same number (e.g. the same total).
            Each is treated as a relation, so both are shown or both hidden.

    Returns:
        New tables, in the same order, with :class:`Suppressed` markers, ``suppressed``, ``threshold``
        and the Swedish note on the rule.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 2:
        raise ConfigError(f"the suppression threshold must be a whole number of at least 2, not {threshold!r}",
                          key="threshold")
    values: dict[TableCell, int] = {}
    for t, table in enumerate(tables):
        if table.threshold is not None or table.suppressed:
            raise ValueError(f"table {table.title!r} is already suppressed")
        counts = [c.key for c in table.columns if c.kind == "count"]
        for r, row in [*enumerate(table.rows), (TOTALS, table.totals)]:
            for key in counts:
                value = row.get(key)
                if value is None:  # no such cell (a table without a totals row)
                    continue
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"table {table.title!r}: cell {(r, key)} is {value!r}, not a count")
                values[(t, r, key)] = value

    relations: list[_Relation] = [
        ((t, *rel.total) if rel.total is not None else None, tuple((t, *p) for p in rel.parts))
        for t, table in enumerate(tables) for rel in table.relations
    ]
    relations += [(a, (b,)) for a, b in links]
    for total, parts in relations:
        for cell in ([total] if total is not None else []) + list(parts):
            if cell not in values:
                raise ValueError(f"relation names {cell}, which is not a count cell")

    primary = {cell for cell, value in values.items() if 0 < value < threshold}
    hidden = _complement(values, relations, set(primary))
    return [_apply(table, t, hidden, primary, threshold) for t, table in enumerate(tables)]


def suppression_note(threshold: int) -> str:
    small = "Värdet 1 visas" if threshold == 2 else f"Värden 1–{threshold - 1} visas"
    return (f"{small} som <{threshold}; ytterligare celler är dolda så att de inte kan räknas fram ur summor. "
            "Sådana celler, och andelar som bygger på dolda värden, visas som ..")


def _complement(values: dict[TableCell, int], relations: list[_Relation], hidden: set[TableCell]) -> set[TableCell]:
    """Grow ``hidden`` until no hidden cell can be recomputed from the shown ones."""
    order = {cell: i for i, cell in enumerate(values)}

    def pick(candidates: Iterable[TableCell]) -> TableCell | None:
        shown = [c for c in candidates if c not in hidden and values[c] > 0]
        return min(shown, key=lambda c: (values[c], order[c])) if shown else None

    unfixable: set[TableCell] = set()
    while True:
        changed = True
        while changed:  # the plain rule: a relation never has exactly one unknown cell
            changed = False
            for total, parts in relations:
                unknown = [c for c in parts if c in hidden] + ([total] if total in hidden else [])
                if len(unknown) != 1:
                    continue
                extra = pick(parts) or (pick([total]) if total is not None else None)
                if extra is not None:
                    hidden.add(extra)
                    changed = True
        # the plain rule leaves cells that several relations pin down together (a bridge in a 2-D table)
        pinned, group = _determined(hidden, relations)
        pinned = [c for c in pinned if c not in unfixable]
        if not pinned:
            return hidden
        cell = pinned[0]
        # candidates: shown non-zero cells of every relation that touches the pinned cell's group
        near = {c for total, parts in relations
                for c in (*parts, *([total] if total is not None else []))
                if any(group.get(h) == group[cell] for h in (*parts, total) if h in hidden)}
        candidates = sorted((c for c in near if c not in hidden and values[c] > 0),
                            key=lambda c: (values[c], order[c]))
        if not candidates:
            unfixable.add(cell)  # only zeros or hidden cells around it: nothing more to hide
            continue
        # the smallest cell that frees it, else the smallest one (and look again)
        freeing = next((c for c in candidates[:_TRIES] if cell not in _determined(hidden | {c}, relations)[0]),
                       candidates[0])
        hidden.add(freeing)


def _determined(
    hidden: set[TableCell], relations: list[_Relation]
) -> tuple[list[TableCell], dict[TableCell, TableCell]]:
    """Hidden cells whose value follows from the relations and the shown cells alone, and for every
    hidden cell in a relation the group (connected by relations) it belongs to."""
    equations: list[dict[TableCell, Fraction]] = []
    for total, parts in relations:
        eq: dict[TableCell, Fraction] = {}
        if total is not None and total in hidden:
            eq[total] = eq.get(total, Fraction(0)) + 1
        for part in parts:
            if part in hidden:
                eq[part] = eq.get(part, Fraction(0)) - 1
        eq = {c: v for c, v in eq.items() if v}
        if eq:
            equations.append(eq)

    # split into independent groups first: elimination is cubic, the groups are small
    parent: dict[TableCell, TableCell] = {}

    def find(c: TableCell) -> TableCell:
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for eq in equations:
        first, *rest = eq
        for c in rest:
            parent[find(c)] = find(first)
    components: dict[TableCell, list[dict[TableCell, Fraction]]] = {}
    for eq in equations:
        components.setdefault(find(next(iter(eq))), []).append(eq)

    pinned: list[TableCell] = []
    for eqs in components.values():
        pinned += _pinned_by(eqs)
    return sorted(pinned), {c: find(c) for c in parent}


def _pinned_by(equations: list[dict[TableCell, Fraction]]) -> list[TableCell]:
    """Gauss-Jordan elimination; a variable is pinned when its reduced row has no other variable."""
    rows = [dict(eq) for eq in equations]
    variables = sorted({c for eq in rows for c in eq})
    pivots: list[tuple[TableCell, dict[TableCell, Fraction]]] = []
    free_rows = list(range(len(rows)))
    for var in variables:
        at = next((i for i in free_rows if rows[i].get(var)), None)
        if at is None:
            continue
        free_rows.remove(at)
        pivot = rows[at]
        factor = pivot[var]
        for c in pivot:
            pivot[c] /= factor
        for i, row in enumerate(rows):
            if i != at and row.get(var):
                scale = row[var]
                for c, v in pivot.items():
                    row[c] = row.get(c, Fraction(0)) - scale * v
                    if not row[c]:
                        del row[c]
        pivots.append((var, pivot))
    return [var for var, row in pivots if len(row) == 1]


def _apply(table: Table, t: int, hidden: set[TableCell], primary: set[TableCell], threshold: int) -> Table:
    result = copy.deepcopy(table)
    marks: dict[CellRef, Suppressed] = {}
    for (ti, r, key) in hidden:
        if ti == t:
            marks[(r, key)] = Suppressed(primary=(ti, r, key) in primary, threshold=threshold)
    for column in table.columns:
        if column.kind != "rate" or column.rate_of is None:
            continue
        for r in [*range(len(table.rows)), TOTALS]:
            if any((r, source) in marks for source in column.rate_of):
                marks[(r, column.key)] = Suppressed(primary=False, threshold=threshold)
    for (r, key), mark in marks.items():
        target: dict[str, Any] = result.totals if r == TOTALS else result.rows[r]
        target[key] = mark
    result.suppressed = marks
    result.threshold = threshold
    result.notes = [*table.notes, suppression_note(threshold)]
    return result
