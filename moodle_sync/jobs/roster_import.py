"""A county's roster import: read the file, plan (`roster import --dry-run`, the portal's preview) and apply that
plan (`roster import`, the portal's confirm) through apply_recorded. The command and the portal call these.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodle_sync.applier import ApplyResult
from moodle_sync.console import Console
from moodle_sync.email_cost import import_note
from moodle_sync.errors import PlanError
from moodle_sync.jobs.recorded import Applied, apply_recorded
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.intents import settle_pending_enrolments
from moodle_sync.reconcile.plan import Plan
from moodle_sync.reconcile.progress import ApplyProgress
from moodle_sync.rosters.actions import FollowEnrolments
from moodle_sync.rosters.failures import raise_for_failures
from moodle_sync.rosters.parse import read_roster
from moodle_sync.rosters.planner import Mode, plan_roster, refuse_mass_removal
from moodle_sync.rosters.roster import Roster
from moodle_sync.rosters.view import RosterView
from moodle_sync.rosters.write_people import RosterOutcome
from moodle_sync.scope import Scope
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore
from moodle_sync.writing.phases import Phase, PhaseClock

log = logging.getLogger(__name__)


@dataclass
class RosterReport:
    """A roster import: its plan (the one Plan, with a RosterContext), and once applied what it did."""

    plan: Plan
    outcome: RosterOutcome | None = None
    enrolments: ApplyResult | None = None
    import_id: int = 0
    #: per phase: calls, items, wall time (``-v`` prints them)
    phases: list[Phase] = field(default_factory=list)

    @property
    def roster(self) -> RosterView:
        """The plan read by what it does to people (who is created, who leaves …)."""
        return RosterView(self.plan)

    @property
    def followups(self) -> dict[str, dict[str, int]]:
        return self.roster.followups

    def to_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "plan": {**self.roster.to_dict(), **self.plan.to_dict()},
                "enrolments_that_follow": self.followups,
                "outcome": self.outcome.to_dict() if self.outcome else None,
                "enrolment_outcome": self.enrolments.summary() if self.enrolments else None,
                "phases": [p.to_dict() for p in self.phases]}


def read_roster_file(specs: SpecSet, path: Path | str, *, sheet: str | None = None) -> Roster:
    """Read and check a roster file against the specs' target groups; neither Moodle nor the store is needed.

    A caller that takes the sync lock reads the file first and hands the :class:`Roster` to
    :func:`plan_roster_import` or :func:`import_roster`, so a large file never holds up other syncs.
    """
    return read_roster(path, target_groups={k: g.name for k, g in specs.target_groups.items()}, sheet=sheet)


def plan_roster_import(api: MoodleApi, specs: SpecSet, store: StateStore, path: Path | str | Roster, *,
                       scope: Scope, mode: Mode = "replace", skip_invalid: bool = False,
                       allow_mass_removal: bool = False, auth: str = "manual", console: Console | None = None,
                       workers: int = 4, sheet: str | None = None, clock: PhaseClock | None = None,
                       roles: Mapping[str, int] | None = None) -> RosterReport:
    """Read a county's roster and Moodle and plan the import (``roster import --dry-run``), the enrolments that
    follow included (``roles``: the site's role ids). Writes nothing to Moodle; the state store records that the
    file was looked at (a dry-run import). ``path`` may be the roster already read (:func:`read_roster_file`;
    ``sheet`` is then ignored). The county is ``scope``'s (a hub's own, or the one an administrator chose)."""
    report = _plan_import(api, specs, store, path, county=scope.one_county(), scope=scope, mode=mode,
                          skip_invalid=skip_invalid, allow_mass_removal=allow_mass_removal, auth=auth,
                          console=console, workers=workers, sheet=sheet, clock=clock, roles=roles)
    report.import_id = _record_import(store, report, previewed=True)
    return report


def _plan_import(api: MoodleApi, specs: SpecSet, store: StateStore, path: Path | str | Roster, *, county: str,
                 scope: Scope, mode: Mode, skip_invalid: bool, allow_mass_removal: bool, auth: str,
                 console: Console | None, workers: int, sheet: str | None, clock: PhaseClock | None,
                 roles: Mapping[str, int] | None) -> RosterReport:
    clock = clock or PhaseClock(api.client.stats)
    with clock.phase("read and plan") as planning:
        roster = path if isinstance(path, Roster) else read_roster_file(specs, path, sheet=sheet)
        settle_pending_enrolments(api, store, progress=console.say if console else None)
        plan = plan_roster(api, roster, county=county, scope=scope, mode=mode, skip_invalid=skip_invalid,
                           allow_mass_removal=allow_mass_removal, store=store, workers=workers, auth=auth,
                           specs=specs, roles=roles)
        plan = dataclasses.replace(plan, specs_commit=specs.git_commit)
        planning.items = len(roster.rows)
    return RosterReport(plan=plan, phases=clock.phases)


def _record_import(store: StateStore, report: RosterReport, *, previewed: bool) -> int:
    ctx = report.roster.context
    counts: dict[str, Any] = {**report.roster.counts(), "enrolments_that_follow": report.followups}
    if not previewed:
        counts.update(outcome=report.outcome.to_dict() if report.outcome else None,
                      enrolments=report.enrolments.summary() if report.enrolments else None)
    return store.record_roster_import(hub=ctx.hub, county=ctx.county, file=ctx.file, sha256=ctx.sha256,
                                      mode=ctx.mode, dry_run=previewed, counts=counts)


def import_roster(api: MoodleApi, specs: SpecSet, store: StateStore, path: Path | str | Roster, *,
                  scope: Scope, mode: Mode = "replace", skip_invalid: bool = False, allow_mass_removal: bool = False,
                  auth: str = "manual", console: Console | None = None,
                  confirm: Callable[[Plan], bool] | None = None, roles: Mapping[str, int] | None = None,
                  workers: int = 4, sheet: str | None = None) -> RosterReport:
    """Read, check and apply a county's roster, then the enrolments that follow.

    Only the people of this roster and this county are touched: the enrolment step is limited to them. ``path``
    may be the roster already read (:func:`read_roster_file`). The county is ``scope``'s.
    """
    county = scope.one_county()
    clock = PhaseClock(api.client.stats)
    report = _plan_import(api, specs, store, path, county=county, scope=scope, mode=mode, skip_invalid=skip_invalid,
                          allow_mass_removal=allow_mass_removal, auth=auth, console=console, workers=workers,
                          sheet=sheet, clock=clock, roles=roles)
    plan = report.plan
    refuse_mass_removal(plan)
    if not report.roster.has_changes:  # the enrolments that follow are in the plan: nothing to write
        report.import_id = _record_import(store, report, previewed=True)
        return report
    if confirm is not None and not confirm(plan):
        raise PlanError("roster import cancelled; nothing was changed")
    progress = ApplyProgress(console, len(plan.actions)) if console else None
    try:
        # Moodle stopping the import (maintenance, the token) is its own error (fatal_as_moodle), which the
        # recorded run tells as a run stopped part-way when some of it was written
        applied = apply_recorded(api, store, plan, command=f"roster import {county}", what="roster import",
                                 report=progress, workers=workers, specs=specs, clock=clock,
                                 fatal_as_moodle=True, finish=lambda done: _finish(report, done, console=console))
    finally:
        for line in clock.lines():
            log.info(line)
    if report.outcome is None:  # an empty plan: nothing was sent
        report.outcome = RosterOutcome()
    report.import_id = _record_import(store, report, previewed=False)
    raise_for_failures(report.outcome, list(report.enrolments.failed.values()) if report.enrolments else [],
                       wrote=applied.run.wrote, report=report.to_dict())
    return report


def _finish(report: RosterReport, applied: Applied, *, console: Console | None) -> tuple[str, dict[str, Any]]:
    """What the import did (people and cohort members, then the enrolments that follow, planned with the rest: the
    Applier only writes), kept in ``report``: the run's status and summary."""
    say = console.say if console else None
    plan = report.plan
    applier = applied.applier
    assert applier is not None  # an empty plan is not finished here
    report.outcome = applier.roster
    follow = {a.id for a in plan.actions if isinstance(a, FollowEnrolments)}
    if follow:
        result = applier.result
        report.enrolments = ApplyResult(done=[i for i in result.done if i in follow],
                                        failed={i: w for i, w in result.failed.items() if i in follow},
                                        skipped={i: w for i, w in result.skipped.items() if i in follow})
    note = import_note(report.outcome.create_ms) if report.outcome.create_ms is not None else None
    if note:
        report.outcome.notes.append(note)
        if say:
            say(f"  note: {note}")
    failures = report.outcome.failures + (list(report.enrolments.failed.values()) if report.enrolments else [])
    return ("partial" if failures else "done",
            {**report.outcome.to_dict(), "enrolments": report.enrolments.summary() if report.enrolments else None})
