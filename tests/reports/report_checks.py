"""Independent checks that no hidden cell of a suppressed table can be recovered from what it shows.

They read only the true values (the unsuppressed table) and the relations, and know nothing of the
algorithm in ``moodle_sync.reports.suppress``.
"""

from __future__ import annotations

from collections.abc import Sequence

from moodle_sync.reports import TOTALS, Column, Relation, Table

Cell = tuple[int, str]


def hidden_cells(table: Table) -> set[Cell]:
    counts = {c.key for c in table.columns if c.kind == "count"}
    return {ref for ref in table.suppressed if ref[1] in counts}


def derivable_by_subtraction(table: Table) -> list[tuple[Cell, Relation]]:
    """Hidden cells that one relation gives away: the only unknown among a total and its parts."""
    hidden = hidden_cells(table)
    found = []
    for rel in table.relations:
        cells = list(rel.parts) + ([rel.total] if rel.total is not None else [])
        unknown = [c for c in cells if c in hidden]
        if len(unknown) == 1:
            found.append((unknown[0], rel))
    return found


def pinned_by_combining(table: Table, *, max_hidden: int = 40) -> set[Cell] | None:
    """Hidden cells that no change of the hidden values can move while every relation still holds.

    Brute force: a hidden cell can take another value exactly when some vector of changes
    d ∈ {-1, 0, 1}^hidden keeps every relation's sum (d_total = Σ d_parts) and moves it. For tables
    with margins (2-D sums) the cycles of ±1 are all such vectors. For each hidden cell a depth-first
    search looks for such a d with that cell's entry 1. Returns None when there are too many hidden
    cells to try.
    """
    hidden = sorted(hidden_cells(table))
    if len(hidden) > max_hidden:
        return None
    index = {c: i for i, c in enumerate(hidden)}
    equations: list[dict[int, int]] = []
    for rel in table.relations:
        coeffs: dict[int, int] = {}
        if rel.total in index:
            coeffs[index[rel.total]] = coeffs.get(index[rel.total], 0) + 1
        for p in rel.parts:
            if p in index:
                coeffs[index[p]] = coeffs.get(index[p], 0) - 1
        coeffs = {i: k for i, k in coeffs.items() if k}
        if coeffs:
            equations.append(coeffs)
    # check each equation as soon as its last variable is set
    due: dict[int, list[dict[int, int]]] = {}
    for eq in equations:
        due.setdefault(max(eq), []).append(eq)

    def movable(target: int) -> bool:
        d = [0] * len(hidden)

        def search(i: int) -> bool:
            if i == len(hidden):
                return True
            for v in ((1,) if i == target else (0, 1, -1)):
                d[i] = v
                if all(sum(k * d[j] for j, k in eq.items()) == 0 for eq in due.get(i, [])) and search(i + 1):
                    return True
            d[i] = 0
            return False

        return search(0)

    return {c for c in hidden if not movable(index[c])}


def grid_table(values: Sequence[Sequence[int]]) -> Table:
    """A 2-D table (rows × columns) with exact row and column margins and a grand total."""
    n_cols = len(values[0])
    keys = [f"c{j}" for j in range(n_cols)]
    columns = [Column("row", "Rad", "dimension"), *(Column(k, k.upper(), "count") for k in keys),
               Column("total", "Totalt", "count")]
    rows = []
    for i, row_values in enumerate(values):
        row: dict[str, object] = {"row": f"r{i}", **dict(zip(keys, row_values, strict=True))}
        row["total"] = sum(row_values)
        rows.append(row)
    totals: dict[str, object] = {k: sum(r[j] for r in values) for j, k in enumerate(keys)}
    totals["total"] = sum(sum(r) for r in values)
    relations = [Relation((i, "total"), tuple((i, k) for k in keys)) for i in range(len(values))]
    relations += [Relation((TOTALS, k), tuple((i, k) for i in range(len(values)))) for k in [*keys, "total"]]
    relations.append(Relation((TOTALS, "total"), tuple((TOTALS, k) for k in keys)))
    return Table(columns=columns, rows=rows, totals=totals, relations=relations, title="Rutnät")
