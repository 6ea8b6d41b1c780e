"""Imitating Moodle 4.3 or 4.5: the differences the 4.5 recordings show, each behind the version chosen."""

from __future__ import annotations

import pytest

from moodle_sync.emulator import Emulator
from moodle_sync.moodle.declared import declared_signatures, declared_types
from moodle_sync.moodle.write_kinds import is_write

from .conftest import TOKEN, Caller

NOW = 1_800_000_000  # Friday 15 January 2027, 08:00 UTC
TOMORROW = 1_800_057_600  # Saturday 16 January 2027, 00:00 UTC
YEAR = 365 * 24 * 3600


def site(moodle: str) -> Caller:
    return Caller(Emulator(token=TOKEN, now=lambda: NOW, moodle=moodle))


def new_course(call: Caller, **fields: object) -> dict[str, object]:
    cat = call.ok("core_course_create_categories", {"categories": [{"name": "K"}]})[0]["id"]
    made = call.ok("core_course_create_courses", {"courses": [
        {"fullname": "Kurs", "shortname": f"K-{len(fields)}", "categoryid": cat, **fields}]})
    found = call.ok("core_course_get_courses_by_field", {"field": "id", "value": made[0]["id"]})
    course: dict[str, object] = found["courses"][0]
    return course


def test_an_unknown_version_is_refused_with_the_ones_there_are() -> None:
    with pytest.raises(ValueError, match=r"4\.3 or 4\.5, not '4\.6'"):
        Emulator(token=TOKEN, moodle="4.6")


def test_site_info_names_the_imitated_release() -> None:
    info = site("4.5").ok("core_webservice_get_site_info")
    assert (info["release"], info["version"]) == ("4.5.6 (Build: 20250811)", "2024100706")
    assert info["policyagreed"] == 0 and "userhomepageurl" in info
    older = site("4.3").ok("core_webservice_get_site_info")
    assert older["release"] == "4.3 (Build: 20231009)" and "policyagreed" not in older


def test_exception_classes_are_namespaced_from_4_5_but_dml_ones_keep_their_name() -> None:
    for moodle, prefix in (("4.3", ""), ("4.5", "core\\exception\\")):
        call = site(moodle)
        assert call("core_course_create_courses", {"courses": [{"fullname": "x"}]})["exception"] == (
            prefix + "invalid_parameter_exception")
        assert call("core_cohort_delete_cohorts", {"cohortids": [99999]})["exception"] == (
            "dml_missing_record_exception")


def test_a_4_5_course_without_dates_starts_tomorrow_and_lasts_a_year() -> None:
    course = new_course(site("4.5"))
    assert (course["startdate"], course["enddate"], course["showactivitydates"]) == (TOMORROW, TOMORROW + YEAR, True)
    sent = new_course(site("4.5"), startdate=1_700_000_000, enddate=0)  # an enddate of 0 sent stays 0
    assert (sent["startdate"], sent["enddate"]) == (1_700_000_000, 0)
    older = new_course(site("4.3"))
    assert (older["startdate"], older["enddate"], older["showactivitydates"]) == (0, 0, False)


def test_core_enrol_edit_user_enrolment_is_unknown_to_both_recorded_sites() -> None:
    """Both dumps answer it with the missing external_functions record: it is no function to call."""
    for moodle in ("4.3", "4.5"):
        answer = site(moodle)("core_enrol_edit_user_enrolment", {"courseid": 1, "ueid": 1})
        assert (answer["exception"], answer["errorcode"]) == ("dml_missing_record_exception", "invalidrecord")
    assert is_write("core_enrol_edit_user_enrolment")  # should a site still have it, never re-sent


def test_the_client_reads_the_write_type_of_functions_either_version_declares() -> None:
    assert declared_types()["enrol_manual_enrol_users"] == "write"
    assert declared_types()["core_course_get_contents"] == "read"
    assert set(declared_signatures("4.5")) == set(declared_signatures("4.3"))  # the same 59 functions recorded


def test_user_answers_carry_trackforums_only_from_4_5() -> None:
    for moodle, expected in (("4.3", False), ("4.5", True)):
        users = site(moodle).ok("core_user_get_users_by_field", {"field": "id", "values": [2]})
        assert ("trackforums" in users[0]) is expected
