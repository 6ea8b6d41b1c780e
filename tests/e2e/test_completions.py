"""Completions end to end: the incremental pull, reports within a scope and reminders, against the emulator.

The shipped specs give two courses to a county's social workers: hrv-socialtjanst@1, made from a template
(two activity criteria, aggregation "all"), and nck-grundkurs-vinr@2, which has no template and so no
completion criteria (Moodle answers ``nocriteriaset`` for it).
"""

from __future__ import annotations

import csv
import datetime
import getpass
import io
import json
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from moodle_sync import clock
from moodle_sync.commands.exits import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL
from moodle_sync.completions import pull as pull_module
from moodle_sync.completions.facts import build_facts
from moodle_sync.completions.pull import PullResult, completion_time, pull
from moodle_sync.completions.remind import RemindResult, plan_reminders
from moodle_sync.completions.report import make_report
from moodle_sync.config import Hub
from moodle_sync.emulator import Fault, SimulatedCrash
from moodle_sync.errors import ConfigError
from moodle_sync.jobs.reminders import send_reminders
from moodle_sync.jobs.site import connect
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import CompletionStatus, CriterionStatus, EnrolledUser
from moodle_sync.reports import CompletionFact
from moodle_sync.scope import Scope
from moodle_sync.specs.fields import STOCKHOLM
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.completions import CompletionStore, CoursePerson
from moodle_sync.store.db import StateStore

from .conftest import TOKEN, URL, Site, run
from .test_rosters import do_import, person, write_roster

#: the day matters here: every test also runs with the clock at 23:30 UTC (tests/conftest.py any_hour)
pytestmark = pytest.mark.usefixtures("any_hour")


def planned(api: MoodleApi, specs: SpecSet, store: StateStore, **kw: Any) -> RemindResult:
    """Who would be reminded: the plan only (what `remind --dry-run` prints)."""
    return RemindResult.of(plan_reminders(api, specs, store, **kw))


def reminded(api: MoodleApi, specs: SpecSet, store: StateStore, **kw: Any) -> RemindResult:
    """The reminder plan applied through the one Applier (what `remind` does)."""
    return send_reminders(api, store, plan_reminders(api, specs, store, **kw))

SOC = "hrv-socialtjanst@1"  # from a template: two activity criteria, aggregation "all"
NCK = "nck-grundkurs-vinr@2"  # no template, no criteria: Moodle answers nocriteriaset
STATUS = "core_completion_get_course_completion_status"
ENROLLED = "core_enrol_get_enrolled_users"
SEND = "core_message_send_instant_messages"
DALARNA = Scope.for_hub("dalarna", Hub(county="W"))


# --- what reached Moodle -------------------------------------------------------------------------

