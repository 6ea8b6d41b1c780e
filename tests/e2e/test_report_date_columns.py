"""Issue 25: the completion report's course dates only while a pull needs them, and pages of equal size.

The course start and end dates are read only to find the timezone of the report's dates, while the store holds too
few completions and enrolments an earlier pull read (their times are known, and the report shows them again): a
first pull adds the two columns after its pass and reads them from the first row of each course (formatted on every
row of the pass, they cost a third of Moodle's time for the report); the next pull deletes the columns the tool
added (core_reportbuilder_columns_delete), never an admin's, once the store's anchors find the timezone alone.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from pathlib import Path

import pytest

from moodle_sync.completions import report_pages
from moodle_sync.completions.pull import pull
from moodle_sync.completions.report_setup import COLUMNS, DATE_COLUMNS, ENOUGH_ANCHORS
from moodle_sync.jobs.site import connect
from moodle_sync.moodle.functions import MoodleApi

from .conftest import Site
from .test_bulk_pull import APRIL_20, LATE, NAME, RETRIEVE, STATUS, calls, make_report
from .test_completions import SOC, course_ids, course_people, run_pull

ADD, DELETE = "core_reportbuilder_columns_add", "core_reportbuilder_columns_delete"
DATES = {COLUMNS[uid] for uid in DATE_COLUMNS}
ENROLLED = int(datetime.datetime(2025, 1, 5, 9, 0, tzinfo=datetime.UTC).timestamp())


def completed_at(n: int) -> int:
    """A completion time in month ``n`` of 2025 (both sides of the clock changes), not on a whole minute."""
    return int(datetime.datetime(2025, 1 + n % 12, 3 + n, 6 + n, 5 * n, 17, tzinfo=datetime.UTC).timestamp())


@pytest.fixture
def completed(site: Site, tmp_path: Path) -> list[int]:
    """More people than ENOUGH_ANCHORS whom someone else enrolled in SOC and who completed it during 2025; the state
    store that pulls is empty (it knows no enrolment of the tool's, so completions are its only anchors later)."""
    site.apply()
    site.state_path = tmp_path / "empty.db"
    soc = course_ids(site)[SOC]
    emulator = site.emulator
    clock = emulator.now
    emulator.now = lambda: ENROLLED
    try:
        ids = [emulator.add_user(f"done{n}", "Done", f"Before {n}", f"done{n}@example.se")
               for n in range(ENOUGH_ANCHORS + 2)]
        for uid in ids:
            emulator.enrol_user(soc, uid)
    finally:
        emulator.now = clock
    for n, uid in enumerate(ids):
        emulator.set_course_completion(soc, uid, completed_at(n))
    return ids


def headers(site: Site, report: int) -> list[str]:
    return site.api().retrieve_report(report, 0, 1).data.headers


def stored(site: Site) -> dict[int, tuple[int | None, str | None, str]]:
    return {uid: (p.completed_at, p.completed_source, p.enrolled_since) for uid, p in course_people(site, SOC).items()}


def expected(ids: list[int]) -> dict[int, tuple[int | None, str | None]]:
    return {uid: (completed_at(n) - completed_at(n) % 60, "report") for n, uid in enumerate(ids)}


def test_the_first_pull_reads_the_course_dates_from_one_row_each_and_the_next_deletes_them(
        site: Site, completed: list[int]) -> None:
    report = make_report(site)
    first, spy = run_pull(site, report_name=NAME, now=APRIL_20)
    assert calls(spy)[ADD] == len(COLUMNS) and calls(spy)[DELETE] == 0
    assert first.bulk is not None and first.bulk.dates_certain and not first.bulk.forced, first.to_dict()
    assert set(headers(site, report)) >= DATES
    # the columns are added once the pass's pages were read without them; then one row of each course is read
    added = max(n for n, (f, _) in enumerate(spy.calls) if f == ADD)
    pages = [n for n, (f, p) in enumerate(spy.calls) if f == RETRIEVE and p["perpage"] != "1"]
    one_row = [p for n, (f, p) in enumerate(spy.calls) if f == RETRIEVE and p["perpage"] == "1" and n > added]
    assert pages and max(pages) < added and 0 < len(one_row) <= len(course_ids(site)) + 1, spy.calls
    after_first = stored(site)
    assert {uid: after_first[uid][:2] for uid in completed} == expected(completed)

    second, spy = run_pull(site, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=1))
    assert calls(spy)[DELETE] == len(DATE_COLUMNS) and calls(spy)[ADD] == 0
    assert not DATES & set(headers(site, report))
    assert second.bulk is not None and second.bulk.dates_certain and not second.bulk.forced, second.to_dict()
    assert second.bulk.timezone == "Europe/Stockholm"
    assert stored(site) == after_first  # exactly the same completions, days and enrolment days
    assert calls(spy)[STATUS] <= len(course_ids(site))  # the course questions only: nobody one by one

    third, spy = run_pull(site, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=2))
    assert calls(spy)[DELETE] == 0 and calls(spy)[ADD] == 0  # the report keeps its shape
    assert third.bulk is not None and third.bulk.dates_certain and stored(site) == after_first


