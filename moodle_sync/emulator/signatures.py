"""Web-service function signatures: parameter and return descriptions as Moodle declares them.

Read from the dump of a live site of the imitated version that the client ships
(moodle_sync/moodle/data/ws-signatures-<version>.json: Moodle's contract) plus the emulator's hand-written
data/extra-signatures.json for functions the dump lacks (core_user_delete_users).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from moodle_sync.moodle.declared import DEFAULT_MOODLE, declared_signatures, functions_file, read_data

# external_description.php: VALUE_REQUIRED = 1, VALUE_DEFAULT = 0, VALUE_OPTIONAL = 2
REQUIRED = 1
DEFAULT = 0
OPTIONAL = 2


@dataclass(frozen=True)
class Value:
    """``external_value``: one scalar of a PARAM type."""

    type: str
    required: int
    default: Any
    allownull: bool


@dataclass(frozen=True)
class Single:
    """``external_single_structure``: an object with named keys."""

    keys: dict[str, Description]
    required: int
    default: Any


@dataclass(frozen=True)
class Multiple:
    """``external_multiple_structure``: a list of one content description."""

    content: Description
    required: int
    default: Any


Description = Value | Single | Multiple


@dataclass(frozen=True)
class Signature:
    name: str
    component: str
    type: str  # "read" or "write"
    capabilities: str
    parameters: Single
    returns: Description | None
    hand_written: bool = False


def parse_description(node: dict[str, Any]) -> Description:
    kind = node["kind"]
    required = int(node["required"])
    if kind == "value":
        return Value(node["type"], required, node.get("default"), bool(node.get("allownull", True)))
    if kind == "object":
        keys = {k: parse_description(v) for k, v in node["keys"].items()}
        return Single(keys, required, node.get("default"))
    if kind == "list":
        return Multiple(parse_description(node["content"]), required, node.get("default"))
    raise ValueError(f"unknown description kind {kind!r}")


def _read_extra() -> dict[str, Any]:
    text = resources.files("moodle_sync.emulator").joinpath("data/extra-signatures.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def signatures(moodle: str = DEFAULT_MOODLE) -> dict[str, Signature]:
    """Every function with a usable signature in that Moodle version, keyed by name."""
    out: dict[str, Signature] = {}
    for dump in (declared_signatures(moodle), _read_extra()):
        for name, raw in dump.items():
            if name.startswith("_") or "parameters" not in raw:
                continue  # notes, and dump entries that only hold the site's error for that name
            params = parse_description(raw["parameters"])
            assert isinstance(params, Single)
            returns = parse_description(raw["returns"]) if raw.get("returns") else None
            out[name] = Signature(name, raw.get("component", "moodle"), raw.get("type", "read"),
                                  raw.get("capabilities", ""), params, returns, bool(raw.get("hand_written")))
    return out


@cache
def known_functions(moodle: str = DEFAULT_MOODLE) -> frozenset[str]:
    """Every function name the recorded site of that version knew, whether or not the emulator implements it."""
    names: list[str] = read_data(functions_file(moodle))["functions"]
    return frozenset(names) | frozenset(signatures(moodle))
