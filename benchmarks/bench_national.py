"""Benchmark: a national programme against the emulator – 21 counties × every target group of cohorts,
tens of thousands of people imported county by county, ~150 000 enrolments over the 6 real courses,
then completions pulled back.

Prints, per phase: Moodle calls by function, write calls, wall time and peak Python memory.
Phases: first apply (categories, courses, cohorts); roster imports of every county (people, cohort
members, the enrolments that follow); a no-op re-apply (must make zero write calls); a roster change
of 1% of one county (calls proportional to the change); the first pull; a pull after 1% of the people
visited their course and completed it (its per-person calls must be at most 5% of the first pull's);
and, with --latency-ms, the pull again with a fixed delay per call to show the effect of parallel
requests (--workers).

With --completion-report an admin's custom report is set up first (Emulator.given, as in Moodle's UI) and both
pulls read completions in bulk from it (core_reportbuilder_retrieve_report): each must make at most 1% of the
84 840 calls the per-person first pull made.

Usage: python benchmarks/bench_national.py [--people 60000] [--completion-report]
                                           [--latency-ms 20 --latency-people 3000]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moodle_sync.completions.pull import pull
from moodle_sync.counties import COUNTIES
from moodle_sync.demo import SHIPPED_SPECS, seed_templates
from moodle_sync.emulator import Emulator, Fault
from moodle_sync.jobs.roster_import import import_roster
from moodle_sync.jobs.site import connect, load
from moodle_sync.jobs.sync import apply as apply_specs
from moodle_sync.scope import Scope
from moodle_sync.store.db import StateStore

TOKEN = "natbench0123456789abcdef01234567"
HEADER = ["E-post", "Förnamn", "Efternamn", "Organisation", "Enhet", "Målgrupp", "Anställningsdatum"]
PER_PERSON = {"core_completion_get_course_completion_status"}
#: calls of the first pull without the report, measured 2026-11-23 (benchmarks/README.md)
PER_PERSON_FIRST_PULL = 84840


def measure(name: str, emulator: Emulator, work: Callable[[], Any]) -> dict[str, Any]:
    before = Counter(emulator.call_counts())
    writes_before = emulator.write_calls()
    start = time.perf_counter()
    out = work()
    wall = time.perf_counter() - start
    # peak resident memory of the whole process so far (tool and in-process emulator together);
    # tracemalloc would be finer but slows a run of this size several times over
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    calls = Counter(emulator.call_counts())
    calls.subtract(before)
    phase = {"phase": name, "wall_s": wall, "peak_mib": peak, "writes": emulator.write_calls() - writes_before,
             "calls": {k: v for k, v in sorted(calls.items()) if v}, "result": out}
    total = sum(phase["calls"].values())
    print(f"\n{name}: {total} calls, {phase['writes']} writes, {wall:.1f} s wall, "
          f"peak RSS so far {peak:.0f} MiB", flush=True)
    for fn, n in phase["calls"].items():
        print(f"  {n:7d}  {fn}")
    return phase


def visit_and_complete(emulator: Emulator, course_ids: dict[str, int], enrolled: dict[str, list[int]],
                       share: float, seed: int = 2) -> int:
    """Let ``share`` of each course's people visit it and complete every activity (criteria follow)."""
    rng = random.Random(seed)
    now = int(time.time())
    n = 0
    for idn, cid in course_ids.items():
        modules = [m["id"] for m in emulator.course_modules(cid) if m["completion"]]
        for uid in rng.sample(enrolled[idn], int(len(enrolled[idn]) * share)):
            emulator.set_last_course_access(cid, uid, now)
            for cm in modules:
                emulator.set_activity_completion(cm, uid, 1, now)
            n += 1
    return n


