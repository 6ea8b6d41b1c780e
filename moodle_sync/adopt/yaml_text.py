"""Spec data as reviewable YAML, in the shipped specs' layout: plain values where YAML reads them back unchanged,
double quotes elsewhere, a summary of several lines as a block. :func:`read_back` is the check that it does."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML

__all__ = ["category_items", "course_file", "read_back"]

#: a value YAML reads back as the same string when written bare (no quote, colon-space, hash or leading sign)
_PLAIN = re.compile(r"^[^\W\d_][\w .,()/&'–-]*$", re.UNICODE)
#: a semantic version: YAML reads 1.0.0 as a string (two dots are no number)
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
#: bare words YAML 1.1/1.2 would read as something else
_SPECIAL = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"}


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if _VERSION.match(text):
        return text
    if _PLAIN.match(text) and text == text.strip() and text.lower() not in _SPECIAL and not text.endswith(":"):
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _block(text: str, indent: str) -> str | None:
    """``|`` and the lines, when a literal block gives back exactly ``text`` (stripped, as specs keep it)."""
    lines = text.split("\n")
    if (text != text.strip() or len(lines) < 2 or any(line != line.rstrip() for line in lines)
            or "\t" in text or "\r" in text or any(not ch.isprintable() for ch in text.replace("\n", ""))):
        return None
    return "|\n" + "\n".join(f"{indent}{line}" if line else "" for line in lines)


def _item(key: str, value: Any, indent: str = "") -> str:
    if isinstance(value, (list, tuple)):
        return f"{indent}{key}:\n" + "".join(f"{indent}  - {scalar(v)}\n" for v in value)
    if key in {"summary", "description"} and isinstance(value, str) and (block := _block(value, indent + "  ")):
        return f"{indent}{key}: {block}\n"
    return f"{indent}{key}: {scalar(value)}\n"


def course_file(data: dict[str, Any], header: Sequence[str]) -> str:
    """A course spec file: the header as comments, then one key a line (lists and a long summary below it)."""
    return "".join(f"# {line}\n" if line else "#\n" for line in header) + "".join(
        _item(k, v) for k, v in data.items())


def category_items(items: Sequence[dict[str, Any]], header: str) -> str:
    """Entries to add to categories.yaml (a YAML list), after one comment line."""
    out = f"\n# {header}\n"
    for data in items:
        first, *rest = list(data.items())
        out += "\n" + _item(*first, indent="").replace(first[0], f"- {first[0]}", 1)
        out += "".join(_item(k, v, indent="  ") for k, v in rest)
    return out


def read_back(text: str) -> Any:
    """What a YAML reader makes of ``text`` (the check that it says what was meant)."""
    return YAML(typ="safe", pure=True).load(text)
