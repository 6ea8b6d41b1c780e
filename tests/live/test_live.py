"""Opt-in: the same plan/apply round against a real Moodle 4.3 named by MOODLE_URL and MOODLE_TOKEN.

Run with `MOODLE_URL=… MOODLE_TOKEN=… pytest -m live tests/live`. It creates the shipped specs'
categories, courses and cohorts on that site (never deleting anything), then checks that a second
plan has no changes and makes no write calls. Skipped when the variables are not set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from moodle_sync.demo import SHIPPED_SPECS
from moodle_sync.jobs.doctor import doctor
from moodle_sync.jobs.site import connect, load
from moodle_sync.jobs.sync import apply as apply_specs
from moodle_sync.jobs.sync import make_plan
from moodle_sync.store.db import StateStore

pytestmark = [pytest.mark.live, pytest.mark.skipif(
    not (os.environ.get("MOODLE_URL") and os.environ.get("MOODLE_TOKEN")),
    reason="needs a real Moodle: set MOODLE_URL and MOODLE_TOKEN")]


def test_doctor_then_apply_then_a_second_plan_is_empty(tmp_path: Path) -> None:
    api = connect(os.environ["MOODLE_URL"], os.environ["MOODLE_TOKEN"])
    report = doctor(api)
    assert not report.missing_functions, report.missing_functions
    specs = load(SHIPPED_SPECS)
    store = StateStore(tmp_path / "state.db", moodle_url=api.client.transport.base_url)
    apply_specs(api, specs, store)
    writes = api.client.stats.snapshot()["writes"]
    plan, _ = make_plan(api, specs, store)
    assert plan.actions == ()
    assert api.client.stats.snapshot()["writes"] == writes