def write_rosters(root: Path, people: int, groups: list[str], seed: int = 1) -> dict[str, Path]:
    """One CSV per county; each person in two target groups, some in three (staff often are)."""
    rng = random.Random(seed)
    per_county = people // len(COUNTIES)
    files = {}
    for code in COUNTIES:
        path = root / f"roster-{code}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter=";")
            w.writerow(HEADER)
            for i in range(per_county):
                g = rng.sample(groups, 3 if rng.random() < 0.4 else 2)
                w.writerow([f"p{i}.{code.lower()}@kommun{rng.randint(1, 9)}.example.se", f"Förnamn{i}",
                            f"Efternamn{i}", f"Kommun {rng.randint(1, 9)}", "Enhet", ";".join(sorted(set(g))),
                            "2025-01-15"])
        files[code] = path
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=60000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--completion-report", action="store_true",
                    help="pull through a custom report (the bulk path) instead of one person per call")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--latency-people", type=int, default=3000,
                    help="people in the separate latency run (a pull at 20 ms per call is long)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        specs_dir = Path(tmp) / "course_specs"
        shutil.copytree(SHIPPED_SPECS, specs_dir, ignore=shutil.ignore_patterns("rosters"))
        specs = load(specs_dir)
        emulator = Emulator(token=TOKEN)
        seed_templates(emulator, specs)
        api = connect("https://national.test", TOKEN, mount=emulator.handle)
        store = StateStore(Path(tmp) / "state.db", moodle_url=api.client.transport.base_url)
        groups = sorted({g for r in specs.rules.values() for g in r.target_groups})  # groups some rule names
        files = write_rosters(Path(tmp), a.people, groups)
        print(f"programme: {len(specs.courses)} courses, {len(specs.target_groups)} target groups × "
              f"{len(COUNTIES)} counties "
              f"of cohorts, {a.people} people in rosters, {len(specs.rules)} enrolment rules")

        measure("first apply", emulator, lambda: apply_specs(api, specs, store))

        phases: dict[str, list[float]] = {}

        def import_all() -> None:
            for code, path in files.items():
                report = import_roster(api, specs, store, path, scope=Scope.for_county(code), workers=a.workers)
                for p in report.phases:  # calls, items, wall time per phase, summed over the counties
                    total = phases.setdefault(p.name, [0, 0, 0.0])
                    total[0] += p.calls
                    total[1] += p.items
                    total[2] += p.seconds
        measure("roster imports, all counties", emulator, import_all)
        print("  per phase of the imports (all counties): calls, items, wall")
        for name, (calls, items, seconds) in phases.items():
            print(f"    {name:<18} {calls:>6.0f} calls {items:>8.0f} items {seconds:>8.1f} s")
        course_ids = {c.idnumber: c.id for c in api.courses_by_field("", "") if "@" in c.idnumber}
        enrolled = {idn: [u.id for u in api.enrolled_users(cid, only_active=True)] for idn, cid in course_ids.items()}
        print(f"  enrolments in Moodle: {sum(len(v) for v in enrolled.values())}")
        noop = measure("no-op re-apply", emulator, lambda: apply_specs(api, specs, store, workers=a.workers))

        # 1% of one county leaves and is replaced
        w = files["W"]
        rows = w.read_text(encoding="utf-8").splitlines()
        n = max(1, (len(rows) - 1) // 100)
        changed = [rows[0]] + rows[1 + n:] + [r.replace("@", ".ny@", 1) for r in rows[1:1 + n]]
        w.write_text("\n".join(changed) + "\n", encoding="utf-8")
        measure(f"roster change of 1% of one county ({n} out, {n} in)", emulator,
                lambda: import_roster(api, specs, store, w, scope=Scope.for_county("W"), workers=a.workers))

        report = None
        if a.completion_report:
            emulator.given({"kind": "custom_report", "name": "moodle-sync", "default_setup": False,
                            "source": "core_course\\reportbuilder\\datasource\\participants"})
            report = "moodle-sync"
        label = " (completion report)" if report else ""
        first = measure(f"first pull{label}", emulator,
                        lambda: pull(api, specs, store, workers=a.workers, report_name=report))
        visited = visit_and_complete(emulator, course_ids, enrolled, share=0.01)
        print(f"\n(1% of the enrolled people visited their course and completed it: {visited})")
        second = measure(f"pull after 1% visited and completed{label}", emulator,
                         lambda: pull(api, specs, store, workers=a.workers, report_name=report))
        print(f"\nnew completions found: first pull {first['result'].new_completions}, second pull "
              f"{second['result'].new_completions}")
        print(f"write calls of the no-op re-apply: {noop['writes']} (must be 0)")
        if report:
            totals = [sum(first["calls"].values()), sum(second["calls"].values())]
            limit = PER_PERSON_FIRST_PULL // 100
            print(f"calls: first pull {totals[0]}, second pull {totals[1]} (each must be ≤ {limit}, 1% of "
                  f"{PER_PERSON_FIRST_PULL})")
            ok = noop["writes"] == 0 and max(totals) <= limit
        else:
            first_pp = sum(v for k, v in first["calls"].items() if k in PER_PERSON)
            second_pp = sum(v for k, v in second["calls"].items() if k in PER_PERSON)
            share = second_pp / first_pp if first_pp else 0.0
            print(f"\nper-person calls: first pull {first_pp}, second pull {second_pp} ({share:.1%}; must be ≤ 5%)")
            ok = noop["writes"] == 0 and share <= 0.05

        if a.latency_ms:
            for workers in (1, a.workers):
                lat = Emulator(token=TOKEN)
                seed_templates(lat, specs)
                lat_api = connect("https://latency.test", TOKEN, mount=lat.handle)
                lat_store = StateStore(Path(tmp) / f"lat{workers}.db", moodle_url=lat_api.client.transport.base_url)
                apply_specs(lat_api, specs, lat_store)
                small = write_rosters(Path(tmp) / f"lat{workers}", a.latency_people, groups) \
                    if (Path(tmp) / f"lat{workers}").mkdir() is None else {}
                for code, path in small.items():
                    import_roster(lat_api, specs, lat_store, path, scope=Scope.for_county(code))
                lat.faults.add(Fault(kind="latency", seconds=a.latency_ms / 1000, times=None))
                measure(f"first pull, {a.latency_people} people, {a.latency_ms:.0f} ms per call, {workers} worker(s)",
                        lat, lambda api=lat_api, st=lat_store, w=workers: pull(api, specs, st, workers=w))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
