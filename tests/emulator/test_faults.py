"""Fault injection: each kind, whether the call ran, and the matching rules (wsfunction, after, times)."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlencode

import pytest

from moodle_sync.emulator import Emulator, Fault, SimulatedCrash, serve

from .conftest import TOKEN, Caller

CREATE = "core_course_create_categories"


def create(call: Caller, name: str = "Ny") -> object:
    return call(CREATE, {"categories": [{"name": name}]})


def names(emulator: Emulator) -> list[str]:
    return sorted(c.name for c in emulator.state.categories)


def test_latency_delays_the_answer(call: Caller, emulator: Emulator) -> None:
    emulator.faults.add(Fault(kind="latency", seconds=0.2))
    start = time.perf_counter()
    assert create(call)
    assert time.perf_counter() - start >= 0.2
    start = time.perf_counter()
    create(call, "Snabb")  # times=1: only the first call waited
    assert time.perf_counter() - start < 0.2


def test_http_fault_answers_a_maintenance_page_and_does_not_run_the_call(call: Caller, emulator: Emulator) -> None:
    emulator.faults.add(Fault.maintenance(CREATE))
    status, _, body = emulator.handle("POST", "https://m/webservice/rest/server.php", {},
                                      urlencode({"wstoken": TOKEN, "wsfunction": CREATE,
                                                 "categories[0][name]": "X"}).encode())
    assert status == 503 and b"maintenance" in body
    assert names(emulator) == ["Category 1"] and emulator.calls == []


def test_http_fault_headers_and_a_proxy_page(emulator: Emulator) -> None:
    emulator.faults.add(Fault(kind="http", status=503, body="<html>down</html>", headers={"Retry-After": "120"}))
    emulator.faults.add(Fault.proxy_error())
    with serve(emulator) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("POST", "/webservice/rest/server.php", body=f"wstoken={TOKEN}&wsfunction={CREATE}")
        first = conn.getresponse()
        assert (first.status, first.getheader("Retry-After"), first.read()) == (503, "120", b"<html>down</html>")
        conn.request("POST", "/webservice/rest/server.php", body=f"wstoken={TOKEN}&wsfunction={CREATE}")
        second = conn.getresponse()
        assert second.status == 502 and b"Bad Gateway" in second.read()
        conn.close()


def test_refuse_raises_before_the_call_runs(call: Caller, emulator: Emulator) -> None:
    emulator.faults.add(Fault(kind="refuse"))
    with pytest.raises(ConnectionRefusedError):
        create(call)
    assert names(emulator) == ["Category 1"]
    assert create(call)  # fired once


def test_lost_runs_the_call_then_loses_the_answer(call: Caller, emulator: Emulator) -> None:
    emulator.faults.add(Fault(kind="lost", wsfunction=CREATE))
    with pytest.raises(ConnectionResetError):
        create(call, "Landade")
    assert "Landade" in names(emulator) and emulator.calls == [CREATE]


def test_exception_answers_a_moodle_error_without_running(call: Caller, emulator: Emulator) -> None:
    error = {"exception": "moodle_exception", "errorcode": "sitemaintenance",
             "message": "The site is undergoing maintenance and is currently not available"}
    emulator.faults.add(Fault(kind="exception", error=error))
    assert create(call) == error
    assert names(emulator) == ["Category 1"]
    with pytest.raises(ValueError):
        Fault(kind="exception")


def test_crash_runs_the_call_then_kills_the_client(call: Caller, emulator: Emulator) -> None:
    emulator.faults.add(Fault(kind="crash", wsfunction=CREATE))
    assert issubclass(SimulatedCrash, BaseException) and not issubclass(SimulatedCrash, Exception)
    with pytest.raises(SimulatedCrash):
        create(call, "Före kraschen")
    assert "Före kraschen" in names(emulator)


def test_after_skips_matching_calls_and_times_none_fires_always(call: Caller, emulator: Emulator) -> None:
    emulator.faults.add(Fault(kind="refuse", wsfunction=CREATE, after=2, times=None))
    call.ok("core_webservice_get_site_info")  # other functions do not count
    create(call, "Ett")
    create(call, "Två")
    for _ in range(3):
        with pytest.raises(ConnectionRefusedError):
            create(call, "Aldrig")
    assert names(emulator) == ["Category 1", "Ett", "Två"]
    emulator.faults.clear()
    create(call, "Tre")
    assert "Tre" in names(emulator)


def test_over_http_a_lost_answer_closes_the_connection(emulator: Emulator) -> None:
    emulator.faults.add(Fault(kind="lost"))
    with serve(emulator) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("POST", "/webservice/rest/server.php",
                     body=f"wstoken={TOKEN}&wsfunction={CREATE}&categories[0][name]=Tyst&moodlewsrestformat=json")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        conn.close()
        assert "Tyst" in names(emulator)
        # the server lives on
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("POST", "/webservice/rest/server.php",
                     body=f"wstoken={TOKEN}&wsfunction=core_webservice_get_site_info&moodlewsrestformat=json")
        assert json.loads(conn.getresponse().read())["username"] == "admin"
        conn.close()


def test_calls_and_write_counts(call: Caller, emulator: Emulator) -> None:
    call.ok("core_webservice_get_site_info")
    create(call)
    create(call, "Andra")
    assert emulator.calls == ["core_webservice_get_site_info", CREATE, CREATE]
    assert emulator.call_counts()[CREATE] == 2
    assert emulator.write_calls() == 2


@pytest.mark.parametrize("status", [502, 503, 504])
@pytest.mark.parametrize("ran", [True, False], ids=["after-running", "before-running"])
def test_a_gateway_page_comes_before_or_after_the_call_ran(call: Caller, emulator: Emulator, status: int,
                                                           ran: bool) -> None:
    emulator.faults.add(Fault.gateway(status, CREATE, ran=ran))
    answer, _, body = emulator.handle("POST", "https://m/webservice/rest/server.php", {},
                                      urlencode({"wstoken": TOKEN, "wsfunction": CREATE, "moodlewsrestformat": "json",
                                                 "categories[0][name]": "Kanske"}).encode())
    assert answer == status and body.startswith(b"<html>") and str(status).encode() in body
    assert ("Kanske" in names(emulator)) is ran
    assert emulator.calls == ([CREATE] if ran else [])
