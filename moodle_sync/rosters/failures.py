"""How a roster import with failures ends: what a rerun fixes, and the rows it never will.

A row the import refused before sending anything for it (a new person Moodle would refuse to create, a hub's
row naming someone it may not use) is planned the same way by every rerun: saying "run it again: it converges"
about it is false. Such rows end the import with :class:`RowsRefused` (exit 1), each row named with why and
the hint saying who can fix it. Failures Moodle gave while writing (a refusal, a lost answer) may go away on
a rerun: those keep :class:`ApplyError` (exit 3 when part of the import was written), and the refused rows
are listed after them as what a rerun does not change.
"""

from __future__ import annotations

from typing import Any

from moodle_sync.errors import ApplyError, RowsRefused
from moodle_sync.i18n import _, lazy_gettext
from moodle_sync.rosters.write_people import RosterOutcome

#: rows listed in a message; the plan (--dry-run --json) lists them all
SHOWN = 20

RERUN = lazy_gettext("run the same roster import again: it re-reads Moodle and converges")
ADMIN = lazy_gettext("an administrator can import these rows without --hub if the people work in the county")
FIX = lazy_gettext("fix each row as it says (in the file or in Moodle), then import the file again")


def _listed(lines: list[str]) -> str:
    shown = "\n  ".join(lines[:SHOWN])
    more = "\n  " + _("… and {n} more (`roster import --dry-run --json` lists them all)").format(
        n=len(lines) - SHOWN) if len(lines) > SHOWN else ""
    return f"\n  {shown}{more}"


def who_fixes(outcome: RosterOutcome) -> str:
    """What to do about the refused rows, and who can."""
    parts = ([FIX] if outcome.blocked else []) + ([ADMIN] if outcome.outside else [])
    return "; ".join(map(str, parts))


def raise_for_failures(outcome: RosterOutcome | None, enrolment_failures: list[str], *, wrote: bool,
                       report: dict[str, Any]) -> None:
    """Raise what the import's failures mean, if it had any (see the module docstring).

    Raises:
        ApplyError: failures a rerun may fix (``partial`` when part of the import was written: exit 3).
        RowsRefused: only rows refused before sending (exit 1): named, with who can fix them.
    """
    refused = (outcome.blocked + outcome.outside) if outcome else []
    failures = (outcome.failures if outcome else []) + enrolment_failures
    others = [f for f in failures if f not in set(refused)]
    if others:
        message = _("roster import finished partly: {n} problem(s):").format(n=len(others)) + _listed(others)
        hint = str(RERUN)
        if refused:
            assert outcome is not None
            message += "\n" + _("and {n} row(s) refused before anything was sent for them, which a rerun does not "
                                 "change:").format(n=len(refused)) + _listed(refused)
            hint += _("; for the refused rows: {who}").format(who=who_fixes(outcome))
        raise ApplyError(message, outcome={"roster": "partial"}, partial=wrote, hint=hint)
    if refused:
        assert outcome is not None
        raise RowsRefused(_("roster import done except {n} row(s), refused before anything was sent for them "
                            "(running it again refuses them again):").format(n=len(refused)) + _listed(refused),
                          rows=refused, report=report,
                          hint=_("{who}; the rest of the import is done").format(who=who_fixes(outcome)))