class Spy:
    """Sits in front of the emulator and records every call that reaches it, with its parameters."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.calls: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def handle(self, method: str, url: str, headers: Mapping[str, str], body: bytes
               ) -> tuple[int, Mapping[str, str], bytes]:
        params = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        with self._lock:  # the pull asks from a thread pool
            self.calls.append((params.get("wsfunction", ""), params))
        return self.site.emulator.handle(method, url, headers, body)

    def api(self) -> MoodleApi:
        return connect(URL, TOKEN, mount=self.handle, retries=2)

    def asked(self, courseid: int) -> list[int]:
        """The people Moodle was asked about (completion status) in one course, in call order."""
        return [int(p["userid"]) for f, p in self.calls if f == STATUS and int(p["courseid"]) == courseid]

    def offsets(self, courseid: int) -> list[int]:
        """``limitfrom`` of every enrolled-users page read for the course."""
        out = []
        for f, p in self.calls:
            if f == ENROLLED and int(p["courseid"]) == courseid:
                names = {p[k]: k.replace("[name]", "[value]") for k in p if k.endswith("[name]")}
                out.append(int(p[names["limitfrom"]]))
        return out


def run_pull(site: Site, **kwargs: Any) -> tuple[PullResult, Spy]:
    spy = Spy(site)
    api = spy.api()
    store = site.store(api)
    try:
        return pull(api, site.specs(), store, **kwargs), spy
    finally:
        store.close()


def course_people(site: Site, idnumber: str) -> dict[int, CoursePerson]:
    api = site.api()
    store = site.store(api)
    try:
        return {uid: p for (_, uid), p in CompletionStore(store).people(idnumber).items()}
    finally:
        store.close()


def facts_of(site: Site, scope: Scope) -> list[CompletionFact]:
    api = site.api()
    store = site.store(api)
    try:
        return build_facts(site.specs(), store, scope)
    finally:
        store.close()


def report(site: Site, **kwargs: Any) -> str:
    api = site.api()
    store = site.store(api)
    try:
        args: dict[str, Any] = {"scope": Scope(), "preset": None, "dimensions": ["county"], "period": None,
                                "fmt": "csv", "out": None, **kwargs}
        return make_report(site.specs(), store, **args) or ""
    finally:
        store.close()


def csv_rows(text: str) -> list[list[str]]:
    """The first block of a CSV (a table's header, rows and totals), up to the empty row before the notes."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    return rows[:rows.index([])] if [] in rows else rows


def exports(site: Site) -> list[dict[str, object]]:
    api = site.api()
    store = site.store(api)
    try:
        return CompletionStore(store).personal_exports()
    finally:
        store.close()


# --- a county with people enrolled ---------------------------------------------------------------

@dataclass
class County:
    """A site after apply and one roster import: the people (in roster order) and the course ids."""

    site: Site
    rows: list[dict[str, str]]
    ids: list[int]
    course: dict[str, int]
    tmp: Path

    def reimport(self, rows: list[dict[str, str]], county: str = "W", **kw: Any) -> None:
        do_import(self.site, write_roster(self.tmp / f"roster-{county}-{len(rows)}.csv", rows), county=county, **kw)


def ab_person(n: int, **over: str) -> dict[str, str]:
    return person(n, **{"E-post": f"person{n}@stockholm.example.se", "Organisation": "Stockholms stad",
                        "Anställnings-id": f"AB-{n:04d}", **over})


def import_county(site: Site, tmp: Path, rows: list[dict[str, str]], county: str) -> list[int]:
    report = do_import(site, write_roster(tmp / f"{county}.csv", rows), county=county)
    assert report.outcome is not None and not report.outcome.failures
    by_email = {u.email: u.id for u in site.api().users_by_field("email", [r["E-post"] for r in rows])}
    return [by_email[r["E-post"]] for r in rows]


def course_ids(site: Site) -> dict[str, int]:
    return {c["idnumber"]: c["id"] for c in site.courses()}


@pytest.fixture
def dalarna(applied: Site, tmp_path: Path) -> County:
    """Seven social workers in Dalarna (W), enrolled in SOC and NCK by the rules."""
    site = applied
    rows = [person(n) for n in range(7)]
    ids = import_county(site, tmp_path, rows, "W")
    return County(site, rows, ids, course_ids(site), tmp_path)


def complete(site: Site, courseid: int, userid: int, at: Sequence[int], *, visit: int | None = None) -> None:
    """The person completes each tracked activity at the given times (criteria and course follow live)."""
    cms = [m["id"] for m in site.emulator.course_modules(courseid) if m["completion"]]
    assert len(cms) == len(at), f"course {courseid} has {len(cms)} tracked activities"
    for cm, t in zip(cms, at, strict=True):
        site.emulator.set_activity_completion(cm, userid, 1, t)
    if visit is not None:
        site.emulator.set_last_course_access(courseid, userid, visit)


def teacher_marks_complete(site: Site, courseid: int, userid: int) -> None:
    """A teacher overrides every activity as complete: the learner's lastcourseaccess stays 0 (README)."""
    api = site.api()
    for cm in (m["id"] for m in site.emulator.course_modules(courseid) if m["completion"]):
        api.client.call("core_completion_override_activity_completion_status",
                        {"userid": userid, "cmid": cm, "newstate": 1})


def now_s() -> int:
    return int(clock.now().timestamp())


# --- 1. paging ---------------------------------------------------------------------------------------

def test_enrolled_users_are_read_page_by_page_and_everyone_is_seen_once(
        dalarna: County, monkeypatch: pytest.MonkeyPatch) -> None:
    site, ids, soc = dalarna.site, dalarna.ids, dalarna.course[SOC]
    dalarna.reimport(dalarna.rows[1:])  # the first person leaves: suspended, listed only with onlyactive=0
    paged = MoodleApi.enrolled_users

    def small_pages(self: MoodleApi, courseid: int, *, only_active: bool, fields: str = "id",
                    page_size: int = 5000) -> list[EnrolledUser]:
        return paged(self, courseid, only_active=only_active, fields=fields, page_size=3)

    monkeypatch.setattr(MoodleApi, "enrolled_users", small_pages)
    result, spy = run_pull(site)

    # 7 enrolled (3+3+1) and 6 active (3+3+0): both lists needed three pages
    assert sorted(spy.offsets(soc)) == [0, 0, 3, 3, 6, 6]
    assert result.people == 14  # 7 in SOC, 7 in NCK, suspended included
    people = course_people(site, SOC)
    assert set(people) == set(ids)
    assert {uid for uid, p in people.items() if p.status == "suspended"} == {ids[0]}
    asked = spy.asked(soc)
    assert Counter(asked).most_common(1)[0][1] == 1, f"someone was asked twice: {asked}"
    assert sorted(asked) == sorted(ids[1:])  # everyone active once, the suspended person not at all


# --- 2. nocriteriaset and usernotenroled ---------------------------------------------------------------

def test_a_course_without_criteria_is_reported_once_and_its_people_not_asked_again(dalarna: County) -> None:
    site, ids, nck = dalarna.site, dalarna.ids, dalarna.course[NCK]
    first, spy = run_pull(site)
    assert first.not_tracked == [NCK]
    assert len(spy.asked(nck)) == 1, "one nocriteriaset answer settles the whole course"
    assert all(p.completed_at is None for p in course_people(site, NCK).values())
    # reports count NCK's people as enrolled, never as late: whether they completed cannot be seen
    assert {(f.course_key, f.tracked) for f in facts_of(site, Scope())} == \
        {("nck-grundkurs-vinr", False), ("hrv-socialtjanst", True)}

    site.emulator.set_last_course_access(nck, ids[2], now_s())  # a visit does not make it worth asking
    second, spy = run_pull(site)
    assert second.not_tracked == [NCK]
    assert spy.asked(nck) == []

    # criteria added in Moodle later (the template imported into it): noticed at the next sweep
    api = site.api()
    api.import_course(dalarna.course["mall-hrv-socialtjanst"], nck)
    routine, spy = run_pull(site)
    assert routine.not_tracked == [NCK] and spy.asked(nck) == []
    swept, spy = run_pull(site, now=clock.now() + datetime.timedelta(days=8))
    assert swept.not_tracked == []
    assert sorted(spy.asked(nck)) == sorted(ids)


def test_people_moodle_does_not_track_keep_their_last_known_state(dalarna: County) -> None:
    site, ids, soc = dalarna.site, dalarna.ids, dalarna.course[SOC]
    t = now_s() - 3600
    complete(site, soc, ids[1], [t, t], visit=t)
    # a teacher in the course is listed as active but is no learner: Moodle answers usernotenroled
    teacher = site.emulator.add_user("larare1", "Lärare", "Ett", "larare1@falun.example.se")
    site.emulator.enrol_user(soc, teacher, roleid=3)
    first, spy = run_pull(site)
    assert teacher in spy.asked(soc)
    assert first.not_tracked == [NCK]  # usernotenroled is not "no criteria"
    people = course_people(site, SOC)
    assert people[teacher].completed_at is None and people[teacher].last_checked is not None
    assert people[ids[1]].completed_at == t

    # two leave (suspended), and one of them visits the course: suspended people are not asked
    dalarna.reimport([r for n, r in enumerate(dalarna.rows) if n not in (1, 2)], allow_mass_removal=True)
    site.emulator.set_last_course_access(soc, ids[2], now_s())
    _, spy = run_pull(site)
    assert ids[1] not in spy.asked(soc) and ids[2] not in spy.asked(soc)
    people = course_people(site, SOC)
    assert people[ids[1]].status == "suspended" and people[ids[1]].completed_at == t  # the completion is kept

    # suspended between the listing and the question: Moodle says usernotenroled, the state is kept as it was
    complete(site, soc, ids[3], [t, t], visit=now_s())
    site.emulator.faults.add(Fault(kind="exception", wsfunction=STATUS, error={
        "exception": "moodle_exception", "errorcode": "usernotenroled",
        "message": "User is not enrolled in this course"}))
    result, spy = run_pull(site)
    assert spy.asked(soc) == [ids[3]]
    assert result.new_completions == 0 and course_people(site, SOC)[ids[3]].completed_at is None
    assert SOC not in result.not_tracked
    # … and the sweep asks again and finds the completion
    _, spy = run_pull(site, sweep_days=0)
    assert ids[3] in spy.asked(soc) and course_people(site, SOC)[ids[3]].completed_at == t


def test_enrolment_days_are_swedish_calendar_days(applied: Site) -> None:
    # the store writes UTC: 23:30 UTC on New Year's Eve is already the new year in Stockholm
    site = applied
    api = site.api()
    store = site.store(api)
    CompletionStore(store).save_roster(SOC, {4242: ("active", 0)}, "2026-12-31T23:30:00+00:00")
    store.close()
    [fact] = [f for f in facts_of(site, Scope()) if f.person == 4242]
    assert fact.enrolled_since == datetime.date(2027, 1, 1)


def test_people_the_tool_enrolled_are_enrolled_since_that_day_not_since_the_pull(dalarna: County) -> None:
    site, soc = dalarna.site, dalarna.course[SOC]
    enrolled_on = clock.today()
    by_hand = site.emulator.add_user("handpicked", "Hand", "Plockad", "hand@falun.example.se")
    site.emulator.enrol_user(soc, by_hand)  # enrolled in Moodle by someone else: no date the tool knows
    later = clock.now() + datetime.timedelta(days=400)  # the first pull comes late
    run_pull(site, now=later)
    people = course_people(site, SOC)
    # the store keeps the moment in UTC; it is Sweden's day that counts
    assert {clock.shown(people[u].enrolled_since)[:10] for u in dalarna.ids} == {enrolled_on.isoformat()}
    assert people[by_hand].enrolled_since[:10] == later.date().isoformat()
    facts = {f.person: f for f in facts_of(site, Scope()) if f.course_key == "hrv-socialtjanst"}
    assert {facts[u].enrolled_since for u in dalarna.ids} == {enrolled_on}


def test_people_whose_enrolment_window_has_not_opened_are_pulled_as_active_not_suspended(
        site: Site, tmp_path: Path) -> None:
    # onlyactive=1 also leaves out enrolments that start later; the tool knows it set them active
    rules_path = site.specs_dir / "enrolment_rules.yaml"
    later = (clock.today() + datetime.timedelta(days=30)).isoformat()
    text = rules_path.read_text(encoding="utf-8")
    rules_path.write_text(text.replace("- key: hrv-soc-socialtjansten\n",
                                       f"- key: hrv-soc-socialtjansten\n  window_start: {later}\n", 1),
                          encoding="utf-8")
    site.apply()
    ids = import_county(site, tmp_path, [person(n) for n in range(3)], "W")
    soc = course_ids(site)[SOC]
    assert not set(ids) & {u.id for u in site.api().enrolled_users(soc, only_active=True)}
    run_pull(site)
    assert {course_people(site, SOC)[u].status for u in ids} == {"active"}


# --- 3. incremental pull -------------------------------------------------------------------------------

def test_a_routine_pull_asks_only_visitors_and_the_sweep_finds_what_a_teacher_marked(dalarna: County) -> None:
    site, ids, soc = dalarna.site, dalarna.ids, dalarna.course[SOC]
    first, spy = run_pull(site)
    assert sorted(spy.asked(soc)) == sorted(ids) and SOC in first.swept

    t = now_s()
    complete(site, soc, ids[1], [t - 60, t], visit=t)  # visits and completes
    teacher_marks_complete(site, soc, ids[2])  # marked by a teacher: no visit, lastcourseaccess stays 0
    site.emulator.set_last_course_access(soc, ids[3], t)  # visits without completing
    routine, spy = run_pull(site)
    assert sorted(spy.asked(soc)) == sorted([ids[1], ids[3]])
    assert routine.swept == [] and routine.new_completions == 1
    people = course_people(site, SOC)
    assert people[ids[1]].completed_at == t and people[ids[2]].completed_at is None

    sweep, spy = run_pull(site, sweep_days=0)
    open_people = [u for u in ids if u != ids[1]]
    assert sorted(spy.asked(soc)) == sorted(open_people)  # every open enrolment once, the completed one not
    assert SOC in sweep.swept and sweep.new_completions == 1
    marked = course_people(site, SOC)[ids[2]]
    assert marked.completed_at is not None and marked.completed_source == "criteria"

    _, spy = run_pull(site)
    assert spy.asked(soc) == []  # nothing visited since


def test_a_weekly_pull_sweeps_every_week(dalarna: County) -> None:
    site, ids, soc = dalarna.site, dalarna.ids, dalarna.course[SOC]
    # a long pull that began two hours ago: its checks count from its start, not from when each answer came
    start = clock.now().replace(microsecond=0) - datetime.timedelta(hours=2)
    run_pull(site, now=start)
    teacher_marks_complete(site, soc, ids[4])
    _, spy = run_pull(site, now=start + datetime.timedelta(days=6))
    assert spy.asked(soc) == []  # within the week: no sweep
    result, spy = run_pull(site, now=start + datetime.timedelta(days=7))  # the next weekly run
    assert sorted(spy.asked(soc)) == sorted(ids) and result.new_completions == 1
    assert SOC in result.swept


# --- 4. completion time ------------------------------------------------------------------------------

def criteria(*times: int | None) -> list[CriterionStatus]:
    return [CriterionStatus(type=4, title="Aktivitet", complete=t is not None, timecompleted=t) for t in times]


@pytest.mark.parametrize(("aggregation", "times", "expected"), [
    (1, (100, 300, 200), 300),  # all: the last criterion met completes the course
    (2, (300, 100, None), 100),  # any: the first criterion met completed it
    (2, (None, 250), 250),
    (1, (None, None), None),  # completed, but no criterion carries a time
])
def test_completion_time_from_criteria(aggregation: int, times: tuple[int | None, ...], expected: int | None) -> None:
    status = CompletionStatus(completed=True, aggregation=aggregation, completions=criteria(*times))
    assert completion_time(status) == expected


def test_completion_time_ignores_times_of_criteria_not_complete() -> None:
    odd = [CriterionStatus(type=4, complete=False, timecompleted=50), *criteria(400)]
    assert completion_time(CompletionStatus(completed=True, aggregation=2, completions=odd)) == 400


def test_completion_times_come_from_the_criteria_or_else_from_the_pull_and_are_kept(dalarna: County) -> None:
    site, ids, soc = dalarna.site, dalarna.ids, dalarna.course[SOC]
    early, late = now_s() - 40 * 86400, now_s() - 86400
    complete(site, soc, ids[0], [early, late], visit=late)  # "all": the later criterion
    complete(site, soc, ids[1], [late, early], visit=late)  # order of the activities does not matter
    site.emulator.set_course_completion(soc, ids[2], late)  # complete with no criterion time at all
    site.emulator.set_last_course_access(soc, ids[2], late)
    now = clock.now().replace(microsecond=0)
    result, _ = run_pull(site, now=now)
    assert result.new_completions == 3
    people = course_people(site, SOC)
    assert (people[ids[0]].completed_at, people[ids[0]].completed_source) == (late, "criteria")
    assert people[ids[1]].completed_at == late
    assert people[ids[2]].completed_at == int(now.timestamp()) and people[ids[2]].completed_source == "first_seen"
    facts = {(f.person, f.course_key): f for f in facts_of(site, Scope())}
    assert facts[(ids[0], "hrv-socialtjanst")].completed_on == datetime.datetime.fromtimestamp(late, STOCKHOLM).date()
    assert facts[(ids[2], "hrv-socialtjanst")].completed_source == "first_seen"
    assert "ungefärliga" in report(site, fmt="table")  # the report says some dates are approximate

    # suspended, then unenrolled: completions once seen stay, and nobody is asked about them again
    dalarna.reimport([r for n, r in enumerate(dalarna.rows) if n not in (0, 1)], allow_mass_removal=True)
    site.api().client.call("enrol_manual_unenrol_users", {"enrolments": [{"userid": ids[2], "courseid": soc}]})
    _, spy = run_pull(site, sweep_days=0)
    assert not {ids[0], ids[1], ids[2]} & set(spy.asked(soc))
    people = course_people(site, SOC)
    assert people[ids[0]].status == "suspended" and people[ids[0]].completed_at == late
    assert people[ids[2]].status == "gone" and people[ids[2]].completed_at == int(now.timestamp())
    done = {f.person for f in facts_of(site, Scope()) if f.completed_on}
    assert {ids[0], ids[1], ids[2]} <= done


def test_any_aggregation_takes_the_earliest_criterion(dalarna: County) -> None:
    site, ids, soc = dalarna.site, dalarna.ids, dalarna.course[SOC]
    with site.emulator.lock:  # the course's aggregation set to "any" (no web service can)
        site.emulator.state.courses.update(site.emulator.state.courses.rows[soc], completionaggregation=2)
    early, late = now_s() - 30 * 86400, now_s() - 86400
    complete(site, soc, ids[1], [late, early], visit=late)
    run_pull(site)
    assert course_people(site, SOC)[ids[1]].completed_at == early


# --- 5. resume after an interruption ------------------------------------------------------------------

def test_a_crash_between_courses_does_not_lose_the_course_already_asked(dalarna: County) -> None:
    site, ids, soc, nck = dalarna.site, dalarna.ids, dalarna.course[SOC], dalarna.course[NCK]
    complete(site, soc, ids[5], [now_s(), now_s()], visit=now_s())
    # SOC (7 questions) comes first, then NCK's probe: the client dies right after that reaches Moodle
    site.emulator.faults.add(Fault(kind="crash", wsfunction=STATUS, after=len(ids)))
    with pytest.raises(SimulatedCrash):
        run_pull(site)
    assert course_people(site, SOC)[ids[5]].completed_at is not None
    result, spy = run_pull(site)
    assert spy.asked(soc) == [] and len(spy.asked(nck)) == 1
    assert result.not_tracked == [NCK]


def test_a_crash_mid_course_resumes_without_asking_the_people_already_stored(
        dalarna: County, monkeypatch: pytest.MonkeyPatch) -> None:
    site, ids, soc = dalarna.site, dalarna.ids, dalarna.course[SOC]
    monkeypatch.setattr(pull_module, "SAVE_EVERY", 2)  # a transaction per 2 answers, so 7 people span several
    for uid in ids:
        complete(site, soc, uid, [now_s() - 100, now_s() - 50])
    site.emulator.faults.add(Fault(kind="crash", wsfunction=STATUS, after=4))
    with pytest.raises(SimulatedCrash):
        run_pull(site)
    stored = {uid for uid, p in course_people(site, SOC).items() if p.last_checked}
    assert stored and stored != set(ids), stored
    assert all(course_people(site, SOC)[u].completed_at for u in stored)

    result, spy = run_pull(site)
    asked = spy.asked(soc)
    assert not stored & set(asked), f"asked again about people already stored: {stored & set(asked)}"
    assert sorted(asked) == sorted(set(ids) - stored)
    assert result.new_completions == len(ids) - len(stored)
    assert all(p.completed_at for p in course_people(site, SOC).values())


# --- 6/7. reports: scope, personal data, suppression -----------------------------------------------------

@pytest.fixture
def two_counties(dalarna: County) -> County:
    """Dalarna's seven (two completed SOC) and six in Stockholm (all completed SOC), pulled."""
    site, soc = dalarna.site, dalarna.course[SOC]
    ab = import_county(site, dalarna.tmp, [ab_person(n) for n in range(6)], "AB")
    t = now_s() - 86400
    for uid in [*dalarna.ids[:2], *ab]:
        complete(site, soc, uid, [t - 60, t], visit=t)
    run_pull(site)
    dalarna.ids = dalarna.ids + ab
    return dalarna


def test_a_hub_sees_only_its_own_county(two_counties: County) -> None:
    site, w = two_counties.site, set(two_counties.ids[:7])
    facts = facts_of(site, DALARNA)
    everyone = facts_of(site, Scope())
    assert {f.county for f in facts} == {"W"} and {f.person for f in facts} == w
    assert {f.county for f in everyone} == {"W", "AB"}

    table = report(site, scope=DALARNA, dimensions=["county", "course"])
    assert "Dalarnas län" in table and "Stockholms län" not in table
    counties = {row[0] for row in csv_rows(table)[1:] if row[0] != "Totalt"}
    assert counties == {"Dalarnas län"}, counties


def test_personal_data_exports_stay_in_scope_and_are_logged(two_counties: County, tmp_path: Path) -> None:
    site, ids = two_counties.site, two_counties.ids
    text = report(site, scope=DALARNA, personal_data=True)
    header, *rows = csv_rows(text)
    assert header[:3] == ["userid", "email", "county"]
    assert {int(r[0]) for r in rows} == set(ids[:7]) and len(rows) == 14  # 7 people × SOC and NCK
    assert all(r[1].endswith("@falun.example.se") and r[2] == "W" for r in rows)
    assert "stockholm" not in text

    out = tmp_path / "personer.csv"
    assert report(site, personal_data=True, out=str(out)) == ""
    assert len(csv_rows(out.read_text(encoding="utf-8"))) == 1 + 26

    logged = exports(site)
    assert [(e["scope"], e["rows"]) for e in logged] == [("W", 14), ("all counties", 26)]
    assert all(e["user"] == getpass.getuser() and str(e["at"]).startswith(f"{clock.today():%Y}")
               for e in logged)
    assert "stdout" in str(logged[0]["what"]) and str(out) in str(logged[1]["what"])
    # aggregate reports are not personal exports
    report(site, scope=DALARNA)
    assert len(exports(site)) == 2


def test_personal_data_is_written_only_as_csv(two_counties: County, tmp_path: Path) -> None:
    out = tmp_path / "personer.xlsx"
    with pytest.raises(ConfigError, match="CSV"):
        report(two_counties.site, personal_data=True, fmt="xlsx", out=str(out))
    assert not out.exists() and exports(two_counties.site) == []  # nothing written, so nothing logged


def test_a_hubs_redovisning_lists_only_its_own_county(two_counties: County) -> None:
    text = report(two_counties.site, scope=DALARNA, preset="redovisning", period=f"{clock.today():%Y}")
    assert "Dalarnas län" in text
    assert "Stockholms län" not in text  # six people there: a 0 would be false


def test_counts_are_randomly_rounded_the_same_way_every_time(two_counties: County) -> None:
    first = report(two_counties.site, dimensions=["county"])
    assert report(two_counties.site, dimensions=["county"]) == first  # asking again tells nothing new
    rows = csv_rows(first)
    header = rows[0]
    table = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:4] if r}
    assert set(table) == {"Stockholms län", "Dalarnas län", "Totalt"}
    w, ab, total = table["Dalarnas län"], table["Stockholms län"], table["Totalt"]
    # a person counts once per course version, and every count is the sum of its groups' (organisation, target
    # groups, course version, month) rounded counts: Stockholm's 6 + 6 enrolments stay 12; Dalarna's 7 + 7 are
    # two groups (three when a completion yesterday fell in the month before), each off by at most 2
    assert ab["Inskrivna"] == "12" and int(w["Inskrivna"]) % 3 == 0 and abs(int(w["Inskrivna"]) - 14) <= 6
    assert int(total["Inskrivna"]) == int(w["Inskrivna"]) + int(ab["Inskrivna"])  # rows add up to the total
    assert w["Genomförda"] in ("<5", "0")  # 2 people: published 3 (shown <5) or 0, never 2
    assert w["Andel genomförda (%)"] in ("..", "0,0")
    assert "2" not in (w["Genomförda"], w["Genomförda, aktuell version"])
    text = report(two_counties.site, fmt="table")
    assert "multipel av 3" in text and "visas som <5" in text


