"""Enrolment calls that go wrong in transit, or that Moodle refuses for the whole course."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from moodle_sync.emulator import Fault
from moodle_sync.errors import ApplyError
from moodle_sync.writing import settle as settle_module

from .conftest import Site
from .test_rosters import course_id, do_import, enrolment, person, soc_rule, user_id, write_roster

ENROL = "enrol_manual_enrol_users"


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settle_module, "LOST_ANSWER_WAIT", 0.0)


def count_enrol_requests(site: Site, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many enrol calls reach the site (faults included), in a one-element list."""
    seen = [0]
    real = site.emulator.handle

    def counting(method: str, url: str, headers: Any, body: bytes) -> Any:
        if f"wsfunction={ENROL}".encode() in body:
            seen[0] += 1
        return real(method, url, headers, body)

    monkeypatch.setattr(site.emulator, "handle", counting)
    return seen


def test_a_lost_enrol_answer_is_sent_again_and_remembered(site: Site, tmp_path: Path, no_pause: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # a proxy gave up on the enrol call (504): it may or may not have run, and what Moodle lists cannot
    # prove dates landed; repeating an enrol call is harmless, so it goes once more and is remembered
    site.apply()
    sent = count_enrol_requests(site, monkeypatch)
    site.emulator.faults.add(Fault(kind="http", wsfunction=ENROL, status=504, body="Gateway Timeout"))
    rows = [person(n) for n in range(3)]
    report = do_import(site, write_roster(tmp_path / "w.csv", rows))
    assert report.enrolments is not None and report.enrolments.ok
    soc, rule = course_id(site, "hrv-socialtjanst@1"), soc_rule(site)
    uid = user_id(site, rows[0]["E-post"])
    assert enrolment(site, soc, uid) == (0, rule.timestart, rule.timeend)
    api = site.api()
    assert site.store(api).managed_enrolments("hrv-socialtjanst@1")[uid].timestart == rule.timestart
    # remembered: a re-run has nothing to send
    before = sent[0]
    do_import(site, write_roster(tmp_path / "w.csv", rows))
    assert sent[0] == before


def test_a_course_wide_refusal_is_not_split_person_by_person(site: Site, tmp_path: Path, no_pause: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    site.apply()
    sent = count_enrol_requests(site, monkeypatch)
    refusal: dict[str, Any] = {"exception": "moodle_exception", "errorcode": "wsnoinstance",
                               "message": "Manual enrolment plugin instance doesn't exist or is disabled for the "
                                          "course (id = {$a->courseid})"}
    site.emulator.faults.add(Fault(kind="exception", wsfunction=ENROL, error=refusal, times=None))
    with pytest.raises(ApplyError) as failed:
        do_import(site, write_roster(tmp_path / "w.csv", [person(n) for n in range(6)]))
    message = str(failed.value)
    assert "6 enrolment(s) failed" in message and "wsnoinstance" in message and "users 10000, 10001" in message
    assert message.count("wsnoinstance") == len(courses_of_social_workers(site))  # once per course, not per person
    # one refused call per course, not 2n-1 calls bisecting down to single people
    assert sent[0] == len(courses_of_social_workers(site))


def courses_of_social_workers(site: Site) -> set[str]:
    return {r.course for r in site.specs().rules.values() if "socialsekreterare" in r.target_groups}
