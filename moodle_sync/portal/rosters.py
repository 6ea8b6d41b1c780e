"""The portal's one door to roster imports: preview (the plan `roster import --dry-run` computes) and
confirm (apply that same plan). Every call of the roster import job (jobs/roster_import.py) the portal makes
is in this module.

Confirming re-plans from the same file under the sync lock and applies only when the fresh plan is the
one the hub saw: a preview made before Moodle (or the file) changed is refused, as `apply plan.json` is.
Both read the file before they take the lock: reading needs nothing of Moodle's, and a large or hostile file
must not hold up the scheduled syncs and other counties' imports while it is read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodle_sync import clock
from moodle_sync.errors import ApplyError, MoodleSyncError, PlanError, RosterError, RowsRefused, SyncBusy
from moodle_sync.explainer import render_roster_plan
from moodle_sync.i18n import _, lazy_gettext, ngettext
from moodle_sync.jobs.roster_import import import_roster, plan_roster_import, read_roster_file
from moodle_sync.jobs.site import open_store
from moodle_sync.portal.db import Account
from moodle_sync.portal.said import busy_words
from moodle_sync.portal.site import Site
from moodle_sync.reconcile.plan import Plan
from moodle_sync.rosters.said import leavers_json
from moodle_sync.rosters.view import RosterView
from moodle_sync.scope import Scope
from moodle_sync.writing.synclock import held

BUSY = lazy_gettext("Another sync is running right now ({holder}); nothing has been written. Try again in a while.")

#: how long a preview waits for a running sync (scheduled apply or pull, a command-line run) to finish
LOCK_WAIT = 20.0


@dataclass
class Preview:
    """What the page shows: the plan (the CLI's ``--json`` document and its text), or why there is none."""

    plan: dict[str, Any] | None = None
    text: str = ""
    followups: dict[str, dict[str, int]] = field(default_factory=dict)
    error: str = ""
    #: invalid rows: (row, column, value, why) – the file can be previewed again skipping them
    problems: list[dict[str, Any]] = field(default_factory=list)
    mass_removal: bool = False
    #: who would leave the county's cohorts, named, with what they lose (what the mass-removal tick confirms)
    leavers: list[dict[str, Any]] = field(default_factory=list)
    #: the page's HTTP status: 422 when the file as a whole cannot be read or used
    status: int = 200

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "text": self.text, "followups": self.followups, "error": self.error,
                "problems": self.problems, "mass_removal": self.mass_removal, "leavers": self.leavers}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical(plan: Plan) -> dict[str, Any]:
    """What the hub saw: the plan as people read it (not when or by which run it was made)."""
    view = RosterView(plan)
    # the people by row, as the page names them (who is added, whose account changes), and the rows skipped
    people = {str(p.row): {"name": p.name, "organisation": p.organisation, "target_groups": list(p.target_groups)}
              for p in [*view.matched, *view.create, *(u.person for u in view.update)]}
    skipped = [{"row": p.row, "column": p.column, "value": p.value, "message": p.message, "hint": p.hint}
               for p in view.skipped]
    value: dict[str, Any] = json.loads(json.dumps({**view.to_dict(), "enrolments_that_follow": view.followups,
                                                   "people": people, "skipped_problems": skipped,
                                                   "has_changes": view.has_changes}, sort_keys=True))
    return value


def preview(site: Site, account: Account, path: Path, *, scope: Scope, options: dict[str, Any]) -> Preview:
    """The import plan of ``path`` for ``scope``'s county as this account: nothing is written to Moodle."""
    county = scope.one_county()
    try:
        specs = site.specs()
        roster = read_roster_file(specs, path)  # before the lock: see the module's docstring
        with held(site.state_path, f"roster preview {county} (portal, {account.email})", wait=LOCK_WAIT):
            api = site.api(scope)
            report = plan_roster_import(
                api, specs, open_store(site.settings, api), roster, scope=scope, mode=options.get("mode", "replace"),
                skip_invalid=bool(options.get("skip_invalid")),
                allow_mass_removal=bool(options.get("allow_mass_removal")), auth=site.settings.auth,
                roles=site.settings.roles)
    except SyncBusy as e:
        return Preview(error=BUSY.format(holder=busy_words(e.holder)))
    except RosterError as e:
        problems = [{"row": p.row, "column": p.column, "value": p.value, "message": p.message, "hint": p.hint}
                    for p in e.problems if hasattr(p, "row")]
        mass_removal = "allow-mass-removal" in e.hint
        rows = len({p["row"] for p in problems})
        error = e.swedish or (ngettext("The file has {n} invalid row; nothing has been written.",
                                       "The file has {n} invalid rows; nothing has been written.", rows).format(n=rows)
                              if problems else str(e).split("\n")[0])
        return Preview(error=error, mass_removal=mass_removal, problems=problems,
                       status=200 if problems or mass_removal else 422)
    except MoodleSyncError as e:
        return Preview(error=str(e))
    if report.roster.context.mass_removal:  # the plan shows who would leave; the portal asks for the tick first
        leavers = report.roster.context.leavers
        return Preview(error=ngettext("{n} person would leave their target groups: more than an import may take out "
                                      "without your say-so. Nothing has been written.",
                                      "{n} people would leave their target groups: more than an import may take out "
                                      "without your say-so. Nothing has been written.", len(leavers)).format(
                                          n=len(leavers)),
                       mass_removal=True, text=render_roster_plan(report.plan), leavers=leavers_json(leavers))
    return Preview(plan=_canonical(report.plan), text=render_roster_plan(report.plan), followups=report.followups)


def confirm(site: Site, account: Account, path: Path, *, scope: Scope, options: dict[str, Any],
            seen: dict[str, Any], sha256: str) -> dict[str, Any]:
    """Apply the previewed plan ``seen``; refuse (nothing written) when the file or Moodle changed since.

    Returns the outcome as the CLI's ``--json`` shows it, plus ``ok`` and, on failure, ``error``.
    """
    if not path.exists() or sha256_of(path) != sha256:
        return {"ok": False, "error": _("The file has changed since the preview; nothing has been written. "
                                      "Upload it again.")}

    def same_plan(plan: Plan) -> bool:
        fresh = _canonical(plan)
        if fresh != seen:
            raise PlanError(_("Moodle has changed since the preview (another import or change); "
                            "nothing has been written. Upload the file again and check the new plan."))
        return True

    specs = site.specs()
    try:
        roster = read_roster_file(specs, path)  # before the lock, as a preview
        with held(site.state_path, f"roster import {scope.one_county()} (portal, {account.email})", wait=LOCK_WAIT):
            api = site.api(scope)
            report = import_roster(
                api, specs, open_store(site.settings, api), roster, scope=scope,
                mode=options.get("mode", "replace"), skip_invalid=bool(options.get("skip_invalid")),
                allow_mass_removal=bool(options.get("allow_mass_removal")), auth=site.settings.auth,
                confirm=same_plan, roles=site.settings.roles, workers=site.settings.workers)
    except SyncBusy as e:
        return {"ok": False, "busy": True, "error": BUSY.format(holder=busy_words(e.holder))}
    except RowsRefused as e:  # the rest is done: the rows are named, with who can fix them (not "upload again")
        out = {**e.report, "ok": True, "refused_rows": e.rows}
        out["at"] = clock.stamp()
        return out
    except ApplyError as e:
        return {"ok": False, "partial": e.partial, "error": str(e)}
    except MoodleSyncError as e:
        return {"ok": False, "error": str(e)}
    out = report.to_dict()
    out["ok"] = True
    out["at"] = clock.stamp()
    return out

