"""The demo: the built-in Moodle emulator on loopback, then validate → plan → apply → roster imports
for two counties (with the enrolments that follow) → plan again.

It shows a newcomer the whole round on the programme's real specs without a Moodle site, and ends
with proof that a second plan finds nothing to do and makes no write calls.
"""

from __future__ import annotations

import random
import secrets
import tempfile
from pathlib import Path

from moodle_sync import clock
from moodle_sync.console import Console
from moodle_sync.demo_serve import complete_more, serve_on
from moodle_sync.emulator import Emulator, serve
from moodle_sync.errors import SpecError
from moodle_sync.explainer import render_plan, render_roster_plan
from moodle_sync.identity import parse_course_idnumber
from moodle_sync.jobs.pull import bulk_text, pull
from moodle_sync.jobs.report import make_report
from moodle_sync.jobs.roster_import import import_roster
from moodle_sync.jobs.site import connect, load, open_site_store
from moodle_sync.jobs.sync import apply, make_plan
from moodle_sync.moodle.declared import DEFAULT_MOODLE
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.scope import Scope
from moodle_sync.specs.spec_set import SpecSet


def _shipped_specs() -> Path:
    """The project's course_specs/: beside the package in a checkout, else in the working directory."""
    beside = Path(__file__).resolve().parent.parent / "course_specs"
    return beside if beside.is_dir() else Path.cwd() / "course_specs"


SHIPPED_SPECS = _shipped_specs()


def seed_templates(emulator: Emulator, specs: SpecSet) -> dict[str, int]:
    """Give the emulator the template courses the specs name, as a site would have them."""
    templates = sorted({c.template for c in specs.courses.values() if c.template})
    if not templates:
        return {}
    category = emulator.add_category("Kursmallar", idnumber="mallar")
    out = {}
    for idnumber in templates:
        out[idnumber] = emulator.add_course(
            f"Mall: {idnumber}", idnumber, category, idnumber=idnumber, visible=0,
            modules=[
                {"name": "Introduktion", "modname": "page", "idnumber": f"{idnumber}-intro", "section": 1,
                 "completion": 2},
                {"name": "Kunskapstest", "modname": "quiz", "idnumber": f"{idnumber}-test", "section": 2,
                 "completion": 2},
            ],
            completion_criteria=True)
    return out


def complete_some(emulator: Emulator, api: MoodleApi, share: float) -> int:
    """Let a share of everyone enrolled visit the course and complete each activity (criteria follow).

    The same people every time (seeded by course); the demo itself uses demo_serve.complete_more, which
    remembers who completed so that each round lets new people finish.
    """
    done = 0
    now = clock.epoch()
    for course in api.courses_by_field("", ""):
        if parse_course_idnumber(course.idnumber) is None:
            continue
        modules = [m["id"] for m in emulator.course_modules(course.id) if m["completion"]]
        people = [u.id for u in api.enrolled_users(course.id, only_active=True)]
        for uid in random.Random(course.id).sample(people, int(len(people) * share)):
            emulator.set_last_course_access(course.id, uid, now)
            for cm in modules:
                emulator.set_activity_completion(cm, uid, 1, now)
            done += 1
    return done


def stock_site(token: str, specs_dir: str | Path | None = None) -> Emulator:
    """An emulated site as a Moodle admin would hand it over: empty, but with the template courses the specs name.

    ``plan``/``apply`` of the specs work against it (``moodle-sync emulator --site demo``).
    """
    emulator = Emulator(token=token)
    seed_templates(emulator, load(Path(specs_dir) if specs_dir else SHIPPED_SPECS))
    return emulator


