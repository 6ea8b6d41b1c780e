"""Signature-driven parameter validation and return cleaning (external_api)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodle_sync.emulator import Emulator
from moodle_sync.emulator.errors import MoodleError
from moodle_sync.emulator.paramtypes import clean_param, php_str
from moodle_sync.emulator.signatures import signatures
from moodle_sync.emulator.validation import clean_returnvalue, validate_param

from .conftest import Caller

BAD = {"exception": "invalid_parameter_exception", "errorcode": "invalidparameter",
       "message": "Invalid parameter value detected"}


def test_unknown_keys_are_refused_with_the_keys_in_debuginfo(call: Caller, emulator: Emulator) -> None:
    assert call("core_course_get_categories", {"bogus": 1}) == BAD
    emulator.debug = True
    answer = call("core_course_get_categories", {"bogus": 1, "_": 2})
    assert answer["debuginfo"] == "Unexpected keys (bogus, _) detected in parameter array."


def test_a_missing_required_key_names_its_path(call: Caller, emulator: Emulator) -> None:
    emulator.debug = True
    answer = call("core_course_create_courses", {"courses": [{"fullname": "x"}]})
    assert answer["debuginfo"] == ("courses => Invalid parameter value detected: "
                                   "Missing required key in single structure: shortname")
    assert not emulator.state.courses.by("shortname", "x")


@pytest.mark.parametrize("value", ["1.0", "", " 5", "05", "+5", "5x", "0x1A"])
def test_ints_must_be_written_exactly(call: Caller, value: str) -> None:
    assert call("core_course_get_courses", {"options": {"ids": [value]}}) == BAD


@pytest.mark.parametrize("value", ["true", "false", "yes", "on", "2", ""])
def test_bools_are_only_0_or_1(call: Caller, value: str) -> None:
    assert call("core_course_get_categories", {"addsubcategories": value}) == BAD


def test_bool_1_and_0_are_accepted_and_defaults_filled(call: Caller) -> None:
    assert call.ok("core_course_get_categories", {"addsubcategories": "0"})
    created = call.ok("core_course_create_categories", {"categories": [{"name": "Utan förälder"}]})
    cat = call.ok("core_course_get_categories", {"criteria": [{"key": "id", "value": created[0]["id"]}]})[0]
    assert cat["parent"] == 0 and cat["descriptionformat"] == 1  # VALUE_DEFAULTs filled in


def test_text_params_refuse_html_but_not_multilang(call: Caller) -> None:
    assert call("core_course_create_categories", {"categories": [{"name": "<b>fet</b>"}]}) == BAD
    multilang = '<span lang="sv" class="multilang">Kurs</span><span lang="en" class="multilang">Course</span>'
    assert call.ok("core_course_create_categories", {"categories": [{"name": multilang}]})


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_any_canonical_int_passes_and_leading_zeros_do_not(n: int) -> None:
    assert validate_param(str(n), "int", False, "") == n
    if n > 0:
        with pytest.raises(MoodleError):
            validate_param(f"0{n}", "int", False, "")


@given(st.text(alphabet="abcXYZ019_-.@ ", max_size=12))
def test_a_username_is_valid_exactly_when_cleaning_leaves_it_unchanged(name: str) -> None:
    cleaned = clean_param(name, "username")
    valid = name == cleaned
    assert valid == (name == name.lower().strip() and " " not in name)


def test_return_values_are_cast_and_undeclared_keys_dropped() -> None:
    returns = signatures("4.3")["core_cohort_get_cohorts"].returns
    assert returns is not None
    cleaned = clean_returnvalue(returns, [{"id": "7", "name": 5, "idnumber": "x", "description": "",
                                           "descriptionformat": "1", "visible": 1, "contextid": 99}])
    assert cleaned == [{"id": 7, "name": 5, "idnumber": "x", "description": "", "descriptionformat": 1,
                        "visible": True}]
    assert php_str(True) == "1" and php_str(False) == ""


def test_an_object_left_empty_is_encoded_as_a_list() -> None:
    contents = signatures("4.3")["core_course_get_contents"].returns
    assert contents is not None
    module = {"id": 1, "name": "n", "modicon": "http://x/i", "modname": "forum", "modplural": "Forums",
              "indent": 0, "activitybadge": {}}
    [section] = clean_returnvalue(contents, [{"id": 1, "name": "General", "summary": "", "summaryformat": 1,
                                               "modules": [module]}])
    assert section["modules"][0]["activitybadge"] == []  # PHP's json_encode of an empty array
