"""Parts of a roster import plan for people: the rows --skip-invalid left out, and who would leave.

Each skipped row is listed with its number and every reason (text and ``--json``), as the option's
help promises; a removal names the people by the e-mail the state store has for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moodle_sync.rosters.roster import RowProblem

__all__ = ["leaving_lines", "skipped_lines", "skipped_rows_json"]

#: lines of who would leave shown in text (everything is in --json)
LEAVING_SHOWN = 50


def skipped_rows_json(problems: Sequence[RowProblem]) -> list[dict[str, Any]]:
    """``[{"row": 4, "reasons": ["column \"E-post\": 'x' is not an e-mail address", …]}]``, by row."""
    rows: dict[int, list[str]] = {}
    for p in problems:
        rows.setdefault(p.row, []).append(_reason(p))
    return [{"row": row, "reasons": reasons} for row, reasons in sorted(rows.items())]


def skipped_lines(problems: Sequence[RowProblem]) -> list[str]:
    """One line per skipped row: ``    row 4 skipped: column "E-post": … ; column "Målgrupp": …``."""
    return [f"    row {r['row']} skipped: " + "; ".join(r["reasons"]) for r in skipped_rows_json(problems)]


def leaving_lines(remove: Sequence[tuple[str, int]], emails: Mapping[int, str]) -> list[str]:
    """``    anna@falun.se (user 12) leaves tg:socialsekreterare:W``, one per membership ended."""
    lines = [f"    {emails[uid] + f' (user {uid})' if uid in emails else f'user {uid}'} leaves {idn}"
             for idn, uid in remove[:LEAVING_SHOWN]]
    if len(remove) > LEAVING_SHOWN:
        lines.append(f"    … and {len(remove) - LEAVING_SHOWN} more (--json lists all)")
    return lines


def _reason(p: RowProblem) -> str:
    shown = p.value if len(p.value) <= 60 else p.value[:57] + "..."
    text = f'column "{p.column}": ' + (f"{shown!r} {p.message}" if p.value else p.message)
    return f"{text} ({p.hint})" if p.hint else text