def test_a_site_forcing_a_timezone_is_read_from_completions_alone(site: Site, completed: list[int]) -> None:
    """$CFG->forcetimezone: without the course dates, the completions the store holds tell which timezone the report
    shows, and a new completion gets Moodle's time without asking one by one."""
    report = make_report(site)
    site.emulator.state.config.forcetimezone = "America/New_York"
    first, _ = run_pull(site, report_name=NAME, now=APRIL_20)
    assert first.bulk is not None and first.bulk.dates_certain and first.bulk.forced, first.to_dict()
    late = site.emulator.add_user("late", "Late", "Comer", "late@example.se")
    soc = course_ids(site)[SOC]
    site.emulator.enrol_user(soc, late)
    site.emulator.set_course_completion(soc, late, LATE)  # 00:30 on 1 April in Stockholm, 18:30 in New York
    second, spy = run_pull(site, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=1))
    assert calls(spy)[DELETE] == len(DATE_COLUMNS) and not DATES & set(headers(site, report))
    assert second.bulk is not None and second.bulk.dates_certain and second.bulk.forced, second.to_dict()
    assert "America/New_York" in second.bulk.timezone or "more with the same times" in second.bulk.timezone
    people = course_people(site, SOC)
    assert (people[late].completed_at, people[late].completed_source) == (LATE - LATE % 60, "report")
    assert {uid: (people[uid].completed_at, people[uid].completed_source) for uid in completed} == expected(completed)
    assert late not in spy.asked(soc)


def test_a_column_an_admin_added_is_never_deleted(site: Site, completed: list[int]) -> None:
    report = make_report(site)
    site.api().add_report_column(report, "course:startdate")  # an admin's, before the tool shaped the report
    first, _ = run_pull(site, report_name=NAME, now=APRIL_20)
    assert first.bulk is not None and first.bulk.dates_certain, first.to_dict()
    _, spy = run_pull(site, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=1))
    assert calls(spy)[DELETE] == 1  # the end date, which the tool added
    shown = Counter(headers(site, report))
    assert shown[COLUMNS["course:startdate"]] == 1 and shown[COLUMNS["course:enddate"]] == 0
    assert {uid: stored(site)[uid][:2] for uid in completed} == expected(completed)


def test_a_service_without_columns_delete_keeps_them_and_says_why(site: Site, completed: list[int],
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    report = make_report(site)
    limited = "nodelete0123456789abcdef01234567"
    site.emulator.add_token(limited, functions=[*MoodleApi.FUNCTIONS, *MoodleApi.REPORT_FUNCTIONS])
    for day in (0, 1):
        api = connect("https://moodle.test", limited, mount=site.emulator.handle, retries=2)
        store = site.store(api)
        try:
            with caplog.at_level(logging.INFO, logger="moodle_sync"):
                result = pull(api, site.specs(), store, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=day))
        finally:
            store.close()
        assert result.bulk is not None and result.bulk.dates_certain, result.to_dict()
    assert set(headers(site, report)) >= DATES
    assert f"the token's service lacks {DELETE}" in caplog.text
    assert {uid: stored(site)[uid][:2] for uid in completed} == expected(completed)


def test_a_pull_after_the_store_is_lost_adds_them_back(site: Site, completed: list[int], tmp_path: Path) -> None:
    report = make_report(site)
    run_pull(site, report_name=NAME, now=APRIL_20)
    run_pull(site, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=1))
    assert not DATES & set(headers(site, report))
    site.state_path = tmp_path / "lost.db"
    result, spy = run_pull(site, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=2))
    assert calls(spy)[ADD] == len(DATE_COLUMNS) and set(headers(site, report)) >= DATES
    assert result.bulk is not None and result.bulk.dates_certain, result.to_dict()
    assert {uid: stored(site)[uid][:2] for uid in completed} == expected(completed)


def test_pages_are_of_equal_size_and_a_multiple_of_the_workers(site: Site, completed: list[int],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """No small page is left to be read alone at the end (issue 25: 20 000 + 20 000 + 1 319 rows)."""
    assert report_pages.page_size_for(41319, 2) == 20660  # the lab's report: two pages
    report = make_report(site)
    run_pull(site, report_name=NAME, now=APRIL_20)  # shapes the report
    rows = site.api().retrieve_report(report, 0, 1).data.totalrowcount
    monkeypatch.setattr(report_pages, "SPLIT_FROM", 1)
    monkeypatch.setattr(report_pages, "PAGE_SIZE", rows // 2 - 1)  # three pages would do; four of equal size are read
    result, spy = run_pull(site, report_name=NAME, now=APRIL_20 + datetime.timedelta(days=1), workers=2)
    pages = [(int(p["page"]), int(p["perpage"])) for f, p in spy.calls if f == RETRIEVE and p["perpage"] != "1"]
    sizes = {size for _, size in pages}
    assert len(sizes) == 1 and len(pages) == 4 and sorted(page for page, _ in pages) == [0, 1, 2, 3], pages
    size = sizes.pop()
    assert size <= report_pages.PAGE_SIZE and 4 * size - rows < 4  # every page within a row of the others
    assert result.bulk is not None and result.bulk.pages == 4 and result.bulk.rows == rows
