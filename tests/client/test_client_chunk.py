"""MoodleClient.chunk: batches whose calls stay within PHP's max_input_vars, items kept in order."""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import TOKEN
from hypothesis import given, settings
from hypothesis import strategies as st

from moodle_sync import errors
from moodle_sync.moodle.client import MoodleClient
from moodle_sync.moodle.transport import HttpAnswer, Transport


class CountingTransport(Transport):
    """Records the form of every call instead of sending it."""

    def __init__(self) -> None:
        super().__init__("https://moodle.example.org")
        self.forms: list[list[tuple[str, str]]] = []

    def post_form(self, pairs: list[tuple[str, str]]) -> HttpAnswer:
        self.forms.append(pairs)
        return HttpAnswer(200, {"Content-Type": "application/json"}, "null")


scalar = st.none() | st.integers(0, 9) | st.text(max_size=3) | st.booleans()
item = st.dictionaries(st.sampled_from(["userid", "roleid", "courseid", "timestart", "suspend"]), scalar,
                       min_size=1, max_size=5)
nested_item = st.fixed_dictionaries({"shortname": st.text(max_size=3)},
                                    optional={"customfields": st.lists(st.fixed_dictionaries(
                                        {"shortname": st.text(max_size=3), "value": scalar}), max_size=4)})


@settings(max_examples=100, deadline=None)
# the largest item needs 9 variables, plus 2 fixed and 4 reserved: every limit here can hold one
@given(items=st.lists(item | nested_item, max_size=60), limit=st.integers(16, 60),
       max_items=st.none() | st.integers(1, 7), raw=st.booleans(),
       fixed=st.sampled_from([{}, {"courseid": 3}, {"options": [{"name": "a", "value": "1"}]}]))
def test_every_batch_fits_and_nothing_is_lost(items: list[dict[str, Any]], limit: int, max_items: int | None,
                                              raw: bool, fixed: dict[str, Any]) -> None:
    transport = CountingTransport()
    client = MoodleClient(transport, TOKEN, max_input_vars=limit, raw=raw)
    batches = client.chunk("enrol_manual_enrol_users", "enrolments", items, fixed=fixed, max_items=max_items)
    assert [i for b in batches for i in b] == items
    assert all(b for b in batches)
    for batch in batches:
        if max_items is not None:
            assert len(batch) <= max_items
        client.call("enrol_manual_enrol_users", {**fixed, "enrolments": batch})  # refuses if over the limit
        assert len(transport.forms[-1]) <= limit


def test_batches_are_filled_greedily() -> None:
    client = MoodleClient(CountingTransport(), TOKEN, max_input_vars=4 + 9)  # 4 reserved + 3 items of 3 vars
    items = [{"roleid": 5, "userid": u, "courseid": 2} for u in range(7)]
    batches = client.chunk("enrol_manual_enrol_users", "enrolments", items)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [len(b) for b in client.chunk("enrol_manual_enrol_users", "enrolments", items, max_items=2)] == [2, 2, 2, 1]
    assert client.chunk("enrol_manual_enrol_users", "enrolments", []) == []


def test_an_item_too_big_alone_is_a_clear_error() -> None:
    client = MoodleClient(CountingTransport(), TOKEN, max_input_vars=10)
    items = [{"userid": 1}, {"customfields": [{"shortname": str(i), "value": i} for i in range(5)]}]
    with pytest.raises(errors.ConfigError, match=r"item 1 of courses needs 10 form variables") as info:
        client.chunk("core_course_create_courses", "courses", items)
    assert info.value.key == "max_input_vars"


def test_list_key_must_not_be_fixed() -> None:
    client = MoodleClient(CountingTransport(), TOKEN)
    with pytest.raises(ValueError):
        client.chunk("f", "courses", [{"a": 1}], fixed={"courses": []})
