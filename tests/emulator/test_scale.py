"""A programme-sized site stays fast: the emulator answers a programme's reads and writes (national scale: 500
courses, 60 000 users, 150 000 enrolments, benchmarks/bench_national.py prints the times) from its indexes, never by
going through every row of a table. Whether a call scans is counted, not timed: a scan is one at any size."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from moodle_sync.emulator import Emulator, serve
from moodle_sync.emulator.model.tables import Table

from .conftest import TOKEN, Caller

COURSES, USERS, PER_COURSE = 50, 6000, 300


@pytest.fixture(scope="module")
def big() -> tuple[Emulator, list[int], list[int]]:
    emulator = Emulator(token=TOKEN, now=lambda: 1_800_000_000)
    cat = emulator.add_category("Program")
    courses = [emulator.add_course(f"Kurs {i}", f"K{i}", cat, f"k{i}@1") for i in range(COURSES)]
    users = [emulator.add_user(f"u{i}", "Förnamn", f"Efternamn{i}", f"u{i}@example.se", f"e{i}") for i in range(USERS)]
    for c, course in enumerate(courses):  # 300 distinct people per course
        for j in range(PER_COURSE):
            emulator.enrol_user(course, users[(c * 120 + j) % USERS])
    assert len(emulator.state.user_enrolments) == COURSES * PER_COURSE
    return emulator, courses, users


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each table was gone through row by row (Table.__iter__: every full read of a table goes there)."""
    seen: Counter[str] = Counter()
    whole = Table.__iter__

    def counted(table: Table[Any]) -> Iterator[Any]:
        seen[table.name] += 1
        return whole(table)

    monkeypatch.setattr(Table, "__iter__", counted)
    return seen


def test_reads_and_writes_do_not_scan_the_whole_site(big: tuple[Emulator, list[int], list[int]],
                                                     scans: Counter[str]) -> None:
    emulator, courses, users = big
    call = Caller(emulator)
    large = {"user", "user_enrolments", "role_assignments", "course"}

    enrolled = call.ok("core_enrol_get_enrolled_users", {"courseid": courses[7], "options": [
        {"name": "userfields", "value": "id,username,idnumber"}]})
    assert len(enrolled) == PER_COURSE and not large & set(scans), scans
    found = call.ok("core_user_get_users_by_field",
                    {"field": "username", "values": [f"u{i}" for i in range(0, USERS, 30)]})
    assert len(found) == 200 and not large & set(scans), scans
    by_idnumber = call.ok("core_course_get_courses_by_field", {"field": "idnumber", "value": f"k{COURSES - 1}@1"})
    assert by_idnumber["courses"][0]["shortname"] == f"K{COURSES - 1}" and not large & set(scans), scans
    call.ok("enrol_manual_enrol_users", {"enrolments": [
        {"roleid": 5, "userid": u, "courseid": courses[0]} for u in users[:1000]]})
    assert len(emulator.state.user_enrolments) == COURSES * PER_COURSE + 1000 - PER_COURSE
    assert not large & set(scans), scans
    everything = call.ok("core_course_get_courses_by_field", {})  # every course: one pass over the courses
    assert len(everything["courses"]) == COURSES + 1 and scans["course"] == 1  # the count shows a scan
    assert not {"user", "user_enrolments", "role_assignments"} & set(scans), scans


def test_parallel_requests_over_http_keep_state_consistent() -> None:
    emulator = Emulator(token=TOKEN)
    errors: list[str] = []

    def worker(n: int, url: str) -> None:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=10)
        for i in range(10):
            body = urlencode({"wstoken": TOKEN, "wsfunction": "core_course_create_categories",
                              "moodlewsrestformat": "json", "categories[0][name]": f"T{n}-{i}",
                              "categories[0][idnumber]": f"t{n}-{i}"})
            conn.request("POST", "/webservice/rest/server.php", body=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            answer = json.loads(conn.getresponse().read())
            if not isinstance(answer, list):
                errors.append(str(answer))
        conn.close()

    with serve(emulator) as server:
        threads = [threading.Thread(target=worker, args=(n, server.url)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    ids = [c.id for c in emulator.state.categories]
    assert len(ids) == 81 and len(set(ids)) == 81


def test_two_identical_runs_give_identical_snapshots() -> None:
    def run() -> dict:
        emulator = Emulator(token=TOKEN, now=lambda: 1_800_000_000)
        call = Caller(emulator)
        [cat] = call.ok("core_course_create_categories", {"categories": [{"name": "K", "idnumber": "k"}]})
        call.ok("core_course_create_courses", {"courses": [{"fullname": "A", "shortname": "A",
                                                            "categoryid": cat["id"], "numsections": 2}]})
        call.ok("core_user_create_users", {"users": [{"username": "a", "firstname": "A", "lastname": "A",
                                                      "email": "a@example.se", "password": "Vinter#2026x"}]})
        return emulator.snapshot()

    first, second = run(), run()
    assert first == second
    assert [c["shortname"] for c in first["course"]] == ["Kompetensportal", "A"]
