"""Givens: what a site admin sets up once in Moodle's UI and no web service can do (tests and the demo only).

A recorded contract's ``given`` entries (../shared/moodle/README.md, "Givens") arrive as the pseudo-function
``emulator_given`` with one parameter ``given`` (the given as JSON text) and answer ``{"id": N}``. It is not a
Moodle function: it is not in the function registry, so no site info lists it and no token's service holds it.

- ``template_course``: a course (``idnumber``; optional ``shortname``, ``fullname``, ``category``) with one
  activity (``activity``, e.g. "page", named ``activity_name``) in section 1 whose ``completion`` is "view"
  (automatic, on viewing) or "manual", and with ``course_criteria: "activity"`` that activity as the course's
  only completion criterion.
- ``custom_report``: a custom report (``name``, ``source``) made without default setup
  (``default_setup: false``) and with one text ``condition`` (``column``, ``operator`` such as "starts_with",
  ``value``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from moodle_sync.emulator.errors import invalid_parameter
from moodle_sync.emulator.model.state import State
from moodle_sync.emulator.moodlelib import completionlib, courselib, reportbuilder
from moodle_sync.emulator.signatures import REQUIRED, Single, Value

GIVEN_FUNCTION = "emulator_given"
PARAMETERS = Single({"given": Value("raw", REQUIRED, None, False)}, REQUIRED, None)
RETURNS = Single({"id": Value("int", REQUIRED, None, False)}, REQUIRED, None)

#: the recorded site's template page (contract-reportbuilder-4.3.json, 'course contents after import')
DEFAULT_ACTIVITY_NAME = "Modul 1: Grunder"
_COMPLETION = {"none": (0, 0), "manual": (1, 0), "view": (2, 1)}


def parse(text: object) -> dict[str, Any]:
    """The ``given`` parameter: a JSON object, else invalid_parameter naming what is wrong."""
    try:
        given = json.loads(str(text))
    except ValueError as e:
        raise invalid_parameter(f"emulator_given: 'given' is not JSON: {e}") from None
    if not isinstance(given, dict):
        raise invalid_parameter("emulator_given: 'given' must be a JSON object")
    return given


def carry_out(state: State, now: int, userid: int, given: Mapping[str, Any]) -> int:
    """Set up one given; returns the new course's or report's id."""
    kind = given.get("kind")
    try:
        if kind == "template_course":
            return _template_course(state, now, given)
        if kind == "custom_report":
            return _custom_report(state, now, userid, given)
    except (KeyError, TypeError, ValueError) as e:
        raise invalid_parameter(f"emulator_given {kind}: {type(e).__name__}: {e}") from None
    raise invalid_parameter(f"emulator_given: unknown kind {kind!r} (template_course or custom_report)")


def _template_course(state: State, now: int, given: Mapping[str, Any]) -> int:
    idnumber = str(given["idnumber"])
    completion, completionview = _COMPLETION[str(given.get("completion", "view"))]
    course = courselib.create_course(state, now, {
        "fullname": str(given.get("fullname", idnumber)), "shortname": str(given.get("shortname", idnumber)),
        "category": int(given.get("category", 1)), "idnumber": idnumber, "numsections": 2, "enablecompletion": 1})
    cm = courselib.add_module(state, now, course.id, str(given.get("activity", "page")),
                              str(given.get("activity_name", DEFAULT_ACTIVITY_NAME)), 1,
                              completion=completion, completionview=completionview)
    criteria = given.get("course_criteria")
    if criteria == "activity":
        if not completion:
            raise ValueError("course_criteria 'activity' needs an activity with completion")
        completionlib.add_activity_criterion(state, state.courses.rows[course.id], cm)
    elif criteria not in (None, "none"):
        raise ValueError(f"course_criteria {criteria!r} is not emulated (activity or none)")
    return course.id


def _custom_report(state: State, now: int, userid: int, given: Mapping[str, Any]) -> int:
    if given.get("default_setup", False):
        raise ValueError("default_setup true is not emulated: its columns link to courses and users")
    conditions = []
    condition = given.get("condition")
    if condition:
        operator = reportbuilder.TEXT_OPERATORS.get(str(condition["operator"]))
        if operator is None:
            known = ", ".join(reportbuilder.TEXT_OPERATORS)
            raise ValueError(f"condition operator {condition['operator']!r} is not one of {known}")
        conditions.append((str(condition["column"]), operator, str(condition.get("value", ""))))
    report = reportbuilder.create_report(state, now, userid, str(given["name"]), str(given["source"]), conditions)
    return report.id


def answer(state: State, now: int, userid: int, params: Mapping[str, Any]) -> dict[str, int]:
    """What ``emulator_given`` answers for validated parameters; MoodleError on a bad given."""
    return {"id": carry_out(state, now, userid, parse(params["given"]))}
