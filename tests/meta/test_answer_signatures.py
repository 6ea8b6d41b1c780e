"""Every answer model the tool reads, walked against what Moodle 4.3 declares it may return.

Moodle declares nearly every returned value nullable (``allownull``) and many keys optional; a real
site uses both (the installer's category has ``"idnumber": null``). For each function in
``answers.SHAPES`` this builds a well-formed answer from the declared signature, then nulls or drops
each value the model reads, one at a time, and reads it through the tool's own reader: the answer
is read with the field's empty value, or (only for a value the tool truly needs, such as an id) it
is refused with UnreadableAnswer naming the field. Nothing else may escape.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

from moodle_sync.errors import UnreadableAnswer, WriteOutcomeUnknown
from moodle_sync.moodle.answers import SHAPES, Shape, read_list, read_one
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import Answer
from moodle_sync.moodle.write_kinds import is_write

SIGNATURES: dict[str, Any] = json.loads(
    resources.files("moodle_sync.moodle").joinpath("data/ws-signatures-4.3.json").read_text("utf-8"))

SAMPLE_BY_TYPE = {"int": 7, "float": 1.5, "bool": True}


def sample(node: dict[str, Any]) -> Any:
    """A value of the declared shape: every key present, every value set."""
    if node["kind"] == "object":
        return {key: sample(child) for key, child in node["keys"].items()}
    if node["kind"] == "list":
        return [sample(node["content"])]
    return SAMPLE_BY_TYPE.get(node.get("type", ""), "x")


def model_node(fn: str) -> dict[str, Any]:
    """The declared object node that the model of ``fn``'s shape reads."""
    shape = SHAPES[fn]
    node = SIGNATURES[fn]["returns"]
    if shape.key:
        assert node["kind"] == "object" and shape.key in node["keys"], shape
        node = node["keys"][shape.key]
    if shape.many:
        assert node["kind"] == "list", shape
        node = node["content"]
    assert node["kind"] == "object", shape
    return node


def nested_model(annotation: Any) -> type[Answer] | None:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, Answer):
            return arg
    return None


def read_paths(model: type[Answer], node: dict[str, Any], prefix: tuple[Any, ...] = ()
               ) -> Iterator[tuple[tuple[Any, ...], dict[str, Any], type[Answer], str]]:
    """(path in the sample, declared node, model, field) for every value the model reads."""
    for name, field in model.model_fields.items():
        child = node["keys"].get(name)
        if child is None:
            continue
        yield prefix + (name,), child, model, name
        inner = nested_model(field.annotation)
        if inner is not None and child["kind"] == "list" and child["content"]["kind"] == "object":
            yield from read_paths(inner, child["content"], prefix + (name, 0))
        elif inner is not None and child["kind"] == "object":
            yield from read_paths(inner, child, prefix + (name,))


def wrap(shape: Shape, item: Any) -> Any:
    """The whole answer around one item."""
    inner = [item] if shape.many else item
    return {shape.key: inner} if shape.key else inner


def read(fn: str, answer: Any) -> Any:
    shape = SHAPES[fn]
    if shape.many:
        return read_list(fn, answer, shape.model)[0]
    return read_one(fn, answer, shape.model)


def with_value(data: Any, path: tuple[Any, ...], value: Any, *, drop: bool = False) -> Any:
    data = json.loads(json.dumps(data))
    target = data
    for step in path[:-1]:
        target = target[step]
    if drop:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def truly_needed(model: type[Answer], name: str) -> bool:
    """A field with no default whose type has no empty value (an id): null there cannot be read."""
    field = model.model_fields[name]
    base = typing.get_origin(field.annotation) or field.annotation
    return field.is_required() and base not in (str, bool, list, dict)


CASES = [(fn, path, node, model, name)
         for fn, shape in SHAPES.items()
         for path, node, model, name in read_paths(shape.model, model_node(fn))]


