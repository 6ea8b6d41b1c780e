"""encode_params: PHP bracket form, checked by decoding it back the way PHP builds $_POST."""

from __future__ import annotations

import enum
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodle_sync.moodle.transport import encode_params


def php_decode(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A small model of PHP's $_POST parsing: ``a[b][0]=x`` -> nested dicts keyed by strings."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        m = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]+\])*)", name)
        assert m, f"not PHP bracket syntax: {name}"
        path = [m.group(1), *re.findall(r"\[([^\[\]]+)\]", m.group(2))]
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
            assert isinstance(node, dict), f"{name} nests under a scalar"
        assert path[-1] not in node, f"{name} sent twice"
        node[path[-1]] = value
    return out


def expected(value: Any) -> Any:
    """What PHP should see: None and empty containers gone, lists re-indexed, scalars as text."""
    if isinstance(value, dict):
        kept = {str(k): expected(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None} or None
    if isinstance(value, list | tuple):
        kept = [e for e in (expected(v) for v in value) if e is not None]
        return {str(i): v for i, v in enumerate(kept)} or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=8)
scalars = (st.none() | st.booleans() | st.integers() | st.text()
           | st.floats(allow_nan=False, allow_infinity=False))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=25)


@given(st.dictionaries(keys, values, max_size=5))
def test_round_trip_through_the_wire(params: dict[str, Any]) -> None:
    pairs = encode_params(params)
    # what really travels: form-encoded, then parsed again (empty strings are values, keep them)
    wire = parse_qsl(urlencode(pairs), keep_blank_values=True)
    assert wire == pairs
    assert php_decode(wire) == (expected(params) or {})


@given(st.dictionaries(keys, values, max_size=5))
def test_no_empty_or_none_values_are_sent_as_blank(params: dict[str, Any]) -> None:
    # "" only ever comes from an empty string, never from None or an empty list
    blanks = sum(1 for _ in _strings(params) if _ == "")
    assert sum(1 for _, v in encode_params(params) if v == "") == blanks


def _strings(value: Any) -> Any:
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_course_with_custom_fields() -> None:
    pairs = encode_params({"courses": [{
        "fullname": "A & B", "shortname": "SAFE-101", "categoryid": 7, "visible": False, "lang": None,
        "customfields": [{"shortname": "specversion", "value": 3}],
    }]})
    assert pairs == [
        ("courses[0][fullname]", "A & B"),
        ("courses[0][shortname]", "SAFE-101"),
        ("courses[0][categoryid]", "7"),
        ("courses[0][visible]", "0"),
        ("courses[0][customfields][0][shortname]", "specversion"),
        ("courses[0][customfields][0][value]", "3"),
    ]


def test_scalars_and_omissions() -> None:
    assert encode_params({"addsubcategories": True, "x": None, "ids": [], "o": {}, "f": 1.5, "s": ""}) == [
        ("addsubcategories", "1"), ("f", "1.5"), ("s", ""),
    ]
    # an element that encodes to nothing takes no index: the list stays dense
    assert encode_params({"a": [None, {"k": None}, 5, [], 6]}) == [("a[0]", "5"), ("a[1]", "6")]
    assert encode_params({"values": ("jdoe", "asmith")}) == [("values[0]", "jdoe"), ("values[1]", "asmith")]


def test_mixin_enums_send_their_value() -> None:
    class Kind(str, enum.Enum):  # noqa: UP042 - the mixin form is the one str() would get wrong
        SYSTEM = "system"

    class Type(enum.StrEnum):
        COURSE = "course"

    class Level(enum.IntEnum):
        ONE = 1

    assert encode_params({"type": Kind.SYSTEM, "n": Level.ONE, "t": Type.COURSE}) == [
        ("type", "system"), ("n", "1"), ("t", "course")]


@pytest.mark.parametrize("params", [{"a": b"x"}, {"a": object()}, {"a": {1.5: "x"}}])
def test_unsupported_types_fail_loudly(params: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        encode_params(params)


@pytest.mark.parametrize("params", [{"": "x"}, {"a[b]": "x"}, {"a": {"": 1}}, {"f": float("nan")}])
def test_bad_keys_and_floats_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        encode_params(params)
