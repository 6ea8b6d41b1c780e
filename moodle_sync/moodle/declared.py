"""What Moodle 4.3 declares about its web-service functions: Moodle's contract, recorded from a live site.

``data/ws-signatures-4.3.json`` holds each function's parameters, returns and read/write type as
``core_external\\external_api`` describes them; ``data/moodle-4.3-functions.json`` every function name the
recorded site knew. The client reads the types (what may be re-sent), the emulator serves the same file.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SIGNATURES_FILE = "ws-signatures-4.3.json"
FUNCTIONS_FILE = "moodle-4.3-functions.json"


def read_data(name: str) -> dict[str, Any]:
    """One of the packaged JSON files of ``moodle_sync/moodle/data``."""
    text = resources.files("moodle_sync.moodle").joinpath(f"data/{name}").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def declared_signatures() -> dict[str, Any]:
    """Every function's declaration as Moodle 4.3 dumps it (raw JSON), keyed by name."""
    return read_data(SIGNATURES_FILE)


@cache
def declared_types() -> dict[str, str]:
    """Function name → ``read`` or ``write``, as Moodle declares it."""
    return {name: sig["type"] for name, sig in declared_signatures().items()
            if isinstance(sig, dict) and sig.get("type") in ("read", "write")}
