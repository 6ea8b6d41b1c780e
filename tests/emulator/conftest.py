"""Fixtures for the emulator's behaviour tests: a fresh site and a caller that speaks REST in-process."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from moodle_sync.emulator import Emulator

TOKEN = "emu0123456789abcdef0123456789abc"
ENDPOINT = "https://moodle.test/webservice/rest/server.php"


def flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """PHP bracket encoding: {"courses": [{"fullname": "x"}]} -> courses[0][fullname]=x."""
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}[{k}]" if prefix else str(k), v, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flatten(f"{prefix}[{i}]", v, out)
    elif isinstance(value, bool):
        out.append((prefix, "1" if value else "0"))
    else:
        out.append((prefix, str(value)))
    return out


class Caller:
    """Calls web-service functions on an emulator through Emulator.handle, as a client would."""

    def __init__(self, emulator: Emulator, token: str = TOKEN) -> None:
        self.emulator = emulator
        self.token = token

    def raw(self, wsfunction: str, params: dict[str, Any] | None = None, **extra: str) -> tuple[int, bytes]:
        pairs = flatten("", params or {}, [])
        pairs += [("wstoken", self.token), ("wsfunction", wsfunction), ("moodlewsrestformat", "json")]
        pairs += list(extra.items())
        status, _, body = self.emulator.handle("POST", ENDPOINT, {"Content-Type": "application/x-www-form-urlencoded"},
                                               urlencode(pairs).encode())
        return status, body

    def __call__(self, wsfunction: str, params: dict[str, Any] | None = None, **extra: str) -> Any:
        status, body = self.raw(wsfunction, params, **extra)
        assert status == 200, body
        return json.loads(body)

    def ok(self, wsfunction: str, params: dict[str, Any] | None = None) -> Any:
        """Call and insist on success."""
        answer = self(wsfunction, params)
        assert not (isinstance(answer, dict) and "exception" in answer), answer
        return answer


@pytest.fixture
def clock() -> list[int]:
    """A settable clock: tests move time with ``clock[0] = …``."""
    return [1_800_000_000]


@pytest.fixture
def emulator(clock: list[int]) -> Emulator:
    """Moodle 4.3: these tests hold its recorded words and defaults (test_versions.py holds 4.5's differences)."""
    return Emulator(token=TOKEN, now=lambda: clock[0], moodle="4.3")


@pytest.fixture
def call(emulator: Emulator) -> Caller:
    return Caller(emulator)


@pytest.fixture
def course(emulator: Emulator) -> int:
    """A course in a fresh category, with one manually completed page in section 1."""
    cat = emulator.add_category("Kurser", idnumber="kurser")
    return emulator.add_course("Grundkurs", "GK-1", cat, idnumber="gk@1",
                               modules=[{"name": "Läs detta", "modname": "page", "idnumber": "gk-read",
                                         "section": 1, "completion": 1}])