def test_every_function_the_tool_reads_has_a_shape() -> None:
    reading = set(MoodleApi.FUNCTIONS) - {"core_course_update_categories", "core_cohort_update_cohorts",
                                           "core_cohort_delete_cohort_members", "enrol_manual_enrol_users",
                                           "core_group_add_group_members", "core_course_import_course"}
    assert reading <= set(SHAPES), sorted(reading - set(SHAPES))
    assert set(SHAPES) <= set(MoodleApi.FUNCTIONS) | set(MoodleApi.OPTIONAL_FUNCTIONS)
    # those left out answer null: nothing is read from them
    for fn in set(MoodleApi.FUNCTIONS) - set(SHAPES):
        assert SIGNATURES[fn]["returns"] is None or SIGNATURES[fn]["returns"].get("kind") == "value" or \
            fn == "core_course_import_course", fn


@pytest.mark.parametrize("fn", sorted(SHAPES))
def test_a_full_answer_of_the_declared_shape_reads(fn: str) -> None:
    shape = SHAPES[fn]
    node = model_node(fn)
    for name, field in shape.model.model_fields.items():
        # a field Moodle does not declare must have a default: it will never be sent
        assert name in node["keys"] or not field.is_required(), f"{fn}: {shape.model.__name__}.{name}"
    read(fn, wrap(shape, sample(node)))


@pytest.mark.parametrize(("fn", "path", "node", "model", "name"), CASES,
                         ids=[f"{c[0]}:{'.'.join(map(str, c[1]))}" for c in CASES])
def test_null_and_missing_values_are_read_or_named(fn: str, path: tuple[Any, ...], node: dict[str, Any],
                                                   model: type[Answer], name: str) -> None:
    shape = SHAPES[fn]
    full = wrap(shape, sample(model_node(fn)))
    answer_path = ((shape.key,) if shape.key else ()) + ((0,) if shape.many else ()) + path
    variants = []
    if node.get("allownull", True) and node["kind"] == "value":
        variants.append(with_value(full, answer_path, None))
    if not node.get("required", 1):
        variants.append(with_value(full, answer_path, None, drop=True))
    for answer in variants:
        if truly_needed(model, name):
            # a write's answer that cannot be read leaves what it did unknown: the caller re-reads Moodle
            with pytest.raises(WriteOutcomeUnknown if is_write(fn) else UnreadableAnswer) as caught:
                read(fn, answer)
            assert name in str(caught.value) and fn in str(caught.value)
            continue
        item = read(fn, answer)
        for step in path[:-1]:
            item = item[step] if isinstance(step, int) else getattr(item, step)
        field = model.model_fields[name]
        value = getattr(item, name)
        default = field.get_default(call_default_factory=True)
        if field.is_required():
            assert value in (None, "", False, [], {}), f"{fn}: {name} read as {value!r}"
        else:
            assert value == default or value is None, f"{fn}: {name} read as {value!r}, not {default!r}"


def test_the_stock_sites_default_category_reads() -> None:
    # what a freshly installed Moodle 4.3 answers (shared/moodle/README.md: "What a real site holds")
    answer = [{"id": 1, "name": "Category 1", "idnumber": None, "description": "", "descriptionformat": 1,
               "parent": 0, "sortorder": 10000, "coursecount": 0, "visible": 1, "visibleold": 1,
               "timemodified": 1700000000, "depth": 1, "path": "/1", "theme": None}]
    (category,) = read_list("core_course_get_categories", answer, SHAPES["core_course_get_categories"].model)
    assert category.idnumber == ""  # type: ignore[attr-defined]


@pytest.mark.parametrize("answer", [[{"id": "seven", "name": "x"}], {"not": "a list"}, "<html>", 3,
                                    [None], [["nested"]]])
def test_an_answer_of_another_shape_is_a_named_error(answer: Any) -> None:
    with pytest.raises(UnreadableAnswer) as caught:
        read_list("core_course_get_categories", answer, SHAPES["core_course_get_categories"].model)
    text = str(caught.value)
    assert text.startswith("core_course_get_categories: Moodle's answer cannot be read:")
    assert "hint:" in text
