"""The sync's steps as library calls: connect, plan, apply, doctor. The CLI and the demo call these.

No printing here: progress and results go through the ``Console`` handed in.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodle_sync.applier import Applier, ApplyResult
from moodle_sync.config import DEFAULT_ROLES, Settings
from moodle_sync.console import Console
from moodle_sync.email_cost import doctor_text, import_note, probe
from moodle_sync.errors import ApplyError, PlanError
from moodle_sync.moodle.client import MoodleClient, RetryPolicy
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.transport import InProcessHandler, Transport
from moodle_sync.reconcile.actual import ActualState, read_actual
from moodle_sync.reconcile.cohorts import placed_by_roster
from moodle_sync.reconcile.diff import build_plan
from moodle_sync.reconcile.enrolments import (
    SAMPLE_SIZE,
    EnrolmentState,
    read_enrolment_state,
)
from moodle_sync.reconcile.intents import settle_pending_enrolments
from moodle_sync.reconcile.plan import Note, Plan, SyncEnrolments
from moodle_sync.reconcile.progress import ApplyProgress
from moodle_sync.rosters.actions import FollowEnrolments
from moodle_sync.rosters.failures import raise_for_failures
from moodle_sync.rosters.parse import read_roster
from moodle_sync.rosters.planner import Mode, plan_roster, refuse_mass_removal
from moodle_sync.rosters.roster import Roster
from moodle_sync.rosters.view import RosterView
from moodle_sync.rosters.write_people import RosterOutcome
from moodle_sync.run_plan import apply_in_run
from moodle_sync.scope import Scope
from moodle_sync.specs.load import load_specs
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore
from moodle_sync.store.sites import bind_site
from moodle_sync.writing.phases import Phase, PhaseClock
from moodle_sync.writing.runs import Run, recorded_run
from moodle_sync.writing.send import FATAL

log = logging.getLogger(__name__)


def connect(url: str, token: str, *, allow_http: bool = False, timeout: float = 120.0,
            max_input_vars: int = 5000, retries: int = 5, verify: bool = True,
            mount: InProcessHandler | None = None) -> MoodleApi:
    """A typed Moodle API over a fresh transport (``mount`` routes it to an in-process emulator)."""
    transport = Transport(url, timeout=timeout, allow_http=allow_http, verify=verify)
    if mount is not None:
        transport.mount(mount)
    client = MoodleClient(transport, token, max_input_vars=max_input_vars,
                          retry=RetryPolicy(attempts=max(1, retries)))
    return MoodleApi(client)


def connect_from_settings(settings: Settings, mount: InProcessHandler | None = None) -> MoodleApi:
    url, token = settings.require_moodle()
    return connect(url, token, allow_http=settings.allow_http, timeout=settings.timeout,
                   max_input_vars=settings.max_input_vars, retries=settings.retries,
                   verify=settings.verify_tls, mount=mount)


def open_store(settings: Settings, api: MoodleApi) -> StateStore:
    return open_site_store(Path(settings.state_path), api)


def open_site_store(path: Path | str, api: MoodleApi) -> StateStore:
    """The state store at ``path``, keyed by the site as Moodle names itself (site info's ``siteurl``).

    Raises:
        StoreError: the store holds rows of another site only.
    """
    return bind_site(path, siteurl=api.siteurl(), typed_url=api.client.transport.base_url)


def make_plan(api: MoodleApi, specs: SpecSet, store: StateStore | None, *, hide_removed: bool = False,
              console: Console | None = None, roles: Mapping[str, int] | None = None,
              today: datetime.date | None = None) -> tuple[Plan, ActualState]:
    """Read Moodle and compare it with the specs. Reads only."""
    progress = console.progress if console else None
    if store is not None:
        settle_pending_enrolments(api, store, progress=progress)
    actual = read_actual(api, specs, store, progress=progress)
    state = read_enrolment_state(api, specs, actual, store, progress=progress) if specs.rules else None
    plan = build_plan(specs, actual, hide_removed=hide_removed, enrolments=state,
                      roles=DEFAULT_ROLES if roles is None else roles, today=today)
    if state is not None and store is not None:
        plan = _say_who_no_roster_named(plan, state, store)
    return _name_samples(api, plan), actual


def _say_who_no_roster_named(plan: Plan, state: EnrolmentState, store: StateStore) -> Plan:
    """A note per course where the rules enrol cohort members someone added in Moodle (no roster placed them)."""
    persons = store.persons()
    by_hand = {uid for idn, users in state.members.items() for uid in users
               if not placed_by_roster(persons.get(uid), idn)}
    notes = []
    for action in plan.actions:
        if isinstance(action, SyncEnrolments) and (n := sum(1 for i in action.enrol if i.userid in by_hand)):
            whom = "the one person" if len(action.enrol) == 1 else f"{n} of the {len(action.enrol)} people"
            notes.append(Note("info", f"{action.idnumber}: {whom} to enrol {'is' if n == 1 else 'are'} in its "
                                      f"cohorts without any roster placing them there (added in Moodle by someone "
                                      f"else); the rules enrol every member of the cohorts they name"))
    return dataclasses.replace(plan, notes=(*plan.notes, *notes)) if notes else plan


def _name_samples(api: MoodleApi, plan: Plan) -> Plan:
    """Put people's names on the enrolment samples of a plan (one batched lookup for the whole plan)."""
    wanted = {i.userid for a in plan.actions if isinstance(a, SyncEnrolments)
              for name in a.sample for i in getattr(a, name)[:SAMPLE_SIZE]}
    if not wanted:
        return plan
    names = {u.id: f"{u.firstname} {u.lastname}".strip() or u.username
             for u in api.users_by_field("id", [str(i) for i in sorted(wanted)])}
    actions = tuple(
        dataclasses.replace(a, sample={name: [names.get(i.userid, f"user {i.userid}")
                                              for i in getattr(a, name)[:SAMPLE_SIZE]] for name in a.sample})
        if isinstance(a, SyncEnrolments) else a for a in plan.actions)
    return dataclasses.replace(plan, actions=actions)


def check_still_valid(saved: Plan, fresh: Plan, source: str) -> None:
    """Refuse a saved plan when the specs or Moodle changed since it was made."""
    if saved.moodle_url != fresh.moodle_url:
        raise PlanError(f"{source} was made for {saved.moodle_url}, not {fresh.moodle_url}")
    if saved.spec_digest != fresh.spec_digest:
        raise PlanError(f"the specs changed since {source} was made; nothing was applied",
                        hint="run `moodle-sync plan --out plan.json` again and review it")
    if saved.moodle_digest != fresh.moodle_digest:
        raise PlanError(f"Moodle changed since {source} was made; nothing was applied",
                        hint="run `moodle-sync plan --out plan.json` again and review it")


@dataclass
class ApplyReport:
    plan: Plan
    result: ApplyResult
    run_id: int
    calls: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "plan": self.plan.to_dict(), "outcome": self.result.outcome(),
                "summary": self.result.summary()}


