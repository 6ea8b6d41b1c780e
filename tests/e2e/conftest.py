"""End-to-end fixtures: the library against the in-process emulator, on copies of the real specs."""

from __future__ import annotations

import copy
import dataclasses
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from moodle_sync.cli import main
from moodle_sync.demo import SHIPPED_SPECS, seed_templates
from moodle_sync.emulator import Emulator, serve
from moodle_sync.emulator.emulator import Checkpoint
from moodle_sync.jobs import site as site_job
from moodle_sync.jobs.site import connect, open_site_store
from moodle_sync.jobs.sync import ApplyReport, make_plan
from moodle_sync.jobs.sync import apply as apply_specs
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.plan import Plan
from moodle_sync.specs import load as spec_load
from moodle_sync.specs.source import SourceRef, SpecModel, spec_source
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore

TOKEN = "e2e0123456789abcdef0123456789abc"
URL = "https://moodle.test"


_PARSED: dict[object, tuple[SpecSet, str]] = {}
_real_load = site_job.load_specs


def load_specs(root: Path | str) -> SpecSet:
    """``specs.load.load_specs``, but a spec tree is parsed again only when its files' bytes or the git repository
    holding it changed (a SpecSet records the commit and whether the tree is dirty): parsing the YAML was most of an
    end-to-end test's time. Every test copies the shipped specs into its own directory, so the key is what the tree
    holds, not where: a tree parsed elsewhere is handed out with its root and every spec's file (the one thing in a
    SpecSet that says where it lies) as a load of this tree would give them. Errors are never kept: a broken tree
    fails each time."""
    path = Path(root).resolve()
    if not path.is_dir():
        return _real_load(root)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    git = [((d / ".git").stat().st_mtime_ns, *((d / ".git" / f).stat().st_mtime_ns
                                               for f in ("HEAD", "index") if (d / ".git" / f).exists()))
           for d in (path, *path.parents) if (d / ".git").exists()]
    key = (tuple((p.relative_to(path).as_posix(), p.read_bytes()) for p in files), tuple(git),
           str(path) if git else None)  # inside a repository the place decides what git says
    known = _PARSED.get(key)
    if known is None:
        if len(_PARSED) >= 16:
            del _PARSED[next(iter(_PARSED))]
        known = _PARSED[key] = (_real_load(root), spec_load._display(Path(root)))
    # a test loads its tree many times: the copy for its place is made once (the place is part of what the loader
    # shows: the root as given and the working directory)
    here = (key, str(root), str(Path.cwd()))
    moved = _AT.get(here)
    if moved is None:
        if len(_AT) >= 16:
            del _AT[next(iter(_AT))]
        moved = _AT[here] = _moved(*known, Path(root))
    return moved


_AT: dict[object, SpecSet] = {}


def _moved(specs: SpecSet, before: str, root: Path) -> SpecSet:
    """``specs``, loaded where the loader showed as ``before``, as loaded from ``root``: the same specs, each naming its
    file under ``root`` as the loader shows it (relative to the working directory when inside it); ``specs`` itself
    when that changes nothing."""
    if specs.root == root and before == spec_load._display(root):
        return specs
    moved = copy.deepcopy(specs)
    for spec in _nested(moved):
        where = spec_source(spec)
        if where is not None:
            spec._source = SourceRef(spec_load._display(root / Path(where.file).relative_to(before)), where.line)
    return dataclasses.replace(moved, root=root)


def _nested(specs: SpecSet) -> Iterator[SpecModel]:
    for group in (specs.categories, specs.courses, specs.target_groups, specs.rules):
        for spec in group.values():
            yield spec
            for name in type(spec).model_fields:
                value = getattr(spec, name)
                if isinstance(value, tuple):
                    yield from (item for item in value if isinstance(item, SpecModel))


@dataclass(frozen=True)
class Saved:
    """A site's Moodle and state store as they were at ``Site.save()``."""

    moodle: Checkpoint
    store: Path


def copy_store(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy of what is committed (WAL included)."""
    with sqlite3.connect(source) as a, sqlite3.connect(target) as b:
        a.backup(b)
    a.close()
    b.close()


class Site:
    """One emulated Moodle site plus a spec tree and a state store, as a sync run sees them."""

    def __init__(self, tmp: Path) -> None:
        self.specs_dir = tmp / "course_specs"
        shutil.copytree(SHIPPED_SPECS, self.specs_dir, ignore=shutil.ignore_patterns("rosters"))
        self.emulator = Emulator(token=TOKEN)
        self.seeded = seed_templates(self.emulator, self.specs())
        self.state_path = tmp / "state.db"

    def save(self, copy_to: Path) -> Saved:
        """The emulated Moodle and the state store as they are now (the store copied to ``copy_to``)."""
        StateStore(self.state_path).close()  # what the first run would create, so that a fresh site can be saved
        copy_store(self.state_path, copy_to)
        return Saved(self.emulator.checkpoint(), copy_to)

    def restore(self, saved: Saved, state_path: Path) -> None:
        """Moodle as at ``saved``, and from now on a state store at ``state_path`` holding what it held then
        (a new file: connections a crashed run left open keep the old one)."""
        self.emulator.faults.clear()
        self.emulator.restore(saved.moodle)
        copy_store(saved.store, state_path)
        self.state_path = state_path

    def specs(self) -> SpecSet:
        """The spec tree as a run would load it now (parsed again only when it changed: see ``load_specs``)."""
        return load_specs(self.specs_dir)

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


def spec_files(root: Path) -> dict[str, bytes]:
    """A spec tree's files (relative path → bytes), to tell whether two trees are the same."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class Applied:
    """A site with the shipped specs applied (by ``Site.apply``), saved, and the spec tree it applied."""

    saved: Saved
    specs: dict[str, bytes]


@pytest.fixture(scope="session")
def applied_once(tmp_path_factory: pytest.TempPathFactory) -> Applied:
    """The shipped specs applied once per session (per pytest-xdist worker); ``applied`` restores it."""
    tmp = tmp_path_factory.mktemp("applied")
    site = Site(tmp)
    site.apply()
    return Applied(site.save(tmp / "applied.db"), spec_files(site.specs_dir))


@pytest.fixture
def applied(site: Site, applied_once: Applied) -> Site:
    """``site`` with its specs applied: Moodle and the state store restored from ``applied_once`` (the same
    specs applied the same way, under the same URL) instead of applying them again; a site whose specs a
    fixture changed first is applied as before."""
    if spec_files(site.specs_dir) == applied_once.specs:
        site.restore(applied_once.saved, site.state_path)
    else:
        site.apply()
    return site


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
