"""PHP's request-variable parsing: ``courses[0][fullname]=x`` form pairs into nested arrays.

The result mirrors what Moodle sees in ``$_POST``/``$_GET``: dicts in insertion order (PHP arrays),
with integer-looking keys turned into ints, ``[]`` appending, and vars past ``max_input_vars`` dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

PhpArray = dict[str | int, Any]

_SEGMENT = re.compile(r"\[([^\]]*)\]")
_INT_KEY = re.compile(r"^(0|-?[1-9][0-9]*)$")
_PHP_INT_MAX = 2**63 - 1


def php_key(key: str) -> str | int:
    """PHP stores decimal-integer string keys as ints ("7" → 7, "07" stays "07")."""
    if _INT_KEY.match(key):
        value = int(key)
        if -_PHP_INT_MAX - 1 <= value <= _PHP_INT_MAX:
            return value
    return key


def _next_index(array: PhpArray) -> int:
    ints = [k for k in array if isinstance(k, int)]
    return max(ints) + 1 if ints and max(ints) >= 0 else 0


def _split_name(name: str) -> tuple[str, list[str]] | None:
    bracket = name.find("[")
    base = name if bracket < 0 else name[:bracket]
    segments: list[str] = []
    if bracket >= 0:
        pos = bracket
        while pos < len(name):
            m = _SEGMENT.match(name, pos)
            if not m:
                if not segments:
                    # an unclosed "[" is not nesting: PHP turns it into "_" in the variable name
                    base = name.replace("[", "_")
                break  # text after the last complete [...] is ignored, as PHP does
            segments.append(m.group(1))
            pos = m.end()
    # PHP mangles spaces and dots in the top-level name into underscores (register_globals legacy)
    base = base.replace(" ", "_").replace(".", "_")
    if not base:
        return None
    return base, segments


def assign(array: PhpArray, name: str, value: str) -> None:
    """Store one ``name=value`` pair into ``array`` the way PHP's parser does."""
    split = _split_name(name)
    if split is None:
        return
    base, segments = split
    if not segments:
        array[php_key(base)] = value
        return
    keys: list[str | int | None] = [php_key(base)]
    keys += [None if s == "" else php_key(s) for s in segments]
    node = array
    for i, key in enumerate(keys):
        k: str | int = _next_index(node) if key is None else key
        if i == len(keys) - 1:
            node[k] = value
            return
        child = node.get(k)
        if not isinstance(child, dict):
            child = {}
            node[k] = child
        node = child


def parse_pairs(pairs: Iterable[tuple[str, str]], max_input_vars: int | None = None) -> PhpArray:
    out: PhpArray = {}
    for n, (name, value) in enumerate(pairs):
        if max_input_vars is not None and n >= max_input_vars:
            break  # PHP warns "Input variables exceeded" and silently drops the rest
        assign(out, name, value)
    return out


def parse_query(data: str | bytes, max_input_vars: int | None = None) -> PhpArray:
    """Parse ``application/x-www-form-urlencoded`` data (a body or a URL query); bytes are read as UTF-8."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    pairs = []
    for chunk in data.split(b"&"):
        if not chunk:
            continue
        name, _, value = chunk.partition(b"=")
        pairs.append((_decode(name), _decode(value)))
    return parse_pairs(pairs, max_input_vars)


def _decode(part: bytes) -> str:
    # urldecode(): "+" is a space, %XX a byte; the bytes are UTF-8 (invalid sequences replaced)
    return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8", "replace")
