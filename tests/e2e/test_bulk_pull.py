"""The bulk pull through the completion report (a custom report an admin made once), against the emulator.

Without the report, `pull` asks about one person per call (core_completion_get_course_completion_status); with it,
a handful of core_reportbuilder_retrieve_report pages give every completion, with Moodle's own time.
"""

from __future__ import annotations

import datetime
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from moodle_sync import clock
from moodle_sync.completions import bulk, pass_dates, report_pages, report_setup
from moodle_sync.completions.explain import bulk_text
from moodle_sync.completions.report_setup import COLUMNS, clicks
from moodle_sync.emulator import Fault, SimulatedCrash
from moodle_sync.emulator.moodlelib.reportbuilder_columns import PARTICIPANTS
from moodle_sync.jobs.site import connect
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.scope import Scope
from moodle_sync.specs.fields import STOCKHOLM
from moodle_sync.store.report_pull import ReportPullStore, SeenEnrolment
from moodle_sync.writing import settle as settle_module

from .conftest import Site, run
from .test_completions import (
    NCK,
    SOC,
    County,
    complete,
    course_ids,
    course_people,
    facts_of,
    import_county,
    report,
    run_pull,
    teacher_marks_complete,
)
from .test_rosters import person

RETRIEVE = "core_reportbuilder_retrieve_report"
STATUS = "core_completion_get_course_completion_status"
CATEGORIES = "core_course_get_categories"
MEMBERS = "core_cohort_get_cohort_members"
NAME = "moodle-sync"
#: 22:30 UTC on 31 March 2026 is 00:30 on 1 April in Stockholm
LATE = int(datetime.datetime(2026, 3, 31, 22, 30, 40, tzinfo=datetime.UTC).timestamp())


@pytest.fixture
def dalarna(site: Site, tmp_path: Path) -> County:
    """Seven social workers in Dalarna (W), enrolled by the rules (as in test_completions)."""
    site.apply()
    rows = [person(n) for n in range(7)]
    return County(site, rows, import_county(site, tmp_path, rows, "W"), course_ids(site), tmp_path)


def make_report(site: Site, name: str = NAME) -> int:
    """What an admin does once in the UI: a "Course participants" report without default setup."""
    return site.emulator.given({"kind": "custom_report", "name": name, "source": PARTICIPANTS,
                                "default_setup": False})


def calls(spy: object) -> Counter[str]:
    return Counter(f for f, _ in spy.calls)  # type: ignore[attr-defined]


def pass_pages(spy: object) -> int:
    """The report's pages the pull read (not a look at its columns or one row of a course: one row each)."""
    return sum(1 for f, p in spy.calls if f == RETRIEVE and p.get("perpage") != "1")  # type: ignore[attr-defined]


def test_pull_reads_every_completion_from_the_report_with_moodles_day(dalarna: County) -> None:
    site = dalarna.site
    make_report(site)
    soc = dalarna.course[SOC]
    complete(site, soc, dalarna.ids[3], [LATE - 600, LATE])  # no visit recorded
    teacher_marks_complete(site, soc, dalarna.ids[1])  # marked by a teacher: no visit
    result, spy = run_pull(site, report_name=NAME)
    assert result.bulk is not None and result.bulk.dates_certain, result.to_dict()
    counts = calls(spy)
    # one page; a look at the columns before and after shaping them, and each course's dates from one row
    assert pass_pages(spy) == 1 and counts[RETRIEVE] <= 1 + 3 + len(dalarna.course)
    # one question per course (is completion tracked there?), never one per person
    assert counts[STATUS] <= len(dalarna.course) < len(dalarna.ids) * 2
    people = course_people(site, SOC)
    assert people[dalarna.ids[3]].completed_at == LATE - LATE % 60  # Moodle's time, to the minute
    assert people[dalarna.ids[3]].completed_source == "report"
    assert people[dalarna.ids[1]].completed_at is not None
    assert all(p.completed_at is None for uid, p in people.items() if uid not in (dalarna.ids[1], dalarna.ids[3]))
    fact = next(f for f in facts_of(site, Scope()) if f.person == dalarna.ids[3] and f.course_key == "hrv-socialtjanst")
    assert fact.completed_on == datetime.date(2026, 4, 1)  # the Swedish calendar day

    # a routine pull: no person is asked about, the report is read again, nothing new
    again, spy = run_pull(site, report_name=NAME)
    assert calls(spy)[STATUS] == 0 and calls(spy)[RETRIEVE] <= 2 and again.new_completions == 0
    assert calls(spy)["core_reportbuilder_columns_add"] == 0  # the report is shaped once