def test_a_range_of_days_is_no_report_period(two_counties: County) -> None:
    for period in ("2025-01-01..2025-11-30", "2025-13", "2025-Q5", "last year"):
        with pytest.raises(ConfigError, match="is not a report period") as caught:
            report(two_counties.site, period=period)
        assert "calendar year (2026), quarter (2026-Q2) or month (2026-06)" in (caught.value.hint or "")
    assert report(two_counties.site, period="2025-Q1") and report(two_counties.site, period="2025-06")


# --- 8. reminders --------------------------------------------------------------------------------------

def test_reminders_go_to_those_near_their_deadline_once_per_interval(applied: Site, tmp_path: Path) -> None:
    site = applied
    today = clock.today()
    recent = (today - datetime.timedelta(days=80)).isoformat()  # SOC deadline (90 days) in 10 days
    rows = [person(n, **{"Anställningsdatum": recent}) for n in range(5)]
    rows.append(person(5, **{"Anställningsdatum": "2020-01-01"}))  # deadline long gone: no reminder
    ids = import_county(site, tmp_path, rows, "W")
    soc = course_ids(site)[SOC]
    complete(site, soc, ids[0], [now_s(), now_s()], visit=now_s())  # done: no reminder
    do_import(site, write_roster(tmp_path / "less.csv", rows[:4] + rows[5:]))  # ids[4] leaves: suspended
    run_pull(site)
    deadline = today + datetime.timedelta(days=10)

    spy = Spy(site)
    api = spy.api()
    store = site.store(api)
    kw: dict[str, Any] = {"before": datetime.timedelta(days=14), "interval": datetime.timedelta(days=30)}
    dry = planned(api, site.specs(), store, scope=Scope(), **kw)
    assert sorted((r.userid, r.course_idnumber, r.deadline) for r in dry.due) == \
        [(u, SOC, deadline) for u in sorted(ids[1:4])]
    assert "10 dagar" in dry.due[0].text and deadline.isoformat() in dry.due[0].text
    assert not [f for f, _ in spy.calls if f == SEND]
    assert planned(api, site.specs(), store, scope=Scope.for_hub("stockholm", Hub(county="AB")), **kw).due == []

    sent = reminded(api, site.specs(), store, scope=Scope(), **kw)
    assert sent.sent == 3 and sent.failures == []
    assert [f for f, _ in spy.calls].count(SEND) == 1  # one batched call
    messages = list(site.emulator.state.messages)
    assert sorted(m.useridto for m in messages) == sorted(ids[1:4])
    assert all(site.specs().courses["hrv-socialtjanst"].title in m.text for m in messages)
    completions = CompletionStore(store)
    assert all(completions.last_reminder(u, SOC) for u in ids[1:4])
    assert completions.last_reminder(ids[0], SOC) is None

    again = reminded(api, site.specs(), store, scope=Scope(), **kw)
    assert again.sent == 0 and again.skipped_recent == 3 and again.due == []
    assert [f for f, _ in spy.calls].count(SEND) == 1 and len(site.emulator.state.messages) == 3
    store.close()