def apply(api: MoodleApi, specs: SpecSet, store: StateStore, *, plan: Plan | None = None,
          plan_source: str = "the plan file", hide_removed: bool = False, console: Console | None = None,
          confirm: Callable[[Plan], bool] | None = None, roles: Mapping[str, int] | None = None,
          today: datetime.date | None = None, workers: int = 4) -> ApplyReport:
    """Plan (or check a saved plan), confirm, apply and journal. Safe to run again after any stop."""
    fresh, actual = make_plan(api, specs, store, hide_removed=hide_removed, console=console, roles=roles,
                              today=today)
    if plan is not None:
        check_still_valid(plan, fresh, plan_source)
    chosen = plan or fresh
    if not chosen.actions:
        run_id = store.start_run("apply", specs_commit=specs.git_commit, specs_dirty=specs.git_dirty,
                                 spec_digest=specs.digest, plan=chosen.to_dict())
        store.finish_run(run_id, "no-changes", ApplyResult().summary())
        return ApplyReport(plan=chosen, result=ApplyResult(), run_id=run_id)
    if confirm is not None and not confirm(chosen):
        raise PlanError("apply cancelled; nothing was changed")
    result, run = apply_in_run(api, store, chosen, command="apply", what="apply", ids=actual.ids(), workers=workers,
                               report=ApplyProgress(console, len(chosen.actions)) if console else None,
                               specs_commit=specs.git_commit, specs_dirty=specs.git_dirty)
    if not result.ok:
        raise ApplyError(f"apply finished partly: {len(result.done)} done, {len(result.failed)} failed, "
                         f"{len(result.skipped)} skipped", outcome=result.outcome(),
                         partial=bool(result.done) or run.wrote)
    return ApplyReport(plan=chosen, result=result, run_id=run.id)


def load(specs_path: Path | str) -> SpecSet:
    return load_specs(Path(specs_path))


