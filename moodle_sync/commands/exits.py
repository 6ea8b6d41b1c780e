"""How a command ends: the documented exit codes, and library errors turned into one line and a code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from moodle_sync.console import Console
from moodle_sync.errors import ApplyError, MoodleSyncError, redact

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2, 3, 64

EXIT_CODES_HELP = """
\b
Exit codes:
  0   done, or Moodle already matches the specs
  1   error: the message says what to fix (nothing half-done is left; a roster import
      may have done all but the rows it names, which running it again would not change)
  2   changes pending (plan --detailed-exitcode only)
  3   apply, import or pull finished partly on a failure a rerun may fix (a lost
      answer, a Moodle error); run it again, it converges
  64  usage error (unknown option, missing argument)
"""

F = TypeVar("F", bound=Callable[..., Any])


def debugging(ctx: click.Context) -> bool:
    """``--debug`` was given, before the subcommand or after it."""
    root = ctx.find_root()
    return bool(root.params.get("debug") or root.meta.get("moodle_sync.debug"))


def handle_errors(func: F) -> F:
    """Turn library errors into 'Error: …' on stderr and the documented exit codes."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return func(*args, **kwargs)
        except MoodleSyncError as e:
            if debugging(ctx):
                raise
            Console().error(str(e))
            code = EXIT_PARTIAL if isinstance(e, ApplyError) and e.partial else EXIT_ERROR
            ctx.exit(code)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as e:  # a bug of ours: one clear line, never a traceback (--debug shows it)
            if debugging(ctx):
                raise
            Console().error(unexpected(e))
            ctx.exit(EXIT_ERROR)
    return wrapper  # type: ignore[return-value]


def unexpected(error: BaseException) -> str:
    """What a person reads about an error moodle-sync did not foresee (the token redacted)."""
    detail = redact(str(error)).strip().splitlines()[0][:200] if str(error).strip() else "no details"
    return (f"moodle-sync stopped on a problem it did not foresee ({detail}).\n"
            f"  hint: what was done before it is kept (run the same command again to converge); run it with "
            f"--debug to see where it happened, and report that output to the moodle-sync maintainers")
