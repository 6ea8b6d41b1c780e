"""What every job works with: the Moodle connection, the state store and the specs.

A hub connects with its own web-service token when ``[hubs.NAME]`` has one (``Settings.as_hub``, the one
lookup of a hub's token); an administrator, or a hub without one, with the site's.
"""

from __future__ import annotations

from pathlib import Path

from moodle_sync.config import Settings
from moodle_sync.moodle.client import MoodleClient, RetryPolicy
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.transport import InProcessHandler, Transport
from moodle_sync.scope import Scope
from moodle_sync.specs.load import load_specs
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore
from moodle_sync.store.sites import bind_site


def connect(url: str, token: str, *, allow_http: bool = False, timeout: float = 120.0,
            max_input_vars: int = 5000, retries: int = 5, verify: bool = True,
            mount: InProcessHandler | None = None) -> MoodleApi:
    """A typed Moodle API over a fresh transport (``mount`` routes it to an in-process emulator)."""
    transport = Transport(url, timeout=timeout, allow_http=allow_http, verify=verify)
    if mount is not None:
        transport.mount(mount)
    client = MoodleClient(transport, token, max_input_vars=max_input_vars,
                          retry=RetryPolicy(attempts=max(1, retries)))
    return MoodleApi(client)


def connect_from_settings(settings: Settings, mount: InProcessHandler | None = None,
                          scope: Scope | None = None) -> MoodleApi:
    """Moodle as ``scope`` acts on it: a configured hub with its own ``token_command`` uses that token."""
    if scope is not None and scope.is_hub and scope.name in settings.hubs:
        settings = settings.as_hub(scope.name)
    url, token = settings.require_moodle()
    return connect(url, token, allow_http=settings.allow_http, timeout=settings.timeout,
                   max_input_vars=settings.max_input_vars, retries=settings.retries,
                   verify=settings.verify_tls, mount=mount)


def open_store(settings: Settings, api: MoodleApi) -> StateStore:
    return open_site_store(Path(settings.state_path), api)


def open_site_store(path: Path | str, api: MoodleApi) -> StateStore:
    """The state store at ``path``, keyed by the site as Moodle names itself (site info's ``siteurl``).

    Raises:
        StoreError: the store holds rows of another site only.
    """
    return bind_site(path, siteurl=api.siteurl(), typed_url=api.client.transport.base_url)


def load(specs_path: Path | str) -> SpecSet:
    return load_specs(Path(specs_path))
