"""Benchmark: routine pulls against a live Moodle (a lab site, or the programme's own), each beside the time Moodle
takes for the report's pages alone, so that what the tool adds can be told apart from the host's speed.

Each round:
  1. probe: the report's pages asked for as the next pull asks for them (the last finished pass's row count, pages
     of completions/report_pages.page_size_for), first one page alone, then the pull's first pages side by side;
  2. a pull (``moodle-sync -v pull --json``), in a new process as a scheduler runs it, timed from outside, with a
     timeline from inside: when its pages were asked for and came, when their rows were saved, when it returned.

Prints a line per round and a summary: the pulls' median, fastest and slowest, how many within ``--target`` seconds,
and the pull's time beyond the side-by-side pages (what the tool and its other reads add to Moodle's pages).

Usage: python benchmarks/bench_live_pull.py --rounds 10 [--target 10] [--state FILE] [--specs DIR] [--no-probe]
The site and token come as for moodle-sync itself (MOODLE_URL and MOODLE_TOKEN, or moodle-sync.toml). The pull
writes the state store (--state) as it always does, and takes the sync lock. A store without a finished pass, or
a pull that changes the report (adds or deletes a column), asks for its pages later: run one pull before measuring.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from moodle_sync.errors import MoodleSyncError

ROOT = Path(__file__).resolve().parent.parent


def child(timeline_path: str, argv: list[str]) -> None:
    """Run ``moodle-sync argv`` in this process, noting the wall-clock time of its report calls, of the end of its
    pass through the report and of its return into ``timeline_path`` (JSON) at exit."""
    from moodle_sync.completions import pull as pull_module
    from moodle_sync.completions.bulk import read_report
    from moodle_sync.entry import main
    from moodle_sync.moodle.functions import MoodleApi

    events: dict[str, Any] = {"calls": []}
    retrieve = MoodleApi.retrieve_report

    def timed_retrieve(self: MoodleApi, reportid: int, page: int, per_page: int, **kw: Any) -> Any:
        began = time.time()
        try:
            return retrieve(self, reportid, page, per_page, **kw)
        finally:
            events["calls"].append({"page": page, "per_page": per_page, "began": began, "ended": time.time()})

    def timed_read_report(*a: Any, **kw: Any) -> Any:
        try:
            return read_report(*a, **kw)
        finally:
            events["saved"] = time.time()

    setattr(MoodleApi, "retrieve_report", timed_retrieve)  # noqa: B010 (instrumenting, as a benchmark may)
    setattr(pull_module, "read_report", timed_read_report)  # noqa: B010

    def write() -> None:
        events["returned"] = time.time()
        Path(timeline_path).write_text(json.dumps(events), encoding="utf-8")

    atexit.register(write)
    sys.argv = ["moodle-sync", *argv]
    main()


def probe(state: str | None, specs: str | None) -> dict[str, float] | None:
    """One page alone, then the pull's first pages side by side, as the next routine pull asks for them; None when
    the store holds no finished pass to size them by."""
    from moodle_sync.completions.report_pages import PAGE_WORKERS, early_start
    from moodle_sync.config import load_settings
    from moodle_sync.jobs.site import connect_from_settings, open_store
    from moodle_sync.store.report_pull import ReportPullStore

    settings = load_settings({"state_path": state, "specs": specs})
    api = connect_from_settings(settings)
    store = open_store(settings, api)
    try:
        last = ReportPullStore(store).last_pass()
    finally:
        store.close()
    if last is None:
        return None
    reportid, rows = last
    begun = early_start(rows, PAGE_WORKERS)
    size, pages = begun.page_size, begun.first_pages(PAGE_WORKERS)

    def one(page: int) -> float:
        began = time.perf_counter()
        api.retrieve_report(reportid, page, size)
        return time.perf_counter() - began

    alone = one(0)
    with ThreadPoolExecutor(len(pages)) as pool:
        side_by_side = max(pool.map(one, pages))
    return {"alone": alone, "side_by_side": side_by_side, "pages": len(pages), "per_page": size}


def one_pull(pull_args: list[str]) -> dict[str, Any]:
    """A pull in a new process: its wall time and its timeline, in seconds from its start."""
    with tempfile.TemporaryDirectory() as tmp:
        timeline = Path(tmp) / "timeline.json"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        began = time.time()
        done = subprocess.run([sys.executable, __file__, "--child", str(timeline), "--", "-v", "pull", "--json",
                               *pull_args], env=env, capture_output=True, text=True)
        wall = time.time() - began
        events = json.loads(timeline.read_text(encoding="utf-8")) if timeline.exists() else {"calls": []}
    pages = [c for c in events["calls"] if c["per_page"] > 1]
    out: dict[str, Any] = {"wall": wall, "exit": done.returncode, "pages": len(pages), "calls": len(events["calls"])}
    if done.returncode != 0:
        out["error"] = done.stderr.strip().splitlines()[-1:] or ["no message"]
    if pages:
        out["asked"] = min(c["began"] for c in pages) - began
        out["came"] = max(c["ended"] for c in pages) - began
    for name in ("saved", "returned"):
        if name in events:
            out[name] = events[name] - began
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--target", type=float, default=10.0, help="seconds a routine pull should stay within")
    parser.add_argument("--state", help="the state store (as pull --state)")
    parser.add_argument("--specs", help="the course specs (as pull --specs)")
    parser.add_argument("--no-probe", action="store_true", help="pulls only, no pages asked for beside them")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        child(args.child, [a for a in rest if a != "--"])
        return
    pull_args = [*(["--state", args.state] if args.state else []), *(["--specs", args.specs] if args.specs else [])]
    walls: list[float] = []
    beyond: list[float] = []
    for n in range(1, args.rounds + 1):
        try:
            seen = None if args.no_probe else probe(args.state, args.specs)
        except MoodleSyncError as e:  # no site configured, a refused token: as moodle-sync says it
            sys.exit(f"probe: {e}")
        got = one_pull(pull_args)
        line = f"round {n}: pull {got['wall']:.2f} s (exit {got['exit']}, {got['calls']} report calls)"
        if seen is not None:
            line += (f" | pages of {seen['per_page']} rows: one alone {seen['alone']:.2f} s,"
                     f" {seen['pages']} side by side {seen['side_by_side']:.2f} s")
        if "asked" in got:
            line += (f" | pages asked at {got['asked']:.2f} s, came by {got['came']:.2f} s, rows saved by"
                     f" {got.get('saved', float('nan')):.2f} s, returned {got.get('returned', float('nan')):.2f} s")
        if "error" in got:
            line += f" | {got['error'][0]}"
        print(line, flush=True)
        if got["exit"] == 0:
            walls.append(got["wall"])
            if seen is not None:
                beyond.append(got["wall"] - seen["side_by_side"])
    if not walls:
        print("no pull succeeded")
        sys.exit(1)
    within = sum(w <= args.target for w in walls)
    print(f"pulls: median {statistics.median(walls):.2f} s, fastest {min(walls):.2f} s, slowest {max(walls):.2f} s;"
          f" {within} of {len(walls)} within {args.target:g} s")
    if beyond:
        print(f"beyond the pages side by side: median {statistics.median(beyond):.2f} s"
              f" ({min(beyond):.2f}-{max(beyond):.2f} s)")


if __name__ == "__main__":
    main()
