"""The command line: the `moodle-sync` group, the commands it gathers and main(), the entry point.

The commands are thin click commands that call the jobs (moodle_sync/jobs/) and print results, in
moodle_sync/commands/ by what they do (the portal's, serve and portal user, in commands/portal.py). A command's
module is imported only when that command runs or its help is shown (COMMANDS, LazyGroup): `pull` does not pay
for the roster readers, the portal or the emulator.

Exit codes: 0 done / in sync; 1 error, the message says what to fix (a roster import's refused rows
included); 2 changes pending (only with --detailed-exitcode); 3 apply finished partly on a failure a rerun
may fix (run it again: it converges); 64 usage error (bad option or argument).
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
from typing import Any

import click

from moodle_sync import __version__
from moodle_sync.commands.exits import EXIT_CODES_HELP, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, unexpected
from moodle_sync.commands.options import DEBUG_HELP, VERBOSE_HELP, logging_options_everywhere
from moodle_sync.console import Console
from moodle_sync.errors import MoodleSyncError
from moodle_sync.logs import configure_logging
from moodle_sync.writing.runs import new_command, wrote_in_this_process

#: every command: its name → "module:attribute", the module imported only when the command is looked up
COMMANDS = {
    "validate": "moodle_sync.commands.sync:validate",
    "plan": "moodle_sync.commands.sync:plan",
    "apply": "moodle_sync.commands.sync:apply",
    "roster": "moodle_sync.commands.rosters:roster",
    "session": "moodle_sync.commands.sessions:session",
    "pull": "moodle_sync.commands.completions:pull",
    "report": "moodle_sync.commands.completions:report",
    "remind": "moodle_sync.commands.completions:remind",
    "doctor": "moodle_sync.commands.sync:doctor",
    "runs": "moodle_sync.commands.sync:runs",
    "emulator": "moodle_sync.commands.tools:emulator",
    "demo": "moodle_sync.commands.tools:demo",
    "serve": "moodle_sync.commands.portal:serve",
    "portal": "moodle_sync.commands.portal:portal_group",
    "adopt": "moodle_sync.commands.adopt:adopt",
    "purge": "moodle_sync.commands.privacy:purge",
    "person": "moodle_sync.commands.privacy:person",
}


class LazyGroup(click.Group):
    """A group whose commands are imported when looked up (click's documented LazyGroup): running one command
    imports that command's module only; listing them all (``--help``, shell completion) imports them all."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, attribute = self.lazy_commands[cmd_name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
            logging_options_everywhere(command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             help=f"""Keep a Moodle site in step with versioned course specs in git.

\b
The usual round:
  moodle-sync validate course_specs/           check the specs (file:line for every problem)
  moodle-sync plan --out plan.json             see what would change in Moodle
  moodle-sync apply plan.json                  apply exactly that plan
  moodle-sync demo                             all of it against a built-in Moodle emulator
{EXIT_CODES_HELP}""", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="moodle-sync")
@click.option("--debug", is_flag=True, help=DEBUG_HELP)
@click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
def cli(debug: bool, verbose: bool) -> None:
    configure_logging(verbose=verbose, debug=debug)


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    """Entry point: like click's, but usage errors exit 64 so that 2 only ever means 'changes pending'.

    A SIGTERM (a scheduler stopping the job) unwinds like Ctrl-C, so the run record is closed as
    interrupted instead of being left "running".
    """
    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        signal.signal(signal.SIGTERM, _terminated)
    new_command()
    try:
        rv = cli.main(args=argv, prog_name="moodle-sync", standalone_mode=False)
    except click.UsageError as e:
        e.show()
        sys.exit(EXIT_USAGE)
    except (click.exceptions.Abort, KeyboardInterrupt):  # Ctrl-C (click turns it into Abort), or "no" at a prompt
        if wrote_in_this_process():
            Console().error("interrupted after part of the work was written to Moodle\n  hint: run the same "
                            "command again: it re-reads Moodle and converges without duplicates")
            sys.exit(EXIT_PARTIAL)
        click.echo("Aborted: nothing was written to Moodle.", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except MoodleSyncError as e:  # raised outside a command (e.g. while loading settings)
        if "--debug" in (argv if argv is not None else sys.argv[1:]):
            raise
        Console().error(str(e))
        sys.exit(EXIT_ERROR)
    except Exception as e:
        if "--debug" in (argv if argv is not None else sys.argv[1:]):
            raise
        Console().error(unexpected(e))
        sys.exit(EXIT_ERROR)
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)
