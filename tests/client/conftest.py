"""Fixtures for the client edge tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from client_helpers import make_client

from moodle_sync.moodle.client import MoodleClient


@pytest.fixture
def client() -> MoodleClient:
    return make_client()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