def run_demo(specs_dir: str | None, state_path: str | None, console: Console, report_dir: str | None = None, *,
             keep_serving: bool = False, port: int = 0, moodle: str = DEFAULT_MOODLE) -> int:
    """Run the demo against an emulated Moodle ``moodle`` ("4.5" or "4.3"); returns the process exit code.

    With ``keep_serving`` the demo's site stays up afterwards (on ``port``, 0: any free one) until
    interrupted, and people can let more of its learners complete courses (see :func:`serve_on`).
    """
    specs_path = Path(specs_dir) if specs_dir else SHIPPED_SPECS
    token = secrets.token_hex(16)
    emulator = Emulator(token=token, moodle=moodle)
    with tempfile.TemporaryDirectory(prefix="moodle-sync-demo-") as tmp, serve(emulator, port=port) as server:
        store_path = Path(state_path) if state_path else Path(tmp) / "state.db"
        console.say(f"== Moodle emulator serving {server.url} (in-memory Moodle {moodle}) ==")

        console.say(f"\n== 1. validate {specs_path} ==")
        try:
            specs = load(specs_path)
        except SpecError as e:
            console.error(str(e))
            return 1
        console.say(f"OK: {len(specs.courses)} courses, {len(specs.categories)} categories, "
                    f"{len(specs.target_groups)} target groups")
        seeded = seed_templates(emulator, specs)
        if seeded:
            console.say(f"(seeded the emulator with template courses: {', '.join(seeded)})")

        api = connect(server.url, token)
        store = open_site_store(store_path, api)

        console.say("\n== 2. plan ==")
        first, _ = make_plan(api, specs, store)
        console.say(render_plan(first))

        console.say("\n== 3. apply --yes ==")
        report = apply(api, specs, store, console=console)
        s = report.result.summary()
        console.say(f"Applied: {s['done']} done, {s['failed']} failed, {s['skipped']} skipped.")

        rosters = sorted((specs_path / "rosters").glob("*-*.*")) if (specs_path / "rosters").is_dir() else []
        for n, path in enumerate(rosters, 1):
            county = path.stem.rsplit("-", 1)[1]
            console.say(f"\n== 3.{n} roster import --county {county} {path.name} --yes ==")
            roster_report = import_roster(api, specs, store, path, scope=Scope.for_county(county),
                                          console=console, confirm=lambda plan: True)
            console.say(render_roster_plan(roster_report.plan))
            if roster_report.outcome:
                o = roster_report.outcome
                console.say(f"Done: {o.created} people created, {o.added} cohort memberships added.")

        console.say("\n== 4. plan again (expect no changes and no write calls) ==")
        before = api.client.stats.snapshot()
        second, _ = make_plan(api, specs, store)
        after = api.client.stats.snapshot()
        console.say(render_plan(second))
        writes = after["writes"] - before["writes"]
        console.say(f"Moodle calls for this plan: {after['total'] - before['total']}, of which writes: {writes}")

        console.say("\n== Calls made by the demo, by function ==")
        for name, count in sorted(emulator.call_counts().items()):
            console.say(f"  {count:5d}  {name}")
        if second.actions or writes:
            console.error("the second plan was not empty: the sync did not converge")
            return 1

        console.say("\n== 5. some people complete their courses (set in the emulator), then pull ==")
        completed_here: set[tuple[int, int]] = set()
        completed = complete_more(emulator, api, 0.4, completed_here)
        console.say(f"(marked {completed} enrolments as completed, as learners finishing every activity would)")
        # what an admin does once in Moodle's UI (no web service can): the custom report the bulk pull reads
        emulator.given({"kind": "custom_report", "name": "moodle-sync", "default_setup": False,
                        "source": "core_course\\reportbuilder\\datasource\\participants"})
        console.say("(an admin created the custom report 'moodle-sync' from \"Course participants\" in the UI)")
        before = api.client.stats.snapshot()
        result = pull(api, specs, store, report_name="moodle-sync")
        used = {k: v - before["by_function"].get(k, 0) for k, v in api.client.stats.snapshot()["by_function"].items()}
        console.say(f"Pulled {result.courses} course versions, {result.people} enrolments; asked Moodle about "
                    f"{result.asked} people; {result.new_completions} completions.")
        console.say(bulk_text(result))
        console.say(f"Report calls (set-up and pages): {used.get('core_reportbuilder_retrieve_report', 0)}; per-person "
                    f"completion calls: {used.get('core_completion_get_course_completion_status', 0)} "
                    f"(one person per course, to see whether it tracks completion), instead of one per person.")
        if result.not_tracked:
            console.say("Completion not tracked: " + result.not_tracked_text())

        console.say("\n== 6. report --by county,course ==")
        console.say(make_report(specs, store, scope=Scope.for_admin(), preset=None, dimensions=["county", "course"],
                                period=None, fmt="table", out=None) or "")
        out_dir = Path(report_dir) if report_dir else Path.cwd() / "moodle-sync-demo"
        out_dir.mkdir(parents=True, exist_ok=True)
        html = out_dir / "uppfoljning.html"
        make_report(specs, store, scope=Scope.for_admin(), preset="uppfoljning", dimensions=[], period=None, fmt="html",
                    out=str(html))
        console.say(f"\nHTML report (charts as inline SVG, opens offline): {html}")
        console.say("\nDone: Moodle matches the specs, and completions are back in the state store.")
        if keep_serving:
            serve_on(emulator, api, server.url, token, console, done=completed_here)
        return 0
