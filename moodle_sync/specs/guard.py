"""What a spec file may be before its content is trusted: inside the spec directory, small, plain YAML.

Specs come in through pull requests, and ``validate`` runs on them in CI, so a spec file is hostile input
until it has passed these checks:

- it lies inside the spec directory once every symbolic link is followed (a link to ``~/.ssh/id_rsa`` is
  named, never opened, so its content cannot end up in an error message);
- it is a regular file (a FIFO, a device or a socket is named, never opened: :mod:`moodle_sync.regular_files`)
  with no other name: a hard link (``ln``, not ``ln -s``) makes any file of the same file system look like one
  inside the spec directory, so a file with more than one link is named, never read;
- it is at most :data:`MAX_SPEC_BYTES` (real specs are a few kilobytes);
- it nests lists and mappings at most :data:`MAX_DEPTH` levels deep (a spec needs four);
- it holds at most :data:`MAX_VALUES` keys and values (real ones hold a few hundred; ruamel's pure-Python
  parser takes seconds for each hundred thousand), counting what its aliases repeat;
- it uses at most :data:`MAX_ALIASES` YAML aliases (``*name``): a 2 KB "billion laughs" file is refused
  while it is composed, before anything is expanded;
- its text holds no control or invisible characters (:mod:`moodle_sync.invisible_text`), each reported
  with its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.composer import Composer
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, SequenceNode

from moodle_sync.invisible_text import describe_invisible, find_invisible
from moodle_sync.regular_files import NotRegularFile, open_regular

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_SPEC_BYTES", "MAX_VALUES", "SpecFileRefused", "hidden_characters",
           "read_spec_text", "spec_yaml"]

MAX_SPEC_BYTES = 1_000_000
MAX_DEPTH = 50
MAX_VALUES = 20_000
MAX_ALIASES = 50

#: what YAML itself refuses in a file (ruamel's reader does, but without a line): C0 and C1 controls
_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
#: line breaks and tabs are how YAML writes multi-line text; every other control is refused in values
_TEXT_ALLOWS = "\t\n\r"
_ALIAS_HINT = ("an alias repeats all its anchor (&name) holds; specs need none, so write the values out "
               "instead")


class SpecFileRefused(Exception):  # noqa: N818 - internal: becomes a SpecProblem, never leaves the loader
    """A spec file that is not read (or not read further): the message for its SpecProblem."""

    def __init__(self, message: str, *, line: int | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.hint = hint


def read_spec_text(path: Path, root: Path) -> str:
    """The text of the spec file ``path``, once it is known to be inside ``root``, a regular file of one name,
    small and UTF-8.

    Raises:
        SpecFileRefused: the file leads outside ``root``, is no regular file or has more than one name (hard
            links), is too large, cannot be read or decoded, or holds a control character (with its line).
    """
    if not is_inside(path, root):
        raise SpecFileRefused("is a symbolic link (or inside one) that leads outside the spec directory; it "
                              "was not read", hint="keep spec files inside the spec directory: copy the file "
                                                   "in instead of linking to it")
    try:
        # the path with its links followed (inside root, as checked) and opened without following one more
        file, status = open_regular(path.resolve(), follow_links=False)
    except NotRegularFile as e:
        raise SpecFileRefused(f"is {e.kind}, not a regular file; it was not read",
                              hint="a spec file is a YAML file in the spec directory") from e
    except OSError as e:
        raise SpecFileRefused(f"cannot read the file: {e.strerror or e}") from e
    with file:
        if status.st_nlink > 1:
            raise SpecFileRefused(f"the file has {status.st_nlink} hard links: the same file has another name, maybe "
                                  f"outside the spec directory, so it was not read",
                                  hint="copy the file into the spec directory (cp) instead of linking it (ln)")
        try:
            data = file.read(MAX_SPEC_BYTES + 1)
        except OSError as e:
            raise SpecFileRefused(f"cannot read the file: {e.strerror or e}") from e
    if len(data) > MAX_SPEC_BYTES:
        raise SpecFileRefused(f"the file is larger than {MAX_SPEC_BYTES // 1_000_000} MB, the most a spec file "
                              f"may be; it was not read",
                              hint="a spec file is a few kilobytes; check that this is the right file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecFileRefused(f"the file is not UTF-8 text ({e.reason} at byte {e.start})",
                              hint="save it as UTF-8") from e
    if (match := _RAW_CONTROL.search(text)) is not None:
        start = text.rfind("\n", 0, match.start()) + 1
        raise SpecFileRefused(f"the line {describe_invisible(text[start:], match.start() - start)}",
                              line=text.count("\n", 0, match.start()) + 1,
                              hint="remove it; such characters are invisible in most editors (try "
                                   "`cat -A` to see them)")
    return text


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is inside ``root`` once every symbolic link (and ``..``) in either is followed."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a loop of links
        return False
    return True


class _GuardedComposer(Composer):
    """ruamel's composer, counting aliases and depth while it composes, before anything is constructed."""

    def compose_document(self: Any) -> Any:
        self.depth = 0  # a file refused halfway may have left the last count behind
        self.aliases = 0
        self.values = 0
        self.first_alias_line = 0
        node = super().compose_document()
        if self.aliases:
            _check_expansion(node, self.first_alias_line)
        return node

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            self.aliases += 1
            self.first_alias_line = self.first_alias_line or line
            if self.aliases > MAX_ALIASES:
                raise SpecFileRefused(f"the file uses more than {MAX_ALIASES} YAML aliases (*name)", line=line,
                                      hint=_ALIAS_HINT)
        elif self.depth >= MAX_DEPTH:
            raise SpecFileRefused(f"lists and mappings are nested more than {MAX_DEPTH} levels deep here",
                                  line=line, hint="a spec needs at most four levels (a course, its sessions, a "
                                                  "session, its keys); check the brackets and the indentation")
        else:
            self.values += 1
            if self.values > MAX_VALUES:
                raise SpecFileRefused(f"the file holds more than {MAX_VALUES:,} keys and values", line=line,
                                      hint="a spec file holds a few hundred; check that this is the right file")
        return super().compose_node(parent, index)