@dataclass
class DoctorReport:
    url: str
    release: str = ""
    version: str = ""
    username: str = ""
    site_admin: bool = False
    missing_functions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: site settings that disable part of the tool (not failures: ``ok`` stays true)
    warnings: list[str] = field(default_factory=list)
    roles_seen: dict[str, int] = field(default_factory=dict)
    #: what a new account costs here (see email_cost.py): (case-insensitive lookup ms, indexed lookup ms)
    email_lookup_ms: tuple[float, float] | None = None
    #: the line that says so when it is not a warning
    new_accounts: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing_functions

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "release": self.release, "version": self.version, "username": self.username,
                "site_admin": self.site_admin, "missing_functions": self.missing_functions,
                "problems": self.problems, "warnings": self.warnings, "roles_seen": self.roles_seen, "ok": self.ok,
                "email_lookup_ms": {"case_insensitive": round(self.email_lookup_ms[0], 1),
                                    "indexed": round(self.email_lookup_ms[1], 1)} if self.email_lookup_ms else None}


#: the Moodle releases the tool is tested on (recordings of real sites, the emulator, lab checks), newest first
TESTED_RELEASES = ("4.5", "4.3")
#: Moodle 4.1's version number: the first with report builder web services (the completion report)
REPORT_BUILDER_VERSION = 2022112800


def version_warnings(release: str, version: str) -> list[str]:
    """What doctor says of a Moodle release the tool is not tested on (nothing for a tested one).

    Raises:
        ValueError: ``version`` is not a number.
    """
    branch = ".".join(release.split()[0].split(".")[:2]) if release.strip() else ""
    if branch in TESTED_RELEASES:
        return []
    tested = " and ".join(TESTED_RELEASES)
    warnings = [f"Moodle {release or version} is not a release this tool is tested on ({tested}): its web "
                f"services may lack functions or answer differently; check `plan` before `apply`"]
    if int(float(version or 0)) < REPORT_BUILDER_VERSION:
        warnings.append("before Moodle 4.1 there is no report builder web service: `pull` asks Moodle one person "
                        "at a time (about 23 ms a person)")
    return warnings


def feature_warnings(features: Mapping[str, int]) -> list[str]:
    """What the site's switched-off features stop the tool from doing; a feature not listed says nothing."""
    warnings = []
    if features.get("enablecompletion", 1) == 0:
        warnings.append("completion tracking is off for the whole site: Moodle answers cannotviewreport for every "
                        "course, so `pull` finds no course completion, reports show none and `remind` reminds no one; "
                        "courses `apply` creates get completion off (core_course_create_courses); switch on "
                        "Site administration > Advanced features > Enable completion tracking")
    if features.get("messaging", 1) == 0:
        warnings.append("messaging is off for the whole site: Moodle refuses every message (disabled), so "
                        "`remind` cannot send reminders; switch on Site administration > Advanced features > "
                        "Enable messaging system")
    return warnings


def doctor(api: MoodleApi, required: tuple[str, ...] = MoodleApi.FUNCTIONS,
           roles: Mapping[str, int] | None = None, course_ids: list[int] | None = None) -> DoctorReport:
    """Check the connection, Moodle's version, that the token's service has every function, and
    that the configured role ids match the roles Moodle shows in the given courses' enrolments
    (no web service lists roles: this is the only way to see them). Site switches that disable part
    of the tool (completion tracking, messaging) become warnings."""
    report = DoctorReport(url=api.client.transport.base_url)
    info = api.site_info()
    report.release, report.version, report.username = info.release, info.version, info.username
    report.warnings = feature_warnings(info.features())
    report.site_admin = info.userissiteadmin
    if not info.userissiteadmin:
        # user_get_user_details() shows e-mail, idnumber, institution and department only with
        # moodle/site:viewuseridentity + showuseridentity or moodle/user:viewalldetails; without them
        # people are not found by e-mail or employee id, and imports would try to create them again
        report.warnings.append(f"the web-service user {info.username!r} is not a site administrator: it needs "
                               "moodle/user:viewalldetails (or moodle/site:viewuseridentity with e-mail and ID "
                               "number in showuseridentity) and moodle/course:update, or people and courses are "
                               "not found by e-mail, employee id or idnumber and would be created again; see "
                               "ws-reference.md §5 for the capabilities")
    names = info.function_names()
    report.missing_functions = [f for f in required if f not in names]
    lacking: dict[str, list[str]] = {}
    for f, why in MoodleApi.OPTIONAL_FUNCTIONS.items():
        if f not in names:
            lacking.setdefault(why, []).append(f)
    report.warnings += [f"the service lacks {', '.join(fs)}: {why}; add {'them' if len(fs) > 1 else 'it'} to the "
                        f"service" for why, fs in lacking.items()]
    try:
        report.warnings += version_warnings(info.release or "", str(info.version or ""))
    except ValueError:
        report.problems.append(f"cannot read Moodle's version {info.version!r}")
    if "core_user_get_users" in names and "core_user_get_users_by_field" in names:
        report.email_lookup_ms = probe(api)
        if report.email_lookup_ms:
            text, slow = doctor_text(*report.email_lookup_ms)
            if slow:
                report.warnings.append(text)
            else:
                report.new_accounts = text
    if roles and course_ids and "core_enrol_get_enrolled_users" in names:
        seen: dict[str, int] = {}
        for cid in course_ids:
            for user in api.enrolled_users(cid, only_active=False, fields="id,roles", page_size=200)[:200]:
                seen.update({r.shortname: r.roleid for r in user.roles if r.shortname})
        for shortname, rid in sorted(roles.items()):
            if shortname in seen and seen[shortname] != rid:
                report.problems.append(f"role {shortname!r} has id {seen[shortname]} on this site, but the "
                                       f"configuration says {rid}: fix [roles] in moodle-sync.toml")
        report.roles_seen = seen
    return report


