"""End-to-end fixtures: the library against the in-process emulator, on copies of the real specs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from moodle_sync.cli import main
from moodle_sync.demo import SHIPPED_SPECS, seed_templates
from moodle_sync.emulator import Emulator, serve
from moodle_sync.jobs.site import connect, load, open_site_store
from moodle_sync.jobs.sync import ApplyReport, make_plan
from moodle_sync.jobs.sync import apply as apply_specs
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.plan import Plan
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore

TOKEN = "e2e0123456789abcdef0123456789abc"
URL = "https://moodle.test"


class Site:
    """One emulated Moodle site plus a spec tree and a state store, as a sync run sees them."""

    def __init__(self, tmp: Path) -> None:
        self.specs_dir = tmp / "course_specs"
        shutil.copytree(SHIPPED_SPECS, self.specs_dir, ignore=shutil.ignore_patterns("rosters"))
        self.emulator = Emulator(token=TOKEN)
        self.seeded = seed_templates(self.emulator, self.specs())
        self.state_path = tmp / "state.db"

    def specs(self) -> SpecSet:
        return load(self.specs_dir)

    def api(self, retries: int = 2) -> MoodleApi:
        return connect(URL, TOKEN, mount=self.emulator.handle, retries=retries)

    def store(self, api: MoodleApi) -> StateStore:
        return open_site_store(self.state_path, api)  # keyed as the command line keys it

    def edit_course(self, key: str, **changes: Any) -> None:
        path = next(p for p in (self.specs_dir / "courses").glob("*.yaml")
                    if f"key: {key}\n" in p.read_text(encoding="utf-8"))
        yaml = YAML()
        data = yaml.load(path.read_text(encoding="utf-8"))
        for k, v in changes.items():
            if v is None:
                data.pop(k, None)
            else:
                data[k] = v
        with path.open("w", encoding="utf-8") as f:
            yaml.dump(data, f)

    def remove_course(self, key: str) -> None:
        """Delete a course's spec file, and the enrolment rules that name it."""
        for p in (self.specs_dir / "courses").glob("*.yaml"):
            if f"key: {key}\n" in p.read_text(encoding="utf-8"):
                p.unlink()
        rules_path = self.specs_dir / "enrolment_rules.yaml"
        if rules_path.exists():
            yaml = YAML()
            rules = yaml.load(rules_path.read_text(encoding="utf-8")) or []
            kept = [r for r in rules if r.get("course") != key]
            with rules_path.open("w", encoding="utf-8") as f:
                yaml.dump(kept, f)

    def apply(self, **kwargs: Any) -> ApplyReport:
        api = self.api()
        return apply_specs(api, self.specs(), self.store(api), **kwargs)

    def plan(self, **kwargs: Any) -> tuple[Plan, MoodleApi]:
        api = self.api()
        plan, _ = make_plan(api, self.specs(), self.store(api), **kwargs)
        return plan, api

    def courses(self) -> list[dict[str, Any]]:
        """Every course in the emulated site (id, idnumber, shortname, …)."""
        api = self.api()
        return [c.model_dump() for c in api.courses_by_field("", "") if c.id != 1]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield Site(tmp_path)


@pytest.fixture
def served(site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Site]:
    """The site behind a real HTTP server, with the environment the command line reads pointing at it."""
    with serve(site.emulator) as server:
        monkeypatch.setenv("MOODLE_URL", server.url)
        monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
        monkeypatch.setenv("MOODLE_SYNC_STATE_PATH", str(site.state_path))
        monkeypatch.setenv("MOODLE_SYNC_SPECS", str(site.specs_dir))
        monkeypatch.chdir(tmp_path)  # no moodle-sync.toml from the working directory
        yield site


def run(*args: str) -> int:
    """Run the command line as a user would; its exit code."""
    with pytest.raises(SystemExit) as e:
        main(list(args))
    return int(e.value.code or 0)
