"""With the completion report set up, a pull reads who is enrolled from the report too (issue 25).

The report's rows say each enrolment's course, method and status; the "Full name with link" column names the person
by the id in its profile link, so a pull reads no core_enrol_get_enrolled_users and looks nobody up. What it stores
is what the per-person path (core_enrol_get_enrolled_users and one question per person) stores.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from moodle_sync.completions import bulk, report_pages
from moodle_sync.completions.pull import pull
from moodle_sync.emulator import Emulator
from moodle_sync.emulator.moodlelib.reportbuilder_columns import PARTICIPANTS
from moodle_sync.jobs.site import connect
from moodle_sync.store.completions import CoursePerson

from .conftest import TOKEN, URL, Site, seed_templates
from .test_completions import SOC, County, complete, course_ids, course_people, import_county, now_s, run_pull
from .test_rosters import person

ENROLLED = "core_enrol_get_enrolled_users"
LOOKUP = "core_user_get_users_by_field"
RETRIEVE = "core_reportbuilder_retrieve_report"
STATUS = "core_completion_get_course_completion_status"
NAME = "moodle-sync"


@pytest.fixture(params=["4.5", "4.3"])
def county(request: pytest.FixtureRequest, tmp_path: Path) -> County:
    """Seven social workers in Dalarna enrolled by the rules, on Moodle 4.5 and 4.3 (whose report says "No" where
    4.5 shows nothing), with the completion report an admin made; two completed, one suspended in Moodle's UI, and
    one person enrolled in SOC by an admin, whom the tool never saw."""
    site = Site(tmp_path)
    site.emulator = Emulator(token=TOKEN, moodle=request.param)
    site.seeded = seed_templates(site.emulator, site.specs())
    site.apply()
    rows = [person(n) for n in range(7)]
    ids = import_county(site, tmp_path, rows, "W")
    courses = course_ids(site)
    site.emulator.given({"kind": "custom_report", "name": NAME, "source": PARTICIPANTS, "default_setup": False})
    now = now_s()
    complete(site, courses[SOC], ids[1], [now - 7200, now - 3600])
    complete(site, courses[SOC], ids[2], [now - 7200, now - 3600])
    api = site.api()
    api.client.call("enrol_manual_enrol_users", {"enrolments": [
        {"roleid": 5, "userid": ids[4], "courseid": courses[SOC], "suspend": 1}]})
    newcomer = api.client.call("core_user_create_users", {"users": [
        {"username": "self.enrolled", "firstname": "Själv", "lastname": "Anmäld", "email": "self@falun.example.se",
         "auth": "manual", "password": "Lab-pass-1!"}]})[0]["id"]
    api.client.call("enrol_manual_enrol_users", {"enrolments": [
        {"roleid": 5, "userid": newcomer, "courseid": courses[SOC]}]})
    return County(site, rows, ids + [newcomer], courses, tmp_path)


def _roster(people: dict[int, CoursePerson]) -> dict[int, tuple[str, bool]]:
    return {uid: (p.status, p.completed_at is not None) for uid, p in people.items()}


def test_a_pull_with_the_report_reads_no_enrolled_users_and_stores_what_the_old_path_stores(county: County) -> None:
    site = county.site
    result, spy = run_pull(site, report_name=NAME)
    counts = Counter(f for f, _ in spy.calls)
    assert result.bulk is not None and result.bulk.dates_certain, result.to_dict()
    assert counts[ENROLLED] == 0 and counts[LOOKUP] == 0, counts
    with_report = {idn: _roster(course_people(site, idn)) for idn in county.course}

    site.state_path = county.tmp / "old-path.db"  # a second store: the per-person path, without the report
    old, spy = run_pull(site)
    assert Counter(f for f, _ in spy.calls)[ENROLLED] > 0 and old.bulk is None
    assert {idn: _roster(course_people(site, idn)) for idn in county.course} == with_report
    soc = with_report[SOC]
    assert soc[county.ids[4]] == ("suspended", False) and soc[county.ids[1]] == ("active", True)
    assert soc[county.ids[-1]] == ("active", False)  # the newcomer, named by the link alone
    assert result.people == old.people


def test_people_the_link_does_not_name_are_looked_up_once_per_page(county: County,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A customised "Full name with link" whose link carries no id: a page's new usernames are looked up in one
    batched call (core_user_get_users_by_field), never one per person, and what is stored is the same."""
    site = county.site
    run_pull(site, report_name=NAME)
    named = {idn: _roster(course_people(site, idn)) for idn in county.course}
    site.state_path = county.tmp / "unlinked.db"
    monkeypatch.setattr(bulk, "PROFILE_ID", re.compile(r"(?!)(\d+)"))
    result, spy = run_pull(site, report_name=NAME)
    counts = Counter(f for f, _ in spy.calls)
    assert result.bulk is not None and result.bulk.looked_up == len(county.ids)
    assert 1 <= counts[LOOKUP] <= result.bulk.pages < len(county.ids) and counts[ENROLLED] == 0, counts
    assert {idn: _roster(course_people(site, idn)) for idn in county.course} == named


