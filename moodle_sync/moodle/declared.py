"""What Moodle declares about its web-service functions: Moodle's contract, recorded from live 4.3 and 4.5 sites.

``data/ws-signatures-<version>.json`` holds each function's parameters, returns and read/write type as
``core_external\\external_api`` describes them; ``data/moodle-<version>-functions.json`` every function name the
recorded site knew. The client reads the types (what may be re-sent) of both, the emulator serves the file of
the version it imitates.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

#: the Moodle versions whose declarations ship with the tool, oldest first
MOODLE_VERSIONS = ("4.3", "4.5")
#: the version the emulator imitates unless told otherwise (``moodle-sync emulator --moodle``): what sites run
DEFAULT_MOODLE = "4.5"


def signatures_file(moodle: str) -> str:
    return f"ws-signatures-{moodle}.json"


def functions_file(moodle: str) -> str:
    return f"moodle-{moodle}-functions.json"


def read_data(name: str) -> dict[str, Any]:
    """One of the packaged JSON files of ``moodle_sync/moodle/data``."""
    text = resources.files("moodle_sync.moodle").joinpath(f"data/{name}").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def declared_signatures(moodle: str = DEFAULT_MOODLE) -> dict[str, Any]:
    """Every function's declaration as that Moodle version dumps it (raw JSON), keyed by name."""
    if moodle not in MOODLE_VERSIONS:
        raise ValueError(f"no recorded signatures for Moodle {moodle}; known: {', '.join(MOODLE_VERSIONS)}")
    return read_data(signatures_file(moodle))


@cache
def declared_types() -> dict[str, str]:
    """Function name → ``read`` or ``write``, as Moodle declares it (any shipped version; a newer one wins).

    A function that a newer Moodle dropped (4.5: core_enrol_edit_user_enrolment) keeps its older type, so the
    client stays careful with it against an older site.
    """
    out: dict[str, str] = {}
    for moodle in MOODLE_VERSIONS:
        out.update({name: sig["type"] for name, sig in declared_signatures(moodle).items()
                    if isinstance(sig, dict) and sig.get("type") in ("read", "write")})
    return out
