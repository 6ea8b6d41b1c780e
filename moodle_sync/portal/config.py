"""The portal's and the scheduler's settings: ``[portal]`` and ``[schedule]`` in moodle-sync.toml.

```toml
[portal]
host = "127.0.0.1"          # loopback by default: put a reverse proxy with TLS in front (README)
port = 8080
secure_cookies = true       # behind HTTPS: the session cookie is sent over TLS only
max_upload_mb = 30
session_hours = 8
trusted_proxies = ["127.0.0.1"]   # the reverse proxy in front: only its X-Forwarded-For is believed
password_checks = 2         # password checks at once (64 MiB each); about the number of cores
max_pending_uploads = 5     # per county: uploads waiting for Bekräfta (deleted once imported, replaced or
max_pending_upload_mb = 100 # expired, preview_minutes after the upload), and their megabytes in all

[schedule]
apply_on_change = true      # apply when a file in the specs directory changes
apply_at = ["06:00"]        # and/or at these times of day (Europe/Stockholm)
pull_at = ["02:30"]         # pull completions every night
purge_at = ["03:45"]        # remove people past retention_months (the default; [] for never)
notify_emails = ["it@region.se"]
smtp_host = "localhost"
notify_moodle_users = ["admin"]   # Moodle usernames that get a message when a run fails
```
"""

from __future__ import annotations

import datetime
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from moodle_sync.config import CONFIG_FILE, Settings
from moodle_sync.errors import ConfigError
from moodle_sync.portal.forwarded import networks

_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


class PortalConfig(BaseModel):
    """``[portal]``: where the portal listens, its cookies, uploads, login limits and the proxy in front of it.

    ``trusted_proxies`` names the reverse proxies whose ``X-Forwarded-For`` header is believed (IP addresses
    or CIDR ranges, e.g. ``["127.0.0.1"]`` when nginx runs on the same host). By default none is: the client
    is the connection's peer, whatever headers it sends. Behind a proxy, name it here, or every client
    shares the proxy's address in the login limit and the audit log; name only proxies that replace or
    append to the header, never pass a client's own through.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    #: set behind HTTPS (a reverse proxy with TLS): cookies then travel over TLS only
    secure_cookies: bool = False
    max_upload_mb: int = Field(default=30, ge=1, le=30)
    session_hours: float = Field(default=8, gt=0, le=24 * 7)
    #: where accounts, sessions, the audit log and uploads live (default: ``portal/`` beside the state store)
    data_dir: str = ""
    #: failed logins allowed per account (four times as many per address) within ``login_window_minutes``; an
    #: attempt counts from the moment it starts, a successful one is then taken back
    login_attempts: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For is believed; default none")
    password_checks: int = Field(
        default=2, ge=1, le=64,
        description="password checks (argon2id, 64 MiB each) run at once; a login that waits too long for one is "
                    "asked to try again in a while")
    #: a preview can be confirmed for this long (at most a day); its uploaded file is deleted soon after
    preview_minutes: int = Field(default=60, ge=1, le=24 * 60)
    #: uploads waiting for Bekräfta that one county may have at once (files, and megabytes in all)
    max_pending_uploads: int = Field(default=5, ge=1, le=100)
    max_pending_upload_mb: int = Field(default=100, ge=1, le=10_000)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> list[str]:
        items = [value] if isinstance(value, str) else list(value or [])
        for item in items:
            try:
                networks([str(item)])
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or a CIDR range like \"10.0.0.0/8\"") from None
        return [str(item).strip() for item in items]


class ScheduleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    apply_on_change: bool = False
    apply_at: list[str] = Field(default_factory=list)
    pull_at: list[str] = Field(default_factory=list)
    #: `moodle-sync purge --yes` every night while the scheduler runs (people past retention_months go)
    purge_at: list[str] = Field(default_factory=lambda: ["03:45"])
    #: seconds between two looks at the clock and the specs directory
    check_seconds: float = Field(default=30, gt=0)
    notify_emails: list[str] = Field(default_factory=list)
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "moodle-sync@localhost"
    notify_moodle_users: list[str] = Field(default_factory=list)

    @field_validator("apply_at", "pull_at", "purge_at", mode="before")
    @classmethod
    def _times(cls, value: Any) -> list[str]:
        items = [value] if isinstance(value, str) else list(value or [])
        for item in items:
            if not isinstance(item, str) or not _TIME.fullmatch(item):
                raise ValueError(f"{item!r} is not a time of day like \"02:30\"")
        return items

    @property
    def enabled(self) -> bool:
        return bool(self.apply_on_change or self.apply_at or self.pull_at)

    def times(self, name: str) -> list[datetime.time]:
        return [datetime.time(int(t[:2]), int(t[3:])) for t in getattr(self, name)]


def _tables(config_path: Path | str | None) -> tuple[dict[str, Any], dict[str, Any], str]:
    path = Path(config_path) if config_path else Path(CONFIG_FILE)
    if not path.exists():
        return {}, {}, str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as e:
        raise ConfigError(f"cannot read {path}: {e}", hint="fix the TOML syntax") from e
    return dict(data.get("portal", {})), dict(data.get("schedule", {})), str(path)


def load_portal_config(config_path: Path | str | None = None) -> tuple[PortalConfig, ScheduleConfig]:
    portal, schedule, source = _tables(config_path)
    try:
        return PortalConfig(**portal), ScheduleConfig(**schedule)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        table = "portal" if where in PortalConfig.model_fields or not schedule else "schedule"
        raise ConfigError(f"{source}: [{table}] {where}: {first['msg']}", key=f"{table}.{where}",
                          hint="see `moodle-sync serve --help` and the README's portal section") from e


def data_dir(settings: Settings, portal: PortalConfig) -> Path:
    return Path(portal.data_dir) if portal.data_dir else Path(settings.state_path).resolve().parent / "portal"
