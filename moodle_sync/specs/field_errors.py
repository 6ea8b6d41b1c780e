"""Pydantic's validation errors as problems people can act on: the file and line of the key, in plain words.

Each error names the key it is about (inside a nested model such as a course's session when it is
there), the line it is written on, what is wrong with the value as written, and a hint: the field's own
description, an example to add for a missing key, the allowed keys for an unknown one.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, get_args

from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from ruamel.yaml.comments import CommentedMap, TaggedScalar

from moodle_sync.errors import SpecProblem
from moodle_sync.specs.locate import SpecDoc, line_of
from moodle_sync.specs.models import EnrolmentRule, Session, TargetGroup
from moodle_sync.specs.source import SpecModel

__all__ = ["problem_from_error", "repeated_session", "show_value"]


_SLUG_TEXT = "a valid key (lowercase a-z, digits and hyphens, starting with a letter or digit)"
_PATTERN_TEXT = {
    "language": "a Moodle language code (e.g. sv, en, sv_fi)",
    "role": "a Moodle role shortname (lowercase a-z, digits and _, starting with a letter, e.g. student)",
}
#: what one model is called in "unknown key 'x' in a …"
_WHAT = {TargetGroup: "target group", EnrolmentRule: "enrolment rule", Session: "session"}


def problem_from_error(model_cls: type[SpecModel], doc: SpecDoc[Any], error: ErrorDetails) -> SpecProblem:
    """One pydantic error as a problem at the line of the offending key (or of the spec when missing)."""
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    # the key the error is about, and the model it belongs to (a session inside a course, say)
    model_cls, name, info = _field_at(model_cls, loc)
    fields = model_cls.model_fields
    hint = (info.description or "") if info else ""
    value = error.get("input")
    where = (doc.file, line_of(doc.node, loc))
    loc_text = doc.loc(*loc)

    if kind == "missing":
        example = info.examples[0] if info and info.examples else "…"
        return SpecProblem(*where, f"missing required key {name!r}", loc=loc_text,
                           hint=f"add `{name}: {example}` ({hint})" if hint else f"add `{name}: {example}`")
    if kind == "extra_forbidden":
        allowed = list(fields)
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        what = _WHAT.get(model_cls) or model_cls.__name__.removesuffix("Spec").lower()
        article = "an" if what[:1] in ("a", "e", "i", "o", "u") else "a"
        return SpecProblem(*where, f"unknown key {name!r} in {article} {what}", loc=loc_text,
                           hint=(f"did you mean {close[0]!r}? " if close else "")
                           + f"allowed keys: {', '.join(allowed)}")

    if kind == "value_error":
        message = error["msg"].removeprefix("Value error, ")
        if name == "target_groups" and isinstance(value, list):
            # the validator can only blame the whole list; point at the repeated item instead
            repeated = next((i for i, v in enumerate(value) if v in value[:i]), None)
            if repeated is not None:
                where = (doc.file, line_of(doc.node, (name, repeated)))
                loc_text = doc.loc(name, repeated)
        elif name == "sessions" and isinstance(value, list) and message.startswith("session key"):
            keys = [v.get("key") if isinstance(v, dict) else None for v in value]
            repeated = next((i for i, k in enumerate(keys) if k is not None and k in keys[:i]), None)
            if repeated is not None:
                where = (doc.file, line_of(doc.node, (name, repeated, "key")))
                loc_text = doc.loc(name, repeated, "key")
                key = str(keys[repeated])
                message = repeated_session(key, doc.node, keys.index(key))
    elif kind == "string_pattern_mismatch":
        message = f"{show_value(value)} is not {_PATTERN_TEXT.get(name, _SLUG_TEXT)}"
    elif kind == "string_type" and name == "version" and isinstance(value, int | float):
        message = f"{show_value(value)} is not a semantic version"
        hint = f'{hint}; quote it if YAML reads it as a number: version: "{value}.0"'
    elif kind == "string_type":
        message = f"{show_value(value)} is not text"
    elif kind == "bool_type":
        message = f"{show_value(value)} is not true or false"
    elif kind == "int_type":
        message = f"{show_value(value)} is not a whole number"
    elif kind == "literal_error":
        message = f"{show_value(value)} is not one of {ctx.get('expected', '')}"
    elif kind == "greater_than_equal":
        message = f"{show_value(value)} is less than {ctx.get('ge')}"
    elif kind == "less_than_equal":
        message = f"{show_value(value)} is more than {ctx.get('le')}"
    elif kind == "string_too_long":
        message = f"{name} is {len(str(value))} characters long, more than {ctx.get('max_length')}"
    elif kind in ("string_too_short", "too_short"):
        message = f"{name} is empty"
    elif kind in ("list_type", "tuple_type"):
        message = f"{show_value(value)} is not a list"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        item_cls = _nested_model(info.annotation) if info else None
        keys = list((item_cls or model_cls).model_fields)
        message = f"{show_value(value)} is not a mapping of keys ({keys[0]}: …, {keys[1]}: …)"
    else:
        message = f"{error['msg']} (got {show_value(value)})"
    return SpecProblem(*where, message, hint=hint, loc=loc_text)


def repeated_session(key: str, course: CommentedMap, first: int) -> str:
    return f"session key {key!r} is listed twice (first at line {line_of(course, ('sessions', first, 'key'))})"


def _field_at(model_cls: type[SpecModel], loc: Sequence[str | int]) -> tuple[type[SpecModel], str, FieldInfo | None]:
    """The innermost model along ``loc``, the last key name in it, and that key's field (None if unknown).

    ``("sessions", 0, "county")`` in a course → ``(Session, "county", <county field>)``.
    """
    name, info = "", None
    for part in loc:
        if isinstance(part, int):
            continue
        if info is not None and (nested := _nested_model(info.annotation)) is not None:
            model_cls = nested
        name, info = str(part), model_cls.model_fields.get(str(part))
        if info is None:
            break
    return model_cls, name, info


def _nested_model(annotation: Any) -> type[SpecModel] | None:
    """The spec model inside an annotation such as ``tuple[Session, ...]``, if there is one."""
    if isinstance(annotation, type) and issubclass(annotation, SpecModel):
        return annotation
    for arg in get_args(annotation):
        if (found := _nested_model(arg)) is not None:
            return found
    return None


def show_value(value: Any) -> str:
    if isinstance(value, TaggedScalar):  # a YAML tag such as !custom that nothing here understands
        return f"{value.tag} {value.value!r}"
    text = repr(value.isoformat() if hasattr(value, "isoformat") else value)
    return text if len(text) <= 60 else text[:57] + "…"
