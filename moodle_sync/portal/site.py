"""The Moodle site the portal works on, as the command line sees it: settings, specs, API and state store.

The web-service token is read here, server-side, and never leaves this process: no page, header or
error shows it (errors.redact strips it from every message).
"""

from __future__ import annotations

from pathlib import Path

from moodle_sync.config import Settings
from moodle_sync.counties import COUNTIES
from moodle_sync.jobs.site import connect_from_settings, load
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.scope import Scope
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore
from moodle_sync.store.sites import open_for_reading


class Site:
    """One Moodle site and its state store; a new API (connection) per use, the settings shared."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def state_path(self) -> Path:
        return Path(self.settings.state_path)

    def specs(self) -> SpecSet:
        return load(self.settings.specs)

    def api(self, scope: Scope | None = None) -> MoodleApi:
        """Moodle as ``scope`` acts on it (none: the site's own): a hub with its own ``token_command`` uses that
        token (jobs/site.py)."""
        return connect_from_settings(self.settings, scope=scope)

    def store(self) -> StateStore:
        """The state store for reports and the run list, without a Moodle call: the site the configured URL
        names (as Moodle names itself or as it was reached), as `report` and `runs` open it.

        Raises:
            StoreError: no store yet, or it does not hold this site.
        """
        return open_for_reading(self.state_path, self.settings.url or None)

    def hub_county(self, hub: str) -> str:
        """The county code of a hub configured as ``[hubs.NAME]``."""
        return self.settings.hub(hub).county


def county_name(code: str) -> str:
    return COUNTIES[code].name if code in COUNTIES else code
