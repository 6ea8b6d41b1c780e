"""A programme-sized site stays fast: 500 courses, 60 000 users, 150 000 enrolments."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

import pytest

from moodle_sync.emulator import Emulator, serve

from .conftest import TOKEN, Caller


@pytest.fixture(scope="module")
def big() -> tuple[Emulator, list[int], list[int]]:
    emulator = Emulator(token=TOKEN, now=lambda: 1_800_000_000)
    cat = emulator.add_category("Program")
    courses = [emulator.add_course(f"Kurs {i}", f"K{i}", cat, f"k{i}@1") for i in range(500)]
    users = [emulator.add_user(f"u{i}", "Förnamn", f"Efternamn{i}", f"u{i}@example.se", f"e{i}") for i in range(60000)]
    for c, course in enumerate(courses):  # 300 distinct people per course
        for j in range(300):
            emulator.enrol_user(course, users[(c * 120 + j) % 60000])
    assert len(emulator.state.user_enrolments) == 150000
    return emulator, courses, users


def timed(call: Caller, wsfunction: str, params: dict) -> tuple[float, object]:
    start = time.perf_counter()
    answer = call.ok(wsfunction, params)
    return time.perf_counter() - start, answer


def test_reads_and_writes_do_not_scan_the_whole_site(big: tuple[Emulator, list[int], list[int]]) -> None:
    emulator, courses, users = big
    call = Caller(emulator)
    seconds, enrolled = timed(call, "core_enrol_get_enrolled_users", {"courseid": courses[7], "options": [
        {"name": "userfields", "value": "id,username,idnumber"}]})
    assert len(enrolled) == 300 and seconds < 0.5  # type: ignore[arg-type]
    seconds, found = timed(call, "core_user_get_users_by_field",
                           {"field": "username", "values": [f"u{i}" for i in range(0, 60000, 300)]})
    assert len(found) == 200 and seconds < 0.5  # type: ignore[arg-type]
    seconds, by_idnumber = timed(call, "core_course_get_courses_by_field", {"field": "idnumber", "value": "k499@1"})
    assert by_idnumber["courses"][0]["shortname"] == "K499" and seconds < 0.2  # type: ignore[index]
    seconds, everything = timed(call, "core_course_get_courses_by_field", {})
    assert len(everything["courses"]) == 501 and seconds < 2  # type: ignore[index]
    seconds, _ = timed(call, "enrol_manual_enrol_users", {"enrolments": [
        {"roleid": 5, "userid": u, "courseid": courses[0]} for u in users[:1000]]})
    assert seconds < 1


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