def test_without_the_report_pull_asks_one_by_one_and_says_why_once(dalarna: County, served: Site,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run("pull") == 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert text.count("one person at a time") == 1
    assert "there is no custom report named 'moodle-sync'" in text and "calls, about" in text


def test_without_the_report_functions_pull_falls_back(dalarna: County) -> None:
    site = dalarna.site
    make_report(site)
    limited = "limited0123456789abcdef012345678"
    site.emulator.add_token(limited, functions=[f for f in MoodleApi.FUNCTIONS])
    api = connect("https://moodle.test", limited, mount=site.emulator.handle, retries=2)
    store = site.store(api)
    complete(site, dalarna.course[SOC], dalarna.ids[0], [LATE - 60, LATE], visit=LATE)
    try:
        from moodle_sync.completions.pull import pull
        result = pull(api, site.specs(), store, report_name=NAME)
    finally:
        store.close()
    assert result.bulk is None and "lacks core_reportbuilder_list_reports" in result.bulk_off
    assert result.new_completions == 1


def test_doctor_prints_the_clicks_when_the_report_is_missing(served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("doctor") == 0
    text = capsys.readouterr().out
    assert clicks(NAME) in text and "one person at a time" in text
    make_report(served)
    assert run("doctor") == 0
    text = capsys.readouterr().out
    assert "Completion report 'moodle-sync' (id" in text and clicks(NAME) not in text
    assert "`pull` adds its columns Course ID number, Username" in text


def test_dates_not_english_ask_only_the_new_completions(dalarna: County) -> None:
    """An admin customised English's date format (admin/tool/customlang): moodlewssettinglang=en cannot undo that,
    no date can be read with certainty, and only the new completions are asked about one by one."""
    site = dalarna.site
    make_report(site)
    site.emulator.state.config.strftimedaydatetime = "%d/%m/%y, %H:%M"
    soc = dalarna.course[SOC]
    for uid in dalarna.ids[2:4]:
        complete(site, soc, uid, [LATE - 60, LATE])
    result, spy = run_pull(site, report_name=NAME)
    assert result.bulk is not None and not result.bulk.dates_certain and result.bulk.anchors > 0
    assert "its dates could not be read with certainty" in bulk_text(result)
    people = course_people(site, SOC)
    assert [people[u].completed_at for u in dalarna.ids[2:4]] == [LATE, LATE]  # the criteria's exact time
    assert {people[u].completed_source for u in dalarna.ids[2:4]} == {"criteria"}
    asked = [int(p["userid"]) for f, p in spy.calls if f == STATUS and int(p["courseid"]) == soc]
    assert sorted(set(asked)) == sorted(set(asked) | set(dalarna.ids[2:4]))  # the two new ones were asked
    assert len(asked) <= 3  # the course question and the two new completions, no one else


# --- Moodle's dates on a first pull, on any site (issue 19) --------------------------------------------------------

#: completions made in Moodle before the tool's first pull: 15 March 2026, 10:00 in Stockholm
MARCH_15 = int(datetime.datetime(2026, 3, 15, 10, 0, tzinfo=STOCKHOLM).timestamp())
#: when someone else enrolled those people
FEB_2 = int(datetime.datetime(2026, 2, 2, 9, 30, tzinfo=STOCKHOLM).timestamp())
#: when one of them enrolled themselves, before that
JAN_10 = int(datetime.datetime(2026, 1, 10, 8, 0, tzinfo=STOCKHOLM).timestamp())
#: the day of the pulls (fixed, so the tests pass at any hour)
APRIL_20 = datetime.datetime(2026, 4, 20, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def made_before(site: Site, tmp_path: Path) -> list[int]:
    """Six people someone else enrolled in SOC (on 2 February 2026) who completed it before the tool's first pull (on
    15 March 2026): three with no criteria time (a completion migrated from elsewhere, or criteria changed since),
    three by their criteria. The state store that pulls is empty."""
    site.apply()
    site.state_path = tmp_path / "empty.db"  # not the store that built the courses: it knows no enrolment
    soc = course_ids(site)[SOC]
    emulator = site.emulator
    clock = emulator.now
    emulator.now = lambda: FEB_2
    try:
        ids = [emulator.add_user(f"made{n}", "Made", f"Before {n}", f"made{n}@example.se") for n in range(6)]
        for uid in ids:
            emulator.enrol_user(soc, uid)
    finally:
        emulator.now = clock
    for uid in ids[:3]:
        emulator.set_course_completion(soc, uid, MARCH_15)
    for uid in ids[3:]:
        complete(site, soc, uid, [MARCH_15 - 3600, MARCH_15])
    return ids


def dates_of(site: Site, ids: list[int]) -> dict[int, tuple[int | None, str | None]]:
    people = course_people(site, SOC)
    return {uid: (people[uid].completed_at, people[uid].completed_source) for uid in ids}


def test_a_first_pull_into_an_empty_store_gives_every_completion_moodles_day(site: Site,
                                                                             made_before: list[int]) -> None:
    """Issue 19: on a site the tool did not build, a first pull dated every completion the day of the pull."""
    make_report(site)
    result, spy = run_pull(site, report_name=NAME, now=APRIL_20)
    assert result.bulk is not None and result.bulk.dates_certain and not result.bulk.forced, result.to_dict()
    assert result.bulk.timezone == "Europe/Stockholm" and result.bulk.anchors >= len(course_ids(site)) - 3
    assert dates_of(site, made_before) == {uid: (MARCH_15, "report") for uid in made_before}
    assert calls(spy)[STATUS] <= len(course_ids(site))  # the course questions only: nobody one by one
    facts = [f for f in facts_of(site, Scope()) if f.person in made_before]
    assert {(f.completed_on, f.completed_source) for f in facts} == {(datetime.date(2026, 3, 15), "report")}
    assert {f.enrolled_since for f in facts} == {datetime.date(2026, 2, 2)}  # Moodle's, not the day of the pull
    assert "its dates were read as Moodle's, in Europe/Stockholm" in bulk_text(result)


@pytest.mark.parametrize("forced", ["America/New_York", "UTC", "Asia/Kolkata"])
def test_a_site_forcing_another_timezone_gives_moodles_day(site: Site, made_before: list[int], forced: str) -> None:
    """$CFG->forcetimezone: Moodle ignores moodlewssettingtimezone; the course dates tell which timezone it shows."""
    make_report(site)
    site.emulator.state.config.forcetimezone = forced
    late = made_before[0]
    site.emulator.set_course_completion(course_ids(site)[SOC], late, LATE)  # 00:30 on 1 April in Stockholm
    result, spy = run_pull(site, report_name=NAME, now=APRIL_20)
    assert result.bulk is not None and result.bulk.dates_certain and result.bulk.forced, result.to_dict()
    assert forced in result.bulk.timezone or "more with the same times" in result.bulk.timezone
    assert dates_of(site, made_before) == {uid: (LATE - LATE % 60 if uid == late else MARCH_15, "report")
                                           for uid in made_before}
    assert calls(spy)[STATUS] <= len(course_ids(site))
    days = {f.person: f.completed_on for f in facts_of(site, Scope()) if f.person in made_before}
    assert days[late] == datetime.date(2026, 4, 1) and days[made_before[1]] == datetime.date(2026, 3, 15)
    assert "the site forces its own timezone" in bulk_text(result)


def test_the_person_the_course_question_asks_gets_the_reports_day(dalarna: County) -> None:
    """Everyone completed without a criteria time: whoever the course question asks about must not get the day of
    the pull (it did, and the report's day then never replaced it)."""
    site = dalarna.site
    make_report(site)
    soc = dalarna.course[SOC]
    for uid in dalarna.ids:
        site.emulator.set_course_completion(soc, uid, MARCH_15)
    result, spy = run_pull(site, report_name=NAME, now=APRIL_20)
    assert result.bulk is not None and result.bulk.dates_certain, result.to_dict()
    assert [int(p["userid"]) for f, p in spy.calls if f == STATUS and int(p["courseid"]) == soc]  # it asked
    assert dates_of(site, dalarna.ids) == {uid: (MARCH_15, "report") for uid in dalarna.ids}


def test_a_later_pull_replaces_a_first_seen_day_with_the_reports(site: Site, made_before: list[int]) -> None:
    """A pull one person at a time can only give the day it first saw a completion without criteria time; the next
    pull through the report puts Moodle's day there, in the store and in the reports."""
    run_pull(site, now=APRIL_20)  # no completion report yet
    pulled = int(APRIL_20.timestamp())
    assert dates_of(site, made_before) == {**{uid: (pulled, "first_seen") for uid in made_before[:3]},
                                           **{uid: (MARCH_15, "criteria") for uid in made_before[3:]}}
    make_report(site)
    result, _ = run_pull(site, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=1))
    assert dates_of(site, made_before) == {**{uid: (MARCH_15, "report") for uid in made_before[:3]},
                                           **{uid: (MARCH_15, "criteria") for uid in made_before[3:]}}
    assert result.bulk is not None and result.bulk.upgraded == 3 and result.new_completions == 0, result.to_dict()
    facts = [f for f in facts_of(site, Scope()) if f.person in made_before]
    assert {f.completed_on for f in facts} == {datetime.date(2026, 3, 15)}
    assert "first_seen" not in {f.completed_source for f in facts}
    assert "ungefärliga" not in report(site, fmt="table")  # no report calls these dates approximate any more


def test_the_reports_first_pages_are_in_flight_while_the_courses_and_cohorts_are_read(
        dalarna: County, monkeypatch: pytest.MonkeyPatch) -> None:
    """Moodle takes longest over the report's pages (it formats every date of every row), so the pull asks for the
    first of them before it reads the site's categories, courses and cohorts, not after: those reads come while a
    page is in flight. Here each page is answered only once the cohorts' members were read."""
    site = dalarna.site
    make_report(site)
    complete(site, dalarna.course[SOC], dalarna.ids[2], [LATE - 60, LATE])
    handle = site.emulator.handle
    page_sent, cohorts_read = threading.Event(), threading.Event()
    in_flight: dict[str, bool] = {}

    def watched(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        params = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        name = params.get("wsfunction", "")
        if name == RETRIEVE and params.get("perpage") != "1":  # a page of the pass, not a look at the columns
            page_sent.set()
            cohorts_read.wait(timeout=30)
        elif name in (CATEGORIES, MEMBERS) and name not in in_flight:
            # a page asked for first is sent from another thread: it may reach Moodle a moment after the first read
            in_flight[name] = page_sent.wait(timeout=0 if in_flight else 10)
            if name == MEMBERS:
                cohorts_read.set()
        return handle(method, url, headers, body)

    monkeypatch.setattr(site.emulator, "handle", watched)
    messages: list[str] = []
    result, spy = run_pull(site, report_name=NAME, progress=messages.append)
    assert in_flight == {CATEGORIES: True, MEMBERS: True}
    assert pass_pages(spy) == 1  # the pages asked for first are not asked for again
    assert any(m.startswith("completion report: asking for page 1 of 1") for m in messages), messages
    assert result.bulk is not None and result.bulk.rows > 0 and result.new_completions == 1, result.to_dict()
    assert course_people(site, SOC)[dalarna.ids[2]].completed_at == LATE - LATE % 60


def test_a_pull_that_stops_while_pages_are_in_flight_leaves_no_thread_and_goes_on_alike(dalarna: County) -> None:
    site = dalarna.site
    make_report(site)
    complete(site, dalarna.course[SOC], dalarna.ids[2], [LATE - 60, LATE])
    site.emulator.faults.add(Fault(kind="crash", wsfunction=MEMBERS))  # the pages were asked for before
    with pytest.raises(SimulatedCrash):
        run_pull(site, report_name=NAME)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("report-page")]
    result, _ = run_pull(site, report_name=NAME)
    assert result.bulk is not None and result.bulk.resumed_at == 0 and result.new_completions == 1, result.to_dict()
    assert course_people(site, SOC)[dalarna.ids[2]].completed_at == LATE - LATE % 60


def test_a_pull_that_crashes_between_pages_goes_on_from_the_next_page(dalarna: County,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    site = dalarna.site
    make_report(site)
    monkeypatch.setattr(report_pages, "PAGE_SIZE", 4)
    soc = dalarna.course[SOC]
    for uid in dalarna.ids:
        complete(site, soc, uid, [LATE - 60, LATE])
    site.emulator.faults.add(Fault(kind="crash", wsfunction=RETRIEVE, after=5))  # 2 set-up reads, 3 pages
    with pytest.raises(SimulatedCrash):
        run_pull(site, report_name=NAME, workers=1)  # one page at a time: the crash falls on the fourth
    result, spy = run_pull(site, report_name=NAME, workers=1)
    assert result.bulk is not None and result.bulk.resumed_at == 3
    pages = [int(p["page"]) for f, p in spy.calls if f == RETRIEVE and p.get("perpage") == "4"]
    assert pages[0] == 3  # not from the first page again
    people = course_people(site, SOC)
    assert all(people[u].completed_at == LATE - LATE % 60 or people[u].completed_source == "criteria"
               for u in dalarna.ids)
    third, _ = run_pull(site, report_name=NAME)
    assert third.bulk is not None and third.bulk.resumed_at == 0 and third.new_completions == 0


def test_a_pull_reads_of_the_site_only_what_it_needs(dalarna: County) -> None:
    """The courses and cohorts, not what only a plan needs (the templates' content, the groups of courses with
    sessions, shortnames of other courses): a pull's reads run while Moodle formats the report's pages."""
    make_report(dalarna.site)
    result, spy = run_pull(dalarna.site, report_name=NAME)
    assert result.bulk is not None and (result.courses, result.people) == (6, 2 * 7), result.to_dict()  # 2 courses each
    assert calls(spy)["core_course_get_contents"] == 0 and calls(spy)["core_group_get_course_groups"] == 0
    assert calls(spy)[MEMBERS] > 0  # who is in the tool's cohorts is still read


def seen_in(site: Site, idnumber: str) -> dict[int, SeenEnrolment]:
    api = site.api()
    store = site.store(api)
    try:
        return ReportPullStore(store).seen_enrolments(idnumber)
    finally:
        store.close()


def test_a_pass_cut_short_keeps_only_the_dates_it_showed_the_same(dalarna: County,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """What the last pull read of a date stays while a new pass shows it the same (so a routine pull rewrites no
    date); one the pass shows otherwise is unknown until the pass finishes: a plan after a crash between pages must
    not take the old date for Moodle's."""
    site = dalarna.site
    make_report(site)
    monkeypatch.setattr(report_pages, "PAGE_SIZE", 4)
    soc, changed, same = dalarna.course[SOC], dalarna.ids[0], dalarna.ids[1]
    first, _ = run_pull(site, report_name=NAME, workers=1)
    assert first.bulk is not None and first.bulk.dates_certain and first.bulk.pages > 3, first.to_dict()
    before = seen_in(site, SOC)
    end = int(datetime.datetime(2026, 12, 31, tzinfo=datetime.UTC).timestamp())
    site.emulator.enrol_user(soc, changed, timeend=end)  # an admin gives someone an end date in the UI
    later = clock.now() + datetime.timedelta(minutes=1)
    # one set-up read, then the pages one at a time: the crash falls on the last (SOC's rows are on earlier ones)
    site.emulator.faults.add(Fault(kind="crash", wsfunction=RETRIEVE, after=first.bulk.pages))
    with pytest.raises(SimulatedCrash):
        run_pull(site, report_name=NAME, workers=1, now=later)
    during = seen_in(site, SOC)
    stamp = later.isoformat(timespec="seconds")
    assert during[changed].seen_at == stamp and during[changed].end is None  # shown otherwise: not known yet
    assert during[same].seen_at == stamp and (during[same].start, during[same].end) == (before[same].start,
                                                                                       before[same].end)
    assert before[same].start is not None
    result, _ = run_pull(site, report_name=NAME, workers=1, now=later)
    assert result.bulk is not None and result.bulk.resumed_at == first.bulk.pages - 1, result.to_dict()
    assert seen_in(site, SOC)[changed].end == end


def test_plan_shows_enrolments_changed_in_moodle_and_the_rules_decide(dalarna: County) -> None:
    site = dalarna.site
    make_report(site)
    soc = dalarna.course[SOC]
    end = int(datetime.datetime(2026, 12, 31, tzinfo=datetime.UTC).timestamp())
    site.emulator.enrol_user(soc, dalarna.ids[0], suspended=True)  # an admin suspends someone in the UI
    site.emulator.enrol_user(soc, dalarna.ids[1], timeend=end)  # and gives someone else an end date
    later = clock.now() + datetime.timedelta(minutes=1)
    result, _ = run_pull(site, report_name=NAME, now=later)
    assert result.bulk is not None and result.bulk.dates_certain, result.to_dict()
    plan, _ = site.plan()
    notes = " ".join(n.message for n in plan.notes)
    assert f"{SOC}: 2 enrolment(s) the tool made were changed in Moodle" in notes
    assert "suspended in Moodle" in notes and "end none → 2026-12-31 01:00" in notes
    sync = next(a for a in plan.actions if getattr(a, "idnumber", None) == SOC)
    assert [i.userid for i in sync.reactivate] == [dalarna.ids[0]]  # type: ignore[attr-defined]
    assert [i.userid for i in sync.redate] == [dalarna.ids[1]]  # type: ignore[attr-defined]
    site.apply()
    assert site.emulator.enrolment(soc, dalarna.ids[1]) == {"status": 0, "timestart": 0, "timeend": 0}
    assert site.emulator.enrolment(soc, dalarna.ids[0])["status"] == 0  # type: ignore[index]
    run_pull(site, report_name=NAME, now=later + datetime.timedelta(minutes=1))  # Moodle now shows what was sent
    again, _ = site.plan()
    assert not any(getattr(a, "idnumber", None) == SOC for a in again.actions)
    assert "changed in Moodle" not in " ".join(n.message for n in again.notes)




def test_a_lost_answer_while_shaping_the_report_adds_no_column_twice(dalarna: County,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding a column is not idempotent: a lost answer is settled by reading the report, never sent again
    (it stopped the pull before)."""
    monkeypatch.setattr(settle_module, "LOST_ANSWER_WAIT", 0.0)
    site = dalarna.site
    report = make_report(site)
    site.emulator.faults.add(Fault(kind="lost", wsfunction="core_reportbuilder_columns_add", after=1))
    complete(site, dalarna.course[SOC], dalarna.ids[3], [LATE - 600, LATE])
    result, spy = run_pull(site, report_name=NAME)
    assert result.bulk is not None, result.to_dict()  # the pull went on through the report
    assert calls(spy)["core_reportbuilder_columns_add"] == len(COLUMNS)  # the lost one was not sent again
    headers = site.api().retrieve_report(report, 0, 1).data.headers
    assert Counter(headers) == Counter(COLUMNS.values())  # each column once (the course dates' after the pass)
    assert course_people(site, SOC)[dalarna.ids[3]].completed_at == LATE - LATE % 60


def self_enrolled_on(site: Site, courseid: int, userid: int, when: int) -> None:
    """The person enrolled themselves in the course at ``when`` (Unix time)."""
    clock = site.emulator.now
    site.emulator.now = lambda: when
    try:
        site.emulator.self_enrol(courseid, userid)
    finally:
        site.emulator.now = clock


def test_a_person_enrolled_twice_counts_from_the_earlier_enrolment_across_pages(site: Site, made_before: list[int],
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone who enrolled themselves before an admin enrolled them manually: the report has a row for each method,
    and at some page size they fall on two pages; the enrolment counts from the earlier one, and the manual one's
    status and start stay known (a later page's row of the other method wiped them)."""
    make_report(site)
    soc, twice = course_ids(site)[SOC], made_before[1]
    self_enrolled_on(site, soc, twice, JAN_10)
    for size in (2, 3, 4, 5):  # the person's two rows are on two pages at one of these at least
        monkeypatch.setattr(report_pages, "PAGE_SIZE", size)
        result, _ = run_pull(site, report_name=NAME, now=APRIL_20)
        assert result.bulk is not None and result.bulk.dates_certain, result.to_dict()
        facts = {f.person: f.enrolled_since for f in facts_of(site, Scope()) if f.person in made_before}
        assert facts[twice] == datetime.date(2026, 1, 10) and facts[made_before[0]] == datetime.date(2026, 2, 2)
        api = site.api()
        store = site.store(api)
        try:
            seen = ReportPullStore(store).seen_enrolments(SOC)
        finally:
            store.close()
        assert twice in seen, f"page size {size}: the manual enrolment's row was forgotten"
        assert (seen[twice].status, seen[twice].start) == ("active", FEB_2)


def test_a_routine_pass_reads_again_only_the_dates_shown_otherwise(site: Site, made_before: list[int],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A pass that finds, on a sample of its anchors, the timezone the last pass read its dates in reads again only
    the people with a date shown otherwise or not read yet: someone the tool did not enrol who turns out to have
    enrolled themselves earlier counts from then, and a new completion gets Moodle's time; everyone else keeps what
    was read."""
    make_report(site)
    monkeypatch.setattr(pass_dates, "CONFIRM_SAMPLE", 3)
    soc, twice = course_ids(site)[SOC], made_before[1]
    first, _ = run_pull(site, report_name=NAME, now=APRIL_20)
    assert first.bulk is not None and first.bulk.dates_certain, first.to_dict()
    self_enrolled_on(site, soc, twice, JAN_10)
    late = site.emulator.add_user("late", "Late", "Comer", "late@example.se")
    site.emulator.enrol_user(soc, late)
    site.emulator.set_course_completion(soc, late, LATE)
    second, _ = run_pull(site, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=1))
    assert second.bulk is not None and second.bulk.dates_certain, second.to_dict()
    # checked on a sample: the first pass's course dates and fewer than the six completions it read since
    assert second.bulk.anchors < first.bulk.anchors + len(made_before), (first.to_dict(), second.to_dict())
    facts = {f.person: f for f in facts_of(site, Scope()) if f.person in [*made_before, late]}
    assert facts[twice].enrolled_since == datetime.date(2026, 1, 10)
    assert {facts[uid].enrolled_since for uid in made_before if uid != twice} == {datetime.date(2026, 2, 2)}
    assert dates_of(site, [*made_before, late]) == {**{uid: (MARCH_15, "report") for uid in made_before},
                                                    late: (LATE - LATE % 60, "report")}


def test_completions_a_course_shows_before_it_is_tracked_are_kept_once_it_is(dalarna: County) -> None:
    """A course without criteria is not tracked until the next sweep: completions the report shows meanwhile (a
    migration set them) are read but not kept, and the pass at the sweep keeps them with Moodle's time although the
    report shows them as before."""
    site, ids = dalarna.site, dalarna.ids
    make_report(site)
    nck = dalarna.course[NCK]
    first, _ = run_pull(site, report_name=NAME)
    assert first.not_tracked == [NCK] and first.bulk is not None and first.bulk.dates_certain, first.to_dict()
    site.api().import_course(dalarna.course["mall-hrv-socialtjanst"], nck)  # criteria added in Moodle
    for uid in ids[:3]:
        site.emulator.set_course_completion(nck, uid, LATE)
    routine, _ = run_pull(site, report_name=NAME)
    assert routine.not_tracked == [NCK] and routine.bulk is not None and routine.bulk.dates_certain
    assert {uid: p.completed_at for uid, p in course_people(site, NCK).items() if uid in ids[:3]} == \
        dict.fromkeys(ids[:3])
    swept, _ = run_pull(site, report_name=NAME, now=clock.now() + datetime.timedelta(days=8))
    assert swept.not_tracked == [] and swept.bulk is not None and swept.bulk.dates_certain, swept.to_dict()
    people = course_people(site, NCK)
    assert {uid: people[uid].completed_at for uid in ids[:3]} == dict.fromkeys(ids[:3], LATE - LATE % 60)


def test_a_report_mostly_of_other_courses_is_read_and_the_pull_says_how_to_leave_them_out(dalarna: County) -> None:
    """On a site that ran other training before the programme, the "Course participants" report lists every course's
    people: Moodle formats them all on every pull. The pull keeps only the managed courses' people and says what a
    condition in the report builder saves; while other courses are a small part of the report it says nothing."""
    site = dalarna.site
    make_report(site)
    first, _ = run_pull(site, report_name=NAME)
    assert first.bulk is not None and first.bulk.other_rows * 4 < first.bulk.rows, first.to_dict()  # the templates
    assert "does not manage" not in bulk_text(first)
    other = site.emulator.add_course("Arbetsmiljö", "arbetsmiljo", 1, "arbetsmiljo-2019")
    for n in range(first.bulk.rows):
        site.emulator.enrol_user(other, site.emulator.add_user(f"other{n}", "Other", f"Staff {n}", f"o{n}@example.se"))
    result, _ = run_pull(site, report_name=NAME)
    assert result.bulk is not None and result.bulk.other_rows >= first.bulk.other_rows + first.bulk.rows  # (+ methods)
    assert f"{result.bulk.other_rows} of its rows are of courses moodle-sync does not manage" in bulk_text(result)
    assert "Course category > Select category" in bulk_text(result)
    assert course_people(site, "arbetsmiljo-2019") == {}  # read past, not kept
    assert set(course_people(site, SOC)) == set(course_people(site, SOC)) & set(dalarna.ids)


def routine(dalarna: County, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulls until the next one is routine: the report shaped and sorted, its course date columns gone once three
    completions tell the timezone of its dates (instead of ten: seven people here)."""
    site = dalarna.site
    monkeypatch.setattr(report_setup, "ENOUGH_ANCHORS", 3)
    for uid in dalarna.ids[:3]:
        complete(site, dalarna.course[SOC], uid, [LATE - 3600, LATE - 3000])
    for _ in range(3):
        run_pull(site, report_name=NAME)
        api = site.api()
        store = site.store(api)
        try:
            saved = ReportPullStore(store)
            last = saved.last_pass()
            columns, sorted_ = saved.report_columns(last[0]) if last else ({}, False)
        finally:
            store.close()
        if last and (sorted_ or not columns) and not any(uid in columns for uid in report_setup.DATE_COLUMNS):
            return
    raise AssertionError("three pulls left the report with its course date columns")


@pytest.mark.parametrize("shaped_by", ["moodle-sync", "an admin"])
def test_a_routine_pull_asks_for_the_reports_pages_before_it_looks_at_the_report(
        dalarna: County, monkeypatch: pytest.MonkeyPatch, shaped_by: str) -> None:
    """A routine pull asks for the pages the last pass read (of its row count, with room) before it lists the
    reports and looks at the columns: Moodle formats them meanwhile; whether the tool added the report's columns or
    an admin did. Here the list is answered only once a page of the pass reached Moodle; the page is read once and a
    completion made since is read with Moodle's time."""
    site = dalarna.site
    reportid = make_report(site)
    if shaped_by == "an admin":
        api = site.api()
        for uid in report_setup.COLUMNS:
            if uid not in report_setup.DATE_COLUMNS:
                api.add_report_column(reportid, uid)
    routine(dalarna, monkeypatch)
    complete(site, dalarna.course[SOC], dalarna.ids[4], [LATE - 60, LATE])
    handle = site.emulator.handle
    page_sent = threading.Event()
    listed_after_page: list[bool] = []

    def watched(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        params = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        name = params.get("wsfunction", "")
        if name == RETRIEVE and params.get("perpage") != "1":
            page_sent.set()
        elif name == "core_reportbuilder_list_reports":
            listed_after_page.append(page_sent.wait(timeout=10))
        return handle(method, url, headers, body)

    monkeypatch.setattr(site.emulator, "handle", watched)
    messages: list[str] = []
    result, spy = run_pull(site, report_name=NAME, progress=messages.append)
    assert listed_after_page == [True]
    assert pass_pages(spy) == 1 and calls(spy)["core_reportbuilder_columns_add"] == 0
    assert any("as the last pull read it, while the report is looked at" in m for m in messages), messages
    assert result.bulk is not None and result.bulk.dates_certain and result.new_completions == 1, result.to_dict()
    assert course_people(site, SOC)[dalarna.ids[4]].completed_at == LATE - LATE % 60


def test_pages_asked_early_of_a_report_an_admin_changed_are_not_read(dalarna: County,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin deleted a column the pull reads since the last pull: the pages asked for early show the report
    without it, so the pull adds the column again and reads the report anew; what the early pages showed is not
    kept, and the pull is as right as any."""
    site = dalarna.site
    reportid = make_report(site)
    routine(dalarna, monkeypatch)
    api = site.api()
    store = site.store(api)
    try:
        columns, _ = ReportPullStore(store).report_columns(reportid)
    finally:
        store.close()
    api.delete_report_column(reportid, columns["completion:timecompleted"])
    complete(site, dalarna.course[SOC], dalarna.ids[5], [LATE - 60, LATE])
    messages: list[str] = []
    result, spy = run_pull(site, report_name=NAME, progress=messages.append)
    assert calls(spy)["core_reportbuilder_columns_add"] == 1
    assert any("not of the report as it is now; asking again" in m for m in messages), messages
    assert pass_pages(spy) == 2  # the early page, in vain, and the page of the report as it is now
    assert result.bulk is not None and result.bulk.dates_certain and result.new_completions == 1, result.to_dict()
    assert course_people(site, SOC)[dalarna.ids[5]].completed_at == LATE - LATE % 60
    again, spy = run_pull(site, report_name=NAME)
    assert pass_pages(spy) == 1 and again.new_completions == 0


def test_the_completed_column_an_earlier_version_added_is_deleted_and_an_admins_is_left(dalarna: County) -> None:
    """Earlier versions read "Completed" beside "Time completed", which says the same (Moodle's column is
    ``timecompleted > 0``) and which Moodle formatted on every row. A pull deletes the one the tool added (its id in
    the store) and reads completions from the time alone; one an admin added is left where it is, unread."""
    site = dalarna.site
    reportid = make_report(site)
    soc = dalarna.course[SOC]
    run_pull(site, report_name=NAME)
    api = site.api()
    added = report_setup.added_id(api.add_report_column(reportid, "completion:completed"))  # as earlier versions
    store = site.store(api)
    try:
        saved = ReportPullStore(store)
        columns, sorted_ = saved.report_columns(reportid)
        saved.set_report_columns(reportid, {**columns, "completion:completed": added}, sorted_)
    finally:
        store.close()
    complete(site, soc, dalarna.ids[6], [LATE - 60, LATE])
    result, spy = run_pull(site, report_name=NAME)
    assert calls(spy)["core_reportbuilder_columns_delete"] == 1
    assert "Completed" not in api.retrieve_report(reportid, 0, 1).data.headers
    assert result.bulk is not None and result.bulk.dates_certain and result.new_completions == 1, result.to_dict()
    people = course_people(site, SOC)
    assert people[dalarna.ids[6]].completed_at == LATE - LATE % 60
    assert [uid for uid, p in people.items() if p.completed_at is not None] == [dalarna.ids[6]]

    api.add_report_column(reportid, "completion:completed")  # an admin's
    complete(site, soc, dalarna.ids[0], [LATE - 120, LATE - 60])
    again, spy = run_pull(site, report_name=NAME)
    assert calls(spy)["core_reportbuilder_columns_delete"] == 0
    assert "Completed" in api.retrieve_report(reportid, 0, 1).data.headers
    assert again.bulk is not None and again.bulk.dates_certain and again.new_completions == 1, again.to_dict()
    assert course_people(site, SOC)[dalarna.ids[0]].completed_at == (LATE - 60) - (LATE - 60) % 60


def test_a_page_that_comes_before_the_one_ahead_of_it_is_read_meanwhile_and_saved_in_its_turn(
        dalarna: County, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pages are formatted side by side and either may come first. The second, when it comes first, is turned into
    the store's rows while the first is still formatted, and saved after it: here Moodle answers the first page only
    once the pull has turned the second. The pull is as right as one whose pages came in order."""
    site = dalarna.site
    make_report(site)
    monkeypatch.setattr(report_pages, "PAGE_SIZE", 6)
    soc = dalarna.course[SOC]
    for n, uid in enumerate(dalarna.ids):
        complete(site, soc, uid, [LATE - 600 - 60 * n, LATE - 60 * n])
    in_order, _ = run_pull(site, report_name=NAME, workers=2)  # the first pull: shapes the report, reads the dates
    in_order, _ = run_pull(site, report_name=NAME, workers=2)
    assert in_order.bulk is not None and in_order.bulk.pages >= 2, in_order.to_dict()
    expected = {uid: (p.completed_at, p.completed_source, p.status) for uid, p in course_people(site, SOC).items()}

    turned, first_held = threading.Event(), threading.Event()
    page_rows = bulk._page_rows

    def spied(*args: object, **kwargs: object) -> list[object]:
        if first_held.is_set():
            turned.set()  # a page turned while the first is held back: the second
        return page_rows(*args, **kwargs)  # type: ignore[arg-type]

    handle = site.emulator.handle
    released: list[bool] = []

    def watched(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        params = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        if params.get("wsfunction") == RETRIEVE and params.get("perpage") != "1" and params.get("page") == "0":
            first_held.set()
            released.append(turned.wait(timeout=10))
            first_held.clear()
        return handle(method, url, headers, body)

    monkeypatch.setattr(bulk, "_page_rows", spied)
    monkeypatch.setattr(site.emulator, "handle", watched)
    out_of_order, _ = run_pull(site, report_name=NAME, workers=2)
    assert released == [True]
    assert out_of_order.bulk is not None and in_order.bulk is not None
    assert (out_of_order.bulk.pages, out_of_order.bulk.rows, out_of_order.bulk.other_rows) == \
        (in_order.bulk.pages, in_order.bulk.rows, in_order.bulk.other_rows)
    assert out_of_order.bulk.dates_certain and out_of_order.new_completions == 0, out_of_order.to_dict()
    assert {uid: (p.completed_at, p.completed_source, p.status)
            for uid, p in course_people(site, SOC).items()} == expected
    assert all(expected[uid][0] == LATE - 60 * n - (LATE - 60 * n) % 60 for n, uid in enumerate(dalarna.ids))
