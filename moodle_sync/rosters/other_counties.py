"""A roster row naming another county than the import's: one more invalid row, not a refusal of the file.

The person is left alone (neither created, changed nor taken out: an invalid row's person keeps what they
have), and the row is listed with the others, so that a county's list with a stray row of its neighbour's
can be imported skipping that row (``--skip-invalid``; the portal's "Hoppa över ogiltiga rader").
"""

from __future__ import annotations

from dataclasses import replace

from moodle_sync.counties import COUNTIES
from moodle_sync.i18n import _
from moodle_sync.rosters.roster import Roster, RowProblem
from moodle_sync.scope import Scope

__all__ = ["other_counties_as_problems"]


def other_counties_as_problems(roster: Roster, scope: Scope) -> Roster:
    """``roster`` with its rows of another county than ``scope``'s (the import's) moved from its rows to its
    problems."""
    county = scope.one_county()
    others = [r for r in roster.rows if r.county and not scope.covers(r.county)]
    if not others:
        return roster
    column = roster.columns.get("county", "Län")
    here = COUNTIES[county].name
    problems = [RowProblem(r.row, column, r.county or "",
                           _("belongs to {other}, not {county}").format(
                               other=COUNTIES[r.county].name if r.county in COUNTIES else r.county, county=here),
                           hint=_("import the row in its own county's list"))
                for r in others]
    moved = {r.row for r in others}
    return replace(roster, rows=[r for r in roster.rows if r.row not in moved],
                   problems=sorted([*roster.problems, *problems], key=lambda p: p.row),
                   invalid=[*roster.invalid, *others])