def test_no_reminder_about_a_course_whose_completion_moodle_does_not_track(applied: Site, tmp_path: Path) -> None:
    site = applied
    start = (clock.today() - datetime.timedelta(days=50)).isoformat()  # NCK's 60-day deadline in 10 days
    import_county(site, tmp_path, [person(n, **{"Anställningsdatum": start}) for n in range(3)], "W")
    run_pull(site)
    api = site.api()
    store = site.store(api)
    result = planned(api, site.specs(), store, before=datetime.timedelta(days=14), interval=datetime.timedelta(days=30),
                    scope=Scope())
    store.close()
    # nobody can be seen to complete NCK: reminding would nag those who have done it, so nobody is
    assert result.due == []
    assert result.to_dict()["completion_not_tracked"] == [NCK]


# --- 9/10. the command line: pull, the redovisning preset, HTML -----------------------------------------

def test_cli_pull_then_the_redovisning_preset_and_a_self_contained_html_page(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("apply", "--yes") == EXIT_OK
    roster = write_roster(tmp_path / "dalarna.csv", [person(n) for n in range(7)])
    assert run("roster", "import", str(roster), "--county", "W", "--yes") == EXIT_OK
    soc = course_ids(served)[SOC]
    users = served.api().enrolled_users(soc, only_active=True)
    t = now_s() - 3600
    for u in users[:6]:
        complete(served, soc, u.id, [t, t], visit=t)
    capsys.readouterr()

    assert run("pull") == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("Completion not tracked") == 1 and out.count(NCK) == 1
    served.emulator.set_last_course_access(soc, users[6].id, now_s())
    assert run("pull", "--json") == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["completion_not_tracked"] == [NCK] and doc["asked"] == 1  # only the one who visited since

    year = f"{clock.today():%Y}"
    assert run("report", "--preset", "redovisning", "--period", year) == EXIT_OK
    text = capsys.readouterr().out
    assert f"Redovisning {year}: nådda och genomförda per län och målgrupp" in text
    assert f"Redovisningsperiod: 1 januari–31 december {year}" in text
    assert "Nådda: personer som skrevs in på kursen under året" in text
    assert "Genomförda: personer som slutförde kursen under året" in text
    for heading in ("Län \\ Målgrupp", "Socialsekreterare", "Totalt", "Nådda – ", "Genomförda – ",
                    "version 1 (aktuell)"):
        assert heading in text, heading
    assert "<5" in text  # the one person who has not completed

    assert run("report", "--preset", "redovisning") == EXIT_ERROR
    assert "--period" in capsys.readouterr().err

    for preset in ("redovisning", "uppfoljning"):
        page = tmp_path / f"{preset}.html"
        assert run("report", "--preset", preset, "--period", year, "--format", "html", "--out", str(page)) == EXIT_OK
        html = page.read_text(encoding="utf-8")
        assert "<svg" in html
        assert "<script" not in html.lower()
        assert "http://" not in html and "https://" not in html
        assert "Dalarnas län" in html
    # --out's suffix gives the format (an .xlsx holding a text table was written before)
    book = tmp_path / "uppfoljning.xlsx"
    assert run("report", "--preset", "uppfoljning", "--period", year, "--out", str(book)) == EXIT_OK
    import openpyxl
    cells = {c.value for sheet in openpyxl.load_workbook(book).worksheets for row in sheet.iter_rows() for c in row}
    assert "Dalarnas län" in cells


def test_cli_hub_report_with_personal_data_stays_in_its_county(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "moodle-sync.toml"
    config.write_text('[hubs.dalarna]\ncounty = "W"\n', encoding="utf-8")
    assert run("apply", "--yes") == EXIT_OK
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", [person(n) for n in range(3)])),
               "--county", "W", "--yes") == EXIT_OK
    ab = write_roster(tmp_path / "ab.csv", [ab_person(n) for n in range(3)])
    assert run("roster", "import", str(ab), "--county", "AB", "--yes") == EXIT_OK
    assert run("pull") == EXIT_OK
    capsys.readouterr()
    assert run("report", "--config", str(config), "--hub", "dalarna", "--personal-data") == EXIT_OK
    header, *rows = csv_rows(capsys.readouterr().out)
    assert header[0] == "userid" and len(rows) == 6 and {r[2] for r in rows} == {"W"}
    assert run("remind", "--config", str(config), "--hub", "dalarna", "--dry-run", "--json") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["due"] == 0  # employed in 2025: deadlines long gone


def test_cli_a_hub_cannot_lower_the_threshold_below_the_configured_minimum(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "moodle-sync.toml"
    config.write_text('report_threshold = 10\n[hubs.dalarna]\ncounty = "W"\n', encoding="utf-8")
    assert run("apply", "--yes") == EXIT_OK
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", [person(n) for n in range(7)])),
               "--county", "W", "--yes") == EXIT_OK
    assert run("pull") == EXIT_OK
    capsys.readouterr()
    for lower in ("9", "5", "2"):
        assert run("report", "--config", str(config), "--hub", "dalarna", "--threshold", lower) == EXIT_ERROR
        err = capsys.readouterr().err
        assert "may not lower the threshold below 10" in err and "report_threshold" in err
    assert run("report", "--config", str(config), "--hub", "dalarna") == EXIT_OK
    assert "visas som <10" in capsys.readouterr().out  # the configured minimum is the default
    assert run("report", "--config", str(config), "--hub", "dalarna", "--threshold", "12") == EXIT_OK
    assert run("report", "--config", str(config), "--threshold", "5") == EXIT_OK  # an admin may


def test_cli_remind_says_which_courses_it_cannot_remind_about(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("apply", "--yes") == EXIT_OK
    start = (clock.today() - datetime.timedelta(days=50)).isoformat()  # NCK's deadline in 10 days
    rows = [person(n, **{"Anställningsdatum": start}) for n in range(3)]
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", rows)), "--county", "W", "--yes") == EXIT_OK
    assert run("pull") == EXIT_OK
    capsys.readouterr()
    assert run("remind", "--dry-run") == EXIT_OK
    said = capsys.readouterr().out
    assert "would remind 0 people" in said and "does not track" in said and NCK in said


# --- 11. completion switched off, and answers that are not a status ---------------------------------------
# Moodle 4.3 completion/classes/external.php get_course_completion_status checks, in this order: the user is
# active (userdeleted), validate_context (requireloginerror), completion_can_view_data (cannotviewreport: also
# when completion is off in the course or on the site), separate groups (accessdenied), tracked
# (usernotenroled), criteria (nocriteriaset).

def moodle_error(errorcode: str, message: str, exception: str = "moodle_exception") -> dict[str, str]:
    return {"exception": exception, "errorcode": errorcode, "message": message}


REQUIRE_LOGIN = moodle_error("requireloginerror", "Course or activity not accessible.", "require_login_exception")
ACCESS_DENIED = moodle_error("accessdenied", "Access denied")
# lang/en/error.php has no 'userdeleted': moodle_exception('userdeleted') reads "error/userdeleted"
USER_DELETED = moodle_error("userdeleted", "error/userdeleted")


def remind_dry(site: Site, **kw: Any) -> Any:
    api = site.api()
    store = site.store(api)
    try:
        return planned(api, site.specs(), store, before=datetime.timedelta(days=14),
                      interval=datetime.timedelta(days=30), scope=Scope(), **kw)
    finally:
        store.close()


def test_a_course_whose_spec_switches_completion_off_is_not_asked_and_not_reminded(
        site: Site, tmp_path: Path) -> None:
    site.edit_course("hrv-socialtjanst", completion=False)
    site.apply()
    start = (clock.today() - datetime.timedelta(days=80)).isoformat()  # SOC's deadline in 10 days
    ids = import_county(site, tmp_path, [person(n, **{"Anställningsdatum": start}) for n in range(3)], "W")
    soc = course_ids(site)[SOC]
    assert site.emulator.state.courses.rows[soc].enablecompletion == 0

    result, spy = run_pull(site, sweep_days=0)
    assert spy.asked(soc) == []  # Moodle would answer cannotviewreport for every one of them
    assert result.not_tracked == [SOC, NCK] and result.not_tracked_why[SOC] == "spec"
    assert set(course_people(site, SOC)) == set(ids)  # the people are still pulled: reports count them enrolled
    assert {f.tracked for f in facts_of(site, Scope()) if f.course_key == "hrv-socialtjanst"} == {False}
    due = remind_dry(site)
    assert [r for r in due.due if r.course_idnumber == SOC] == [] and SOC in due.not_tracked


def test_completion_switched_off_in_moodle_settles_the_course_on_one_answer(dalarna: County) -> None:
    site, ids, soc = dalarna.site, dalarna.ids, dalarna.course[SOC]
    with site.emulator.lock:  # someone switches completion off in the course's settings in Moodle
        site.emulator.state.courses.update(site.emulator.state.courses.rows[soc], enablecompletion=0)
    first, spy = run_pull(site)
    assert len(spy.asked(soc)) == 1, "one cannotviewreport answer settles the whole course"
    assert first.not_tracked == [SOC, NCK] and first.not_tracked_why[SOC] == "cannotviewreport"
    assert first.kept == {} and first.not_read == {}
    assert {(f.course_key, f.tracked) for f in facts_of(site, Scope())} == \
        {("nck-grundkurs-vinr", False), ("hrv-socialtjanst", False)}

    site.emulator.set_last_course_access(soc, ids[2], now_s())
    routine, spy = run_pull(site)
    assert spy.asked(soc) == [] and routine.not_tracked == [SOC, NCK]

    with site.emulator.lock:  # switched on again: seen at the next sweep, and everyone is asked
        site.emulator.state.courses.update(site.emulator.state.courses.rows[soc], enablecompletion=1)
    swept, spy = run_pull(site, now=clock.now() + datetime.timedelta(days=8))
    assert swept.not_tracked == [NCK] and sorted(spy.asked(soc)) == sorted(ids)
    assert {f.tracked for f in facts_of(site, Scope()) if f.course_key == "hrv-socialtjanst"} == {True}


def test_completion_off_on_the_whole_site_is_not_tracked_anywhere_and_nobody_is_reminded(
        applied: Site, tmp_path: Path) -> None:
    site = applied
    start = (clock.today() - datetime.timedelta(days=50)).isoformat()  # deadlines within 14 days or so
    import_county(site, tmp_path, [person(n, **{"Anställningsdatum": start}) for n in range(3)], "W")
    site.emulator.state.config.enablecompletion = 0  # Site administration > Advanced features
    result, spy = run_pull(site)
    ids = course_ids(site)
    assert len(spy.asked(ids[SOC])) == 1 and len(spy.asked(ids[NCK])) == 1
    # cannotviewreport comes before nocriteriaset in Moodle's order
    assert result.not_tracked_why == {SOC: "cannotviewreport", NCK: "cannotviewreport"}
    assert remind_dry(site).due == []


def test_a_person_moodle_will_not_answer_for_is_counted_and_keeps_their_state(dalarna: County) -> None:
    site, ids, soc = dalarna.site, dalarna.ids, dalarna.course[SOC]
    t = now_s() - 3600
    for uid in ids:
        complete(site, soc, uid, [t, t], visit=t)
    # deleted in Moodle between the enrolment listing and the question (the probe and one more answer first)
    site.emulator.faults.add(Fault(kind="exception", wsfunction=STATUS, after=2, error=USER_DELETED))
    result, spy = run_pull(site, workers=1)
    assert sorted(spy.asked(soc)) == sorted(ids)  # the pull went on past the answer
    assert result.kept == {"userdeleted": 1} and result.to_dict()["people_kept_as_is"] == {"userdeleted": 1}
    assert result.new_completions == len(ids) - 1 and result.not_read == {}
    people = course_people(site, SOC)
    [kept] = [u for u in ids if people[u].completed_at is None]
    assert people[kept].last_checked is not None  # asked; its state kept as it was
    assert result.not_tracked == [NCK]

    later, spy = run_pull(site, sweep_days=0)
    assert spy.asked(soc) == [kept] and later.kept == {} and course_people(site, SOC)[kept].completed_at == t


@pytest.mark.parametrize("error", [REQUIRE_LOGIN, ACCESS_DENIED,
                                   moodle_error("nopermissions", "Sorry, but you do not currently have permissions "
                                                "to do that (View course completion report).",
                                                "required_capability_exception")],
                         ids=lambda e: e["errorcode"])
def test_an_answer_about_the_whole_course_stops_that_course_and_the_pull_goes_on(
        dalarna: County, error: dict[str, str]) -> None:
    site, ids, soc, nck = dalarna.site, dalarna.ids, dalarna.course[SOC], dalarna.course[NCK]
    t = now_s() - 3600
    complete(site, soc, ids[0], [t, t], visit=t)
    run_pull(site)
    assert course_people(site, SOC)[ids[0]].completed_at == t
    teacher_marks_complete(site, soc, ids[1])

    # the sweep: SOC's probe passes, the next answer is about the whole course (later ones would pass)
    before = {u: p.last_checked for u, p in course_people(site, SOC).items()}
    site.emulator.faults.add(Fault(kind="exception", wsfunction=STATUS, after=1, error=error))
    tomorrow = clock.now() + datetime.timedelta(days=1)
    result, spy = run_pull(site, sweep_days=0, workers=1, now=tomorrow)
    assert len(spy.asked(soc)) == 2, "no question after the first answer about the whole course"
    assert len(spy.asked(nck)) == 1 and result.not_tracked == [NCK]  # the pull went on to the next course
    problem = result.not_read[SOC]
    assert (problem.errorcode, problem.message) == (error["errorcode"], error["message"]) and problem.hint
    assert list(result.to_dict()["courses_not_read"]) == [SOC]
    assert SOC not in result.swept and SOC not in result.not_tracked and result.kept == {}
    people = course_people(site, SOC)
    assert people[ids[0]].completed_at == t  # nothing stored is lost
    changed = [u for u, p in people.items() if p.last_checked != before[u]]
    assert len(changed) == 1, "only the probe's answer was stored; the rest are asked again next time"

    site.emulator.faults.clear()
    again, spy = run_pull(site, sweep_days=0, now=tomorrow + datetime.timedelta(days=1))
    assert again.not_read == {} and SOC in again.swept
    assert set(spy.asked(soc)) == {u for u, p in people.items() if p.completed_at is None}
    assert course_people(site, SOC)[ids[1]].completed_at is not None


def test_cli_pull_names_each_course_it_could_not_read_once_and_counts_people_kept(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("apply", "--yes") == EXIT_OK
    roster = write_roster(tmp_path / "dalarna.csv", [person(n) for n in range(7)])
    assert run("roster", "import", str(roster), "--county", "W", "--yes") == EXIT_OK
    # SOC's probe: a deleted person; every answer after it: the web-service user cannot enter the course
    served.emulator.faults.add(Fault(kind="exception", wsfunction=STATUS, error=USER_DELETED))
    served.emulator.faults.add(Fault(kind="exception", wsfunction=STATUS, after=1, times=None, error=REQUIRE_LOGIN))
    capsys.readouterr()

    assert run("pull") == EXIT_PARTIAL  # a scheduled pull notices
    out = capsys.readouterr().out
    assert out.count("requireloginerror") == 2  # once per course, however many answers said it
    assert f"Not read: {SOC}: requireloginerror: Course or activity not accessible." in out
    assert f"Not read: {NCK}: requireloginerror" in out and "moodle/course:viewhiddencourses" in out
    assert "Moodle gave no status for 1 person (userdeleted 1); their last known state is kept." in out
    assert "Completion not tracked" not in out

    assert run("pull", "--json") == EXIT_PARTIAL
    doc = json.loads(capsys.readouterr().out)
    assert sorted(doc["courses_not_read"]) == [SOC, NCK]
    assert doc["courses_not_read"][SOC]["errorcode"] == "requireloginerror" and doc["people_kept_as_is"] == {}
