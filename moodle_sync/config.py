"""Settings: command-line flag > environment > ``moodle-sync.toml`` > default.

The environment knows ``MOODLE_URL`` and ``MOODLE_TOKEN`` (and ``MOODLE_SYNC_<SETTING>`` for every
setting). The token may also come from ``token_command`` (e.g. ``"pass moodle/token"``), never from a
spec, a plan file or the state store.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodle_sync.errors import ConfigError

CONFIG_FILE = "moodle-sync.toml"

#: setting name → (type, default)
SETTINGS: dict[str, tuple[type, Any]] = {
    "url": (str, ""),
    "token": (str, ""),
    "token_command": (str, ""),
    "specs": (str, "course_specs"),
    "state_path": (str, ".moodle-sync/state.db"),
    "max_input_vars": (int, 5000),
    "timeout": (float, 120.0),
    "retries": (int, 5),
    "allow_http": (bool, False),
    "verify_tls": (bool, True),
    "auth": (str, "manual"),
    "workers": (int, 4),
    #: reports show rounded counts below this as "<N"; a hub cannot ask for less
    "report_threshold": (int, 5),
    #: the custom report `pull` reads completions from in bulk (completions/report_setup.py); "" for none
    "completion_report": (str, "moodle-sync"),
}

ENV_ALIASES = {"url": "MOODLE_URL", "token": "MOODLE_TOKEN"}

#: role shortname → id on a stock Moodle install; no web service lists roles, so a site that differs
#: says so in moodle-sync.toml (``[roles]``) and `doctor` checks what it can see
DEFAULT_ROLES = {"manager": 1, "coursecreator": 2, "editingteacher": 3, "teacher": 4, "student": 5}

#: settings that are tables in moodle-sync.toml, not single values
TABLES = {"roles", "hubs", "portal", "schedule"}  # portal, schedule: read by moodle_sync/portal/config.py


@dataclass
class Settings:
    """Resolved settings and where each came from (``sources[name]`` = flag/env/file/default)."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    #: role shortname → Moodle role id
    roles: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    #: hub name → {"county": "W", "token_command": "…"} (regional hubs and their county)
    hubs: dict[str, dict[str, str]] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "token" and v else v) for k, v in self.values.items()}
        return f"Settings({shown})"

    def require_moodle(self) -> tuple[str, str]:
        """The Moodle URL and token, or a ConfigError saying how to give them."""
        if not self.values["url"]:
            raise ConfigError("no Moodle URL given", key="url",
                              hint="pass --url, set MOODLE_URL, or put url = \"https://…\" in moodle-sync.toml")
        token = self.values["token"]
        if not token and self.values["token_command"]:
            token = _run_token_command(self.values["token_command"])
        if not token:
            raise ConfigError("no web-service token given", key="token",
                              hint="set MOODLE_TOKEN, or token_command = \"pass moodle/token\" in "
                                   "moodle-sync.toml (never put the token itself in a file in git)")
        return str(self.values["url"]), str(token)


def _convert(name: str, raw: Any, source: str) -> Any:
    kind = SETTINGS[name][0]
    if kind is bool and isinstance(raw, str):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{raw!r} is not a yes/no value", key=name, source=source)
    try:
        return kind(raw)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{raw!r} is not a valid {kind.__name__}", key=name, source=source) from e


def load_settings(flags: dict[str, Any] | None = None, *, config_path: Path | str | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Resolve every setting from flags, environment, the config file and defaults."""
    env = os.environ if environ is None else environ
    file_values: dict[str, Any] = {}
    path = Path(config_path) if config_path else Path(CONFIG_FILE)
    if path.exists():
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError) as e:
            raise ConfigError(f"cannot read {path}: {e}", hint="fix the TOML syntax") from e
        if "token" in file_values:
            raise ConfigError(f"{path} holds a token", key="token", source=str(path),
                              hint="use token_command or MOODLE_TOKEN; a token in a file ends up in git")
        unknown = set(file_values) - set(SETTINGS) - TABLES
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}",
                              hint=f"known settings: {', '.join(SETTINGS)}")
    elif config_path:
        raise ConfigError(f"config file {path} does not exist", key="config")

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, (_kind, default) in SETTINGS.items():
        flag = (flags or {}).get(name)
        env_names = [f"MOODLE_SYNC_{name.upper()}"] + ([ENV_ALIASES[name]] if name in ENV_ALIASES else [])
        env_hit = next((n for n in env_names if env.get(n)), None)
        if flag is not None:
            values[name], sources[name] = _convert(name, flag, "flag"), "flag"
        elif env_hit:
            values[name], sources[name] = _convert(name, env[env_hit], env_hit), f"env {env_hit}"
        elif name in file_values:
            values[name], sources[name] = _convert(name, file_values[name], str(path)), str(path)
        else:
            values[name], sources[name] = default, "default"
    roles = dict(DEFAULT_ROLES)
    for name, rid in dict(file_values.get("roles", {})).items():
        if not isinstance(rid, int) or rid < 1:
            raise ConfigError(f"role {name!r} must map to a positive role id, not {rid!r}", key=f"roles.{name}",
                              source=str(path))
        roles[name] = rid
    hubs = {str(k): {str(a): str(b) for a, b in dict(v).items()} for k, v in dict(file_values.get("hubs", {})).items()}
    return Settings(values, sources, roles=roles, hubs=hubs)


def _run_token_command(command: str) -> str:
    try:
        out = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as e:
        raise ConfigError(f"token_command failed: {type(e).__name__}", key="token_command") from e
    return out.stdout.strip()
