"""The sync's steps as library calls: connect, plan, apply, doctor. The CLI and the demo call these.

No printing here: progress and results go through the ``Console`` handed in.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodle_sync.config import DEFAULT_ROLES, Settings
from moodle_sync.console import Console
from moodle_sync.errors import ApplyError, PlanError
from moodle_sync.moodle.client import MoodleClient, RetryPolicy
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.transport import InProcessHandler, Transport
from moodle_sync.reconcile.actual import ActualState, read_actual
from moodle_sync.reconcile.apply import Applier, ApplyResult
from moodle_sync.reconcile.diff import build_plan
from moodle_sync.reconcile.enrolments import read_enrolment_state
from moodle_sync.reconcile.plan import Plan
from moodle_sync.specs.load import load_specs
from moodle_sync.specs.models import SpecSet
from moodle_sync.store.db import StateStore


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
    return StateStore(Path(settings.state_path), moodle_url=api.client.transport.base_url)


def make_plan(api: MoodleApi, specs: SpecSet, store: StateStore | None, *, hide_removed: bool = False,
              console: Console | None = None, roles: Mapping[str, int] | None = None,
              today: datetime.date | None = None) -> tuple[Plan, ActualState]:
    """Read Moodle and compare it with the specs. Reads only."""
    progress = console.progress if console else None
    actual = read_actual(api, specs, store, progress=progress)
    state = read_enrolment_state(api, specs, actual, store, progress=progress) if specs.rules else None
    plan = build_plan(specs, actual, hide_removed=hide_removed, enrolments=state,
                      roles=DEFAULT_ROLES if roles is None else roles, today=today)
    return plan, actual


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
        return ApplyReport(plan=chosen, result=ApplyResult(), run_id=0)
    if confirm is not None and not confirm(chosen):
        raise PlanError("apply cancelled; nothing was changed")
    run_id = store.start_run("apply", specs_commit=specs.git_commit, specs_dirty=specs.git_dirty,
                             spec_digest=specs.digest, plan=chosen.to_dict())
    applier = Applier(api, store, run_id, actual, report=console.say if console else None, workers=workers)
    try:
        result = applier.apply(chosen)
    except ApplyError as e:
        store.finish_run(run_id, "failed", {"error": str(e), **applier.result.summary()})
        raise
    status = "done" if result.ok else "partial"
    store.finish_run(run_id, status, result.summary())
    if not result.ok:
        raise ApplyError(f"apply finished partly: {len(result.done)} done, {len(result.failed)} failed, "
                         f"{len(result.skipped)} skipped", outcome=result.outcome())
    return ApplyReport(plan=chosen, result=result, run_id=run_id)


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

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing_functions

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "release": self.release, "version": self.version, "username": self.username,
                "site_admin": self.site_admin, "missing_functions": self.missing_functions,
                "problems": self.problems, "ok": self.ok}


#: Moodle 4.3's version number; older sites may lack functions or answer differently
MIN_VERSION = 2023100900


def doctor(api: MoodleApi, required: tuple[str, ...] = MoodleApi.FUNCTIONS) -> DoctorReport:
    """Check the connection, Moodle's version and that the token's service has every function."""
    report = DoctorReport(url=api.client.transport.base_url)
    info = api.site_info()
    report.release, report.version, report.username = info.release, info.version, info.username
    report.site_admin = info.userissiteadmin
    names = info.function_names()
    report.missing_functions = [f for f in required if f not in names]
    try:
        if int(float(info.version or 0)) < MIN_VERSION:
            report.problems.append(f"Moodle {info.release or info.version} is older than 4.3, which this "
                                   f"tool was verified against")
    except ValueError:
        report.problems.append(f"cannot read Moodle's version {info.version!r}")
    return report
