"""Shared helpers of the client tests: recorded answers, a client on a fake site, a fast retry policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from moodle_sync.moodle.client import MoodleClient, RetryPolicy
from moodle_sync.moodle.transport import Transport

BASE = "https://moodle.example.org"
ENDPOINT = f"{BASE}/webservice/rest/server.php"
TOKEN = "0123456789abcdef0123456789abcdef"
FAST = RetryPolicy(attempts=4, initial_wait=0.001, max_wait=0.002, total_timeout=10.0)

_ANSWERS = json.loads((Path(__file__).parent / "fixtures" / "contract_answers.json").read_text("utf-8"))["steps"]


def recorded(step: str) -> Any:
    """Moodle's answer to a step of contract-4.3.json, as recorded."""
    return _ANSWERS[step]["response"]


def make_client(**kwargs: Any) -> MoodleClient:
    kwargs.setdefault("retry", FAST)
    return MoodleClient(Transport(BASE), TOKEN, **kwargs)

