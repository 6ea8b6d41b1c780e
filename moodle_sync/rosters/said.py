"""Parts of a roster import plan for people: the rows --skip-invalid left out, and who would leave.

Each skipped row is listed with its number and every reason (text and ``--json``), as the option's
help promises; a removal names the people by the e-mail the state store has for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moodle_sync.rosters.actions import Leaver
from moodle_sync.rosters.roster import RowProblem

__all__ = ["leavers_json", "leaving_lines", "skipped_lines", "skipped_rows_json"]

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


def leaving_lines(leavers: Sequence[Leaver]) -> list[str]:
    """One line per person who leaves: ``    Anna Berg (anna@falun.se, Falu kommun; user 12) leaves
    socialsekreterare; enrolment suspended in hrv-socialtjanst@1``."""
    lines = [f"- {len(leavers)} {'person leaves' if len(leavers) == 1 else 'people leave'}:"] if leavers else []
    for p in leavers[:LEAVING_SHOWN]:
        who = ", ".join(x for x in (p.email, p.organisation) if x)
        loses = (f"; enrolment suspended in {', '.join(p.courses)}" if p.courses else "")
        lines.append(f"    {p.name} ({who + '; ' if who else ''}user {p.userid}) leaves {', '.join(p.groups)}{loses}")
    if len(leavers) > LEAVING_SHOWN:
        lines.append(f"    … and {len(leavers) - LEAVING_SHOWN} more (--json lists all)")
    return lines


def leavers_json(leavers: Sequence[Leaver]) -> list[dict[str, Any]]:
    return [{"userid": p.userid, "name": p.name, "email": p.email, "organisation": p.organisation,
             "target_groups": list(p.groups), "suspended_in": list(p.courses)} for p in leavers]


def _reason(p: RowProblem) -> str:
    shown = p.value if len(p.value) <= 60 else p.value[:57] + "..."
    text = f'column "{p.column}": ' + (f"{shown!r} {p.message}" if p.value else p.message)
    return f"{text} ({p.hint})" if p.hint else text