def _check_expansion(root: Any, alias_line: int) -> None:
    """Refuse a document whose aliases make it more than MAX_VALUES values, or refer to themselves.

    Every node is sized once (aliases share nodes), so this takes as long as the file, not as its expansion.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise SpecFileRefused("a YAML alias (*name) refers to the list or mapping it is inside of",
                                  line=node.start_mark.line + 1, hint=_ALIAS_HINT)
        open_nodes.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        open_nodes.discard(key)
        sizes[key] = total
        return total

    if size(root) > MAX_VALUES:
        raise SpecFileRefused(f"the YAML aliases (*name) in this file expand it to more than {MAX_VALUES:,} "
                              f"keys and values", line=alias_line, hint=_ALIAS_HINT)


def spec_yaml(constructor: Any) -> YAML:
    """A round-trip YAML loader (it keeps every key's line) that composes through the guard."""
    yaml = YAML(typ="rt")
    yaml.Constructor = constructor
    yaml.Composer = _GuardedComposer
    return yaml


def hidden_characters(node: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every key and text value under ``node`` that holds a character no spec text may hold.

    Yields:
        The loc path of the value (or of the key, for a key) and what is wrong with it.
    """
    yield from _walk(node, ())


def _walk(node: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            if isinstance(key, str) and (at := find_invisible(key)) is not None:
                yield (*loc, key), f"the key {key!r} {describe_invisible(key, at)}"
                continue
            yield from _walk(value, (*loc, key if isinstance(key, str | int) else str(key)))
    elif isinstance(node, CommentedSeq):
        for i, item in enumerate(node):
            yield from _walk(item, (*loc, i))
    else:
        text = node.value if isinstance(node, TaggedScalar) else node  # !!str "…"
        if isinstance(text, str) and (at := find_invisible(text, allow=_TEXT_ALLOWS)) is not None:
            yield loc, f"{str(text)!r} {describe_invisible(text, at)}"
