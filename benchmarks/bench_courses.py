"""Benchmark: a large programme (50 categories, 500 courses) planned and applied against the emulator.

Prints, for each phase (first plan, first apply, no-op re-plan, no-op re-apply): Moodle calls by
function, write calls, wall time and peak Python memory. The no-op phases must make zero write calls.

Usage: python benchmarks/bench_courses.py [--categories 50] [--courses 500] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moodle_sync.demo import seed_templates
from moodle_sync.emulator import Emulator, Fault
from moodle_sync.jobs.site import connect, load
from moodle_sync.jobs.sync import apply as apply_specs
from moodle_sync.jobs.sync import make_plan
from moodle_sync.store.db import StateStore

TOKEN = "bench0123456789abcdef0123456789ab"


def write_programme(root: Path, n_categories: int, n_courses: int) -> None:
    """A generated spec tree: one root category, the rest under it, courses spread over them."""
    (root / "courses").mkdir(parents=True)
    cats = ["- key: program\n  name: Nationellt program\n"]
    cats += [f"- key: kat-{i:03d}\n  name: Kategori {i:03d}\n  parent: program\n" for i in range(1, n_categories)]
    (root / "categories.yaml").write_text("\n".join(cats), encoding="utf-8")
    (root / "target_groups.yaml").write_text(
        "- key: socialsekreterare\n  name: Socialsekreterare\n  sector: socialtjanst\n", encoding="utf-8")
    for i in range(n_courses):
        cat = f"kat-{1 + i % (n_categories - 1):03d}"
        template = "template: mall-bench\n" if i % 10 == 0 else ""
        (root / "courses" / f"kurs-{i:04d}.yaml").write_text(
            f"key: kurs-{i:04d}\nversion: 1.0.0\ntitle: Kurs {i:04d} – våld i nära relationer\n"
            f"shortname: K{i:04d}\ncategory: {cat}\nsummary: <p>Kurs {i}</p>\nsections: 4\n"
            f"start_date: 2026-01-15\nlanguage: sv\nprovider: NCK\ndelivery: web\n"
            f"target_groups: [socialsekreterare]\n{template}", encoding="utf-8")


def measure(name: str, emulator: Emulator, work: Callable[[], Any]) -> dict[str, Any]:
    before = Counter(emulator.call_counts())
    writes_before = emulator.write_calls()
    tracemalloc.start()
    start = time.perf_counter()
    work()
    wall = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    calls = Counter(emulator.call_counts())
    calls.subtract(before)
    return {"phase": name, "wall_s": wall, "peak_mib": peak / 2**20, "writes": emulator.write_calls() - writes_before,
            "calls": {k: v for k, v in sorted(calls.items()) if v}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--categories", type=int, default=50)
    ap.add_argument("--courses", type=int, default=500)
    ap.add_argument("--latency-ms", type=float, default=0.0, help="delay the emulator adds to every call")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "specs"
        write_programme(root, a.categories, a.courses)
        emulator = Emulator(token=TOKEN)
        if a.latency_ms:
            emulator.faults.add(Fault(kind="latency", seconds=a.latency_ms / 1000, times=None))
        specs = load(root)
        seed_templates(emulator, specs)
        api = connect("https://bench.test", TOKEN, mount=emulator.handle)
        store = StateStore(Path(tmp) / "state.db", moodle_url=api.client.transport.base_url)
        phases = [
            measure("first plan", emulator, lambda: make_plan(api, specs, store)),
            measure("first apply", emulator, lambda: apply_specs(api, specs, store)),
            measure("no-op re-plan", emulator, lambda: make_plan(api, specs, store)),
            measure("no-op re-apply", emulator, lambda: apply_specs(api, specs, store)),
        ]
    print(f"programme: {a.categories} categories, {a.courses} courses (every 10th from a template); "
          f"emulator latency {a.latency_ms} ms per call")
    for p in phases:
        total = sum(p["calls"].values())
        print(f"\n{p['phase']}: {total} calls, {p['writes']} writes, {p['wall_s']:.2f} s wall, "
              f"{p['peak_mib']:.1f} MiB peak (Python allocations)")
        for fn, n in p["calls"].items():
            print(f"  {n:6d}  {fn}")
    noop_writes = phases[2]["writes"] + phases[3]["writes"]
    print(f"\nwrite calls of the no-op re-plan and re-apply: {noop_writes} (must be 0)")
    return 0 if noop_writes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