# --- rosters ---------------------------------------------------------------------------------------

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


def plan_roster_import(api: MoodleApi, specs: SpecSet, store: StateStore, path: Path | str | Roster, *, county: str,
                       scope: Scope, mode: Mode = "replace", skip_invalid: bool = False,
                       allow_mass_removal: bool = False, auth: str = "manual", console: Console | None = None,
                       workers: int = 4, sheet: str | None = None, clock: PhaseClock | None = None,
                       roles: Mapping[str, int] | None = None) -> RosterReport:
    """Read a county's roster and Moodle and plan the import (``roster import --dry-run``), the enrolments that
    follow included (``roles``: the site's role ids). Writes nothing to Moodle; the state store records that the
    file was looked at (a dry-run import). ``path`` may be the roster already read (:func:`read_roster_file`;
    ``sheet`` is then ignored)."""
    report = _plan_import(api, specs, store, path, county=county, scope=scope, mode=mode, skip_invalid=skip_invalid,
                          allow_mass_removal=allow_mass_removal, auth=auth, console=console, workers=workers,
                          sheet=sheet, clock=clock, roles=roles)
    report.import_id = _record_import(store, report, previewed=True)
    return report


def _plan_import(api: MoodleApi, specs: SpecSet, store: StateStore, path: Path | str | Roster, *, county: str,
                 scope: Scope, mode: Mode, skip_invalid: bool, allow_mass_removal: bool, auth: str,
                 console: Console | None, workers: int, sheet: str | None, clock: PhaseClock | None,
                 roles: Mapping[str, int] | None) -> RosterReport:
    scope.require(county)
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


def import_roster(api: MoodleApi, specs: SpecSet, store: StateStore, path: Path | str | Roster, *, county: str,
                  scope: Scope, mode: Mode = "replace", skip_invalid: bool = False, allow_mass_removal: bool = False,
                  auth: str = "manual", console: Console | None = None,
                  confirm: Callable[[Plan], bool] | None = None, roles: Mapping[str, int] | None = None,
                  workers: int = 4, sheet: str | None = None) -> RosterReport:
    """Read, check and apply a county's roster, then the enrolments that follow.

    Only the people of this roster and this county are touched: the enrolment step is limited to them. ``path``
    may be the roster already read (:func:`read_roster_file`).
    """
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
    with recorded_run(store, api, f"roster import {county}", what="roster import", specs_commit=specs.git_commit,
                      specs_dirty=specs.git_dirty, spec_digest=specs.digest, plan=plan.to_dict()) as run:
        try:
            _write_roster(api, store, report, run, console=console, workers=workers, clock=clock)
        finally:
            for line in clock.lines():
                log.info(line)
    report.import_id = _record_import(store, report, previewed=False)
    raise_for_failures(report.outcome, list(report.enrolments.failed.values()) if report.enrolments else [],
                       wrote=run.wrote, report=report.to_dict())
    return report


def _write_roster(api: MoodleApi, store: StateStore, report: RosterReport, run: Run, *,
                  console: Console | None, workers: int, clock: PhaseClock) -> None:
    """Apply the import plan through the one Applier, within the run ``run``: people and cohort members, then
    the enrolments that follow (planned with the rest: the Applier only writes)."""
    say = console.say if console else None
    plan = report.plan
    progress = ApplyProgress(console, len(plan.actions)) if console else None
    applier = Applier(api, store, run.id, report=progress, workers=workers, clock=clock)
    try:
        applier.apply(plan)
    except ApplyError as e:
        if isinstance(e.__cause__, FATAL):
            # Moodle stopped the import (maintenance, the token): its own error, which recorded_run tells as a
            # run stopped part-way when some of it was written
            raise e.__cause__ from None
        raise
    finally:
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
    run.finish("partial" if failures else "done",
               {**report.outcome.to_dict(), "enrolments": report.enrolments.summary() if report.enrolments else None})
