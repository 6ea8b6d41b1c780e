"""Where a spec is: which file of the tree holds it, and the line of any key or list item in that file.

ruamel.yaml's round-trip loader keeps the line of every key; these read them. :class:`SpecDoc` is one spec
as written (its mapping node beside the model built from it), :class:`ListFile` a file that holds a list of
specs; :func:`locate_items` gives models nested in lists (a course's sessions) the file and lines they came
from, as the loader gives the specs themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from moodle_sync.specs.source import SourceRef, SpecModel, locate

__all__ = ["CATEGORIES_FILE", "COURSES_DIR", "RULES_FILE", "TARGET_GROUPS_FILE", "ListFile", "SpecDoc", "field_lines",
           "item_line", "line_of", "loc_text", "locate_items", "node_line"]

CATEGORIES_FILE = "categories.yaml"
TARGET_GROUPS_FILE = "target_groups.yaml"
#: optional: without it there are no enrolment rules
RULES_FILE = "enrolment_rules.yaml"
COURSES_DIR = "courses"

M = TypeVar("M", bound=SpecModel)


@dataclass
class SpecDoc(Generic[M]):
    """One spec as written: its mapping node (for lines), where it is, and the model if it is valid."""

    file: str
    node: CommentedMap
    prefix: str  # loc of the spec inside its file: "categories[2]" in a list file, "" for a course file
    model: M | None = None

    @property
    def line(self) -> int:
        return node_line(self.node)

    def raw(self, key: str) -> Any:
        return self.node.get(key)

    def key_line(self, key: str) -> int:
        return line_of(self.node, (key,))

    def loc(self, *parts: str | int) -> str:
        return loc_text(self.prefix, parts)


@dataclass
class ListFile(Generic[M]):
    file: str
    readable: bool  # False when the file is missing or does not parse: skip checks that depend on it
    docs: list[SpecDoc[M]] = field(default_factory=list)


def locate_items(model: BaseModel, file: str, node: CommentedMap) -> None:
    """Give models nested in lists (a course's sessions) their own source, like the specs holding them."""
    for name in type(model).model_fields:
        value, items = getattr(model, name), node.get(name)
        if not isinstance(value, tuple) or not isinstance(items, CommentedSeq):
            continue
        for i, item in enumerate(value):
            if isinstance(item, SpecModel) and i < len(items) and isinstance(items[i], CommentedMap):
                locate(item, SourceRef(file, item_line(items, i)), dict(field_lines(items[i])))


def node_line(node: Any) -> int:
    lc = getattr(node, "lc", None)
    return int(lc.line) + 1 if lc is not None and lc.line is not None else 1


def item_line(seq: CommentedSeq, index: int) -> int:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except (KeyError, IndexError, TypeError):
        return node_line(seq)


def line_of(node: Any, loc: Sequence[str | int]) -> int:
    """The line of the deepest key or item of ``loc`` that exists; the container's line otherwise."""
    line = node_line(node)
    for part in loc:
        try:
            if isinstance(node, CommentedMap) and part in node:
                line = int(node.lc.key(part)[0]) + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = item_line(node, part)
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line


def field_lines(node: CommentedMap) -> Iterator[tuple[str, int]]:
    for key in node:
        if not isinstance(key, str):
            continue
        yield key, line_of(node, (key,))
        value = node[key]
        if isinstance(value, CommentedSeq):
            for i in range(len(value)):
                yield f"{key}[{i}]", item_line(value, i)


def loc_text(prefix: str, parts: Sequence[str | int]) -> str:
    text = prefix
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