def test_an_unchanged_routine_pull_reads_the_report_alone(county: County) -> None:
    site = county.site
    first, spy = run_pull(site, report_name=NAME)
    first_calls = Counter(f for f, _ in spy.calls)
    before = {idn: course_people(site, idn) for idn in county.course}
    again, spy = run_pull(site, report_name=NAME)
    counts = Counter(f for f, _ in spy.calls)
    assert counts[ENROLLED] == counts[STATUS] == counts[LOOKUP] == 0, counts
    assert sum(counts.values()) < sum(first_calls.values())
    assert again.new_completions == 0 and again.people == first.people
    after = {idn: course_people(site, idn) for idn in county.course}
    assert {idn: _roster(p) for idn, p in after.items()} == {idn: _roster(p) for idn, p in before.items()}


def test_someone_unenrolled_in_moodle_is_gone_after_the_next_pull(county: County) -> None:
    site = county.site
    run_pull(site, report_name=NAME)
    site.api().client.call("enrol_manual_unenrol_users", {"enrolments": [
        {"userid": county.ids[3], "courseid": county.course[SOC]}]})
    _, spy = run_pull(site, report_name=NAME)
    assert Counter(f for f, _ in spy.calls)[ENROLLED] == 0
    assert course_people(site, SOC)[county.ids[3]].status == "gone"


def test_a_report_of_many_pages_read_a_few_at_a_time_gives_the_same(county: County,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    site = county.site
    run_pull(site, report_name=NAME)
    whole = {idn: _roster(course_people(site, idn)) for idn in county.course}
    site.state_path = county.tmp / "paged.db"
    monkeypatch.setattr(report_pages, "PAGE_SIZE", 3)
    result, spy = run_pull(site, report_name=NAME)
    pages = sorted(int(p["page"]) for f, p in spy.calls if f == RETRIEVE and p["perpage"] == "3")
    assert result.bulk is not None and pages == list(range(result.bulk.pages)) and result.bulk.pages > 3
    assert {idn: _roster(course_people(site, idn)) for idn in county.course} == whole


def test_a_report_that_changes_under_every_read_falls_back_to_enrolled_users_and_says_why(
        county: County, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone is enrolled after every page read (twice in a row the pass sees other rows than it began with): whose
    rows are whose is unsure, so who is enrolled comes from core_enrol_get_enrolled_users, and the pull says why."""
    site = county.site
    monkeypatch.setattr(report_pages, "PAGE_SIZE", 5)
    api = site.api()
    spare = [u["id"] for u in api.client.call("core_user_create_users", {"users": [
        {"username": f"late{n}", "firstname": "Sen", "lastname": f"Anmäld{n}", "email": f"late{n}@falun.example.se",
         "auth": "manual", "password": "Lab-pass-1!"} for n in range(12)]})]
    calls: list[str] = []

    def handle(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        answer = site.emulator.handle(method, url, headers, body)
        params = parse_qs(body.decode("utf-8"))
        calls.append(params.get("wsfunction", [""])[0])
        if calls[-1] == RETRIEVE and params.get("perpage") == ["5"] and spare:
            site.emulator.enrol_user(county.course[SOC], spare.pop())
        return answer

    said: list[str] = []
    store = site.store(api)
    try:
        result = pull(connect(URL, TOKEN, mount=handle, retries=2), site.specs(), store, report_name=NAME,
                      progress=said.append)
    finally:
        store.close()
    assert result.bulk is not None and result.bulk.changed_while_read
    assert Counter(calls)[ENROLLED] > 0
    assert any("from core_enrol_get_enrolled_users: the completion report's rows changed while it was read" in m
               for m in said), said
    enrolled_now = {u.id for u in site.api().enrolled_users(county.course[SOC], only_active=False)}
    assert {uid for uid, p in course_people(site, SOC).items() if p.status != "gone"} == enrolled_now
