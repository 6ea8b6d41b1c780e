"""The options and helpers the commands share: -v/--debug everywhere, the connection options, --specs,
--site, --config, and the settings, store, scope and sync lock a command works with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from moodle_sync.config import SETTINGS, Settings, load_settings
from moodle_sync.console import Console
from moodle_sync.errors import ConfigError, MoodleSyncError
from moodle_sync.logs import configure_logging
from moodle_sync.scope import Scope
from moodle_sync.store.db import StateStore

F = TypeVar("F", bound=Callable[..., Any])

VERBOSE_HELP = "Log each Moodle call (function, items, time, retries) to stderr."
DEBUG_HELP = "Show tracebacks, and the bodies of Moodle calls (token hidden)."


def _logging_option(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """``-v``/``--debug`` after a subcommand (``plan -v``) work as they do before it."""
    if value:
        root = ctx.find_root()
        root.meta[f"moodle_sync.{param.name}"] = True
        configure_logging(verbose=param.name == "verbose", debug=param.name == "debug")
    return value


def logging_options_everywhere(command: click.Command) -> None:
    """Give a command, or every command of a group (its subgroups' too), the root group's ``-v`` and ``--debug``
    (not passed to the command function). Giving them twice adds nothing."""
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            logging_options_everywhere(subcommand)
        return
    names = {o for p in command.params for o in getattr(p, "opts", [])}
    if "--verbose" not in names:
        command.params.append(click.Option(["-v", "--verbose"], is_flag=True, expose_value=False,
                                           is_eager=True, callback=_logging_option, help=VERBOSE_HELP))
    if "--debug" not in names:
        command.params.append(click.Option(["--debug"], is_flag=True, expose_value=False, is_eager=True,
                                           callback=_logging_option, help=DEBUG_HELP))


#: ``--config FILE``: every command that reads settings takes it (the portal's too)
config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE",
                             help="Config file (default: ./moodle-sync.toml when present).")

#: the options every command that talks to Moodle takes (connection_options); an option whose parameter is
#: named after a Settings field (moodle_sync/config.py) is that setting's flag: settings_from passes it on
CONNECTION_OPTIONS = (
    click.option("--url", metavar="URL", help="Moodle site URL (else MOODLE_URL, else moodle-sync.toml)."),
    click.option("--token", metavar="TOKEN", help="Web-service token (prefer MOODLE_TOKEN or "
                                                  "token_command: a flag shows in the process list)."),
    config_option,
    click.option("--state", "state_path", metavar="FILE",
                 help="SQLite state store (default .moodle-sync/state.db)."),
    click.option("--allow-http", is_flag=True, default=None,
                 help="Allow plain http to a non-loopback host (the token travels unencrypted)."),
    click.option("--max-input-vars", type=int, metavar="N",
                 help="The site's PHP max_input_vars (default 5000); batches stay under it."),
)


def connection_options(func: F) -> F:
    """Options every command that talks to Moodle takes (CONNECTION_OPTIONS, in that order in --help)."""
    for option in reversed(CONNECTION_OPTIONS):
        func = option(func)
    return func


#: ``--specs DIR``: the ``specs`` setting for commands whose argument is something else (a plan, a roster)
specs_option = click.option("--specs", "specs", type=click.Path(), metavar="DIR",
                            help="Specs directory (default course_specs).")


def site_option(func: F) -> F:
    """``--site`` for commands that read the state store without Moodle."""
    return click.option("--site", metavar="URL", help="The site whose records to read, when the state store "
                                                      "holds more than one (its URL).")(func)


def store_for_reading(settings: Settings, site: str | None) -> StateStore:
    """The state store for a command that needs no Moodle: the one site it holds, or the one ``--site`` names
    (else the configured URL, when the store holds several)."""
    from moodle_sync.store.sites import open_for_reading

    if site is None and settings.url:
        try:  # MOODLE_URL set for other commands picks the site, if the store has it under that address
            return open_for_reading(settings.state_path, settings.url)
        except MoodleSyncError:
            pass
    return open_for_reading(settings.state_path, site)


def settings_from(kwargs: dict[str, Any], **extra: Any) -> Settings:
    """The settings of a command: its connection options (taken out of ``kwargs``) and ``extra`` as flags."""
    flags = {name: kwargs.pop(name) for name in SETTINGS if name in kwargs} | extra
    settings = load_settings({k: v for k, v in flags.items() if v is not None},
                             config_path=kwargs.pop("config_path", None))
    from moodle_sync.store.gitcheck import committable_store_warning

    if warning := committable_store_warning(settings.state_path):
        Console().warn(warning)
    return settings


def hold_sync_lock(settings: Settings, what: str) -> None:
    """Take the one sync lock (shared with the portal's scheduler) until the command ends; busy → exit 1."""
    from moodle_sync.writing.synclock import acquire

    click.get_current_context().call_on_close(acquire(settings.state_path, what).release)


def scope_for(settings: Settings, hub: str | None, county: str | None = None) -> Scope:
    """The caller's scope, made once here and handed down: a configured hub (its own county; it connects with
    its own token, when it has one: jobs/site.py), an administrator working on the county ``--county`` names,
    or an administrator (every county).

    Raises:
        ConfigError: no such hub, or ``--county`` names no county.
        ScopeError: ``--county`` is not the hub's county.
    """
    code = None
    if county is not None:
        from moodle_sync.counties import resolve_county

        try:
            code = resolve_county(county).code
        except ValueError as e:
            raise ConfigError(str(e), key="--county") from e
    if hub:
        scope = Scope.for_hub(hub, settings.hub(hub))
        return scope if code is None else scope.within(code)
    return Scope.for_admin() if code is None else Scope.for_county(code)
