"""Settings: command-line flag > environment > ``moodle-sync.toml`` > default.

Every setting is one typed field of :class:`Settings`: its name is the key in moodle-sync.toml and
``MOODLE_SYNC_<NAME>`` its environment variable (``url`` and ``token`` are also read from ``MOODLE_URL`` and
``MOODLE_TOKEN``). The token may also come from ``token_command`` (e.g. ``"pass moodle/token"``), never from
a spec, a plan file, moodle-sync.toml or the state store.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError

from moodle_sync.counties import resolve_county
from moodle_sync.errors import ConfigError

CONFIG_FILE = "moodle-sync.toml"

#: role shortname → id on a stock Moodle install; no web service lists roles, so a site that differs
#: says so in moodle-sync.toml (``[roles]``) and `doctor` checks what it can see
DEFAULT_ROLES = {"manager": 1, "coursecreator": 2, "editingteacher": 3, "teacher": 4, "student": 5}


@dataclass(frozen=True)
class AlsoFromEnv:
    """Field metadata: a setting is also read from this environment variable (after ``MOODLE_SYNC_<NAME>``)."""

    name: str


_YES, _NO = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def _yes_no(raw: Any) -> Any:
    """``yes``/``no``, ``true``/``false``, ``on``/``off``, ``1``/``0`` from the environment or the file."""
    if isinstance(raw, str):
        if raw.lower() in _YES:
            return True
        if raw.lower() in _NO:
            return False
    return raw  # a bool passes; anything else fails as "not a yes/no value"


def _county_code(raw: Any) -> Any:
    """A hub's county as its letter code: ``county = 20``, ``"20"``, ``"w"`` or ``"Dalarna"`` are all "W"."""
    text = str(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else raw
    return resolve_county(text).code if isinstance(text, str) else text  # ValueError: named by its key


YesNo = Annotated[bool, BeforeValidator(_yes_no)]
RoleId = Annotated[int, Field(strict=True, ge=1)]


class Hub(BaseModel):
    """A regional hub (``[hubs.NAME]``): the county it may work with, and optionally its own web-service token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    county: Annotated[str, BeforeValidator(_county_code)]
    #: the hub's own token (e.g. a Moodle account that may only do what a hub does); else the site's
    token_command: str = ""


class Settings(BaseModel):
    """Resolved settings, and where each came from (``sources[name]``: flag, env …, the file, default)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    url: Annotated[str, AlsoFromEnv("MOODLE_URL")] = ""
    #: SecretStr: the token never shows in repr, str or logs
    token: Annotated[SecretStr, AlsoFromEnv("MOODLE_TOKEN")] = SecretStr("")
    token_command: str = ""
    specs: str = "course_specs"
    state_path: str = ".moodle-sync/state.db"
    max_input_vars: int = Field(default=5000, ge=1)
    timeout: float = Field(default=120.0, gt=0)
    retries: int = Field(default=5, ge=0)
    allow_http: YesNo = False
    verify_tls: YesNo = True
    auth: str = "manual"
    #: 0 or less works as 1
    workers: int = 4
    #: reports show published counts below this as "<N"; a hub cannot ask for less
    report_threshold: int = 5
    #: the custom report `pull` reads completions from in bulk (completions/report_setup.py); "" for none
    completion_report: str = "moodle-sync"
    #: months the state store and the portal keep a person after they left every roster and have no active
    #: enrolment the tool manages; `moodle-sync purge` (nightly in the portal) then keeps only anonymous facts
    retention_months: int = Field(default=36, ge=1)

    #: role shortname → Moodle role id (``[roles]``, over DEFAULT_ROLES)
    roles: dict[str, RoleId] = Field(default_factory=lambda: dict(DEFAULT_ROLES))
    #: hub name → its county and token (``[hubs.NAME]``: regional hubs)
    hubs: dict[str, Hub] = Field(default_factory=dict)

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def sources(self) -> dict[str, str]:
        """Where each setting came from: ``flag``, ``env MOODLE_…``, the config file's path, or ``default``."""
        return self._sources

    def require_moodle(self) -> tuple[str, str]:
        """The Moodle URL and token, or a ConfigError saying how to give them."""
        if not self.url:
            raise ConfigError("no Moodle URL given", key="url",
                              hint="pass --url, set MOODLE_URL, or put url = \"https://…\" in moodle-sync.toml")
        token = self.token.get_secret_value()
        if not token and self.token_command:
            token = _run_token_command(self.token_command)
        if not token:
            raise ConfigError("no web-service token given", key="token",
                              hint="set MOODLE_TOKEN, or token_command = \"pass moodle/token\" in "
                                   "moodle-sync.toml (never put the token itself in a file in git)")
        return self.url, token

    def hub(self, name: str) -> Hub:
        """The hub configured as ``[hubs.NAME]``.

        Raises:
            ConfigError: no such hub (with the closest name, when there is one).
        """
        if name in self.hubs:
            return self.hubs[name]
        import difflib

        close = difflib.get_close_matches(name, list(self.hubs), n=1, cutoff=0.6)
        if close:
            raise ConfigError(f"unknown hub {name!r}; did you mean {close[0]!r}?", key="--hub",
                              hint=f"the hubs in moodle-sync.toml: {', '.join(sorted(self.hubs))}")
        raise ConfigError(f"unknown hub {name!r}", key="hubs",
                          hint=f'add [hubs.{name}] with county = "W" to moodle-sync.toml')

    def as_hub(self, name: str) -> Settings:
        """These settings as hub ``name`` connects: with its own ``token_command`` when it has one and no token
        was given explicitly (flag or environment). The one place a hub's token is looked up.

        Raises:
            ConfigError: no such hub.
        """
        hub = self.hub(name)
        if not hub.token_command or self.sources.get("token", "default") != "default":
            return self
        changed = self.model_copy(update={"token_command": hub.token_command})
        changed._sources = {**self._sources, "token_command": f"hubs.{name}.token_command"}
        return changed


#: the tables of moodle-sync.toml that are Settings fields; the others are read by moodle_sync/portal/config.py
TABLES = ("roles", "hubs")
OTHER_TABLES = ("portal", "schedule")
#: the single-value settings, in declaration order
SETTINGS: tuple[str, ...] = tuple(name for name in Settings.model_fields if name not in TABLES)


def env_vars(name: str) -> list[str]:
    """The environment variables a setting is read from, first match wins."""
    also = [m.name for m in Settings.model_fields[name].metadata if isinstance(m, AlsoFromEnv)]
    return [f"MOODLE_SYNC_{name.upper()}", *also]


def load_settings(flags: dict[str, Any] | None = None, *, config_path: Path | str | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Resolve every setting from flags, environment, the config file and defaults."""
    env = os.environ if environ is None else environ
    path = Path(config_path) if config_path else Path(CONFIG_FILE)
    file_values = _read_file(path, given=bool(config_path))
    raw: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in SETTINGS:
        flag = (flags or {}).get(name)
        env_hit = next((n for n in env_vars(name) if env.get(n)), None)
        if flag is not None:
            raw[name], sources[name] = flag, "flag"
        elif env_hit:
            raw[name], sources[name] = env[env_hit], f"env {env_hit}"
        elif name in file_values:
            raw[name], sources[name] = file_values[name], str(path)
        else:
            sources[name] = "default"
    for table in TABLES:
        if table in file_values:
            raw[table], sources[table] = file_values[table], str(path)
        else:
            sources[table] = "default"
    if isinstance(raw.get("roles"), dict):
        raw["roles"] = {**DEFAULT_ROLES, **raw["roles"]}
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as e:
        raise _config_error(e, sources) from e
    settings._sources = sources
    return settings


def _read_file(path: Path, *, given: bool) -> dict[str, Any]:
    if not path.exists():
        if given:
            raise ConfigError(f"config file {path} does not exist", key="config")
        return {}
    try:
        file_values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as e:
        raise ConfigError(f"cannot read {path}: {e}", hint="fix the TOML syntax") from e
    if "token" in file_values:
        raise ConfigError(f"{path} holds a token", key="token", source=str(path),
                          hint="use token_command or MOODLE_TOKEN; a token in a file ends up in git")
    unknown = set(file_values) - set(SETTINGS) - set(TABLES) - set(OTHER_TABLES)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}",
                          hint=f"known settings: {', '.join(SETTINGS)}")
    return file_values


_KINDS = {"string_type": "str", "int_type": "int", "int_parsing": "int", "int_from_float": "int",
          "float_type": "float", "float_parsing": "float"}


def _config_error(error: ValidationError, sources: dict[str, str]) -> ConfigError:
    """The first problem of a validation, worded as before: the value, the key, where it came from."""
    first = error.errors()[0]
    loc = [str(p) for p in first["loc"]]
    name, value = loc[0], first["input"]
    source = sources.get(name, "").removeprefix("env ")
    if name == "roles" and len(loc) > 1:
        return ConfigError(f"role {loc[1]!r} must map to a positive role id, not {value!r}",
                           key=f"roles.{loc[1]}", source=source)
    key = ".".join(loc[:3]) if name in TABLES else name  # hubs.NAME.county, not the validator's inner steps
    if first["type"].startswith("bool"):
        message = f"{value!r} is not a yes/no value"
    elif first["type"] in _KINDS:
        message = f"{value!r} is not a valid {_KINDS[first['type']]}"
    else:
        message = f"{value!r} is not allowed: it should be {first['msg'].removeprefix('Input should be ')}"
    return ConfigError(message, key=key, source=source)


def _run_token_command(command: str) -> str:
    try:
        out = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as e:
        raise ConfigError(f"token_command failed: {type(e).__name__}", key="token_command") from e
    return out.stdout.strip()
