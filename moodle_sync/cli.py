"""The command line: the `moodle-sync` group, the commands it gathers and main(), the entry point.

The commands are thin click commands that call the jobs (moodle_sync/jobs/) and print results, in
moodle_sync/commands/ by what they do (the portal's, serve and portal user, in commands/portal.py).

Exit codes: 0 done / in sync; 1 error, the message says what to fix (a roster import's refused rows
included); 2 changes pending (only with --detailed-exitcode); 3 apply finished partly on a failure a rerun
may fix (run it again: it converges); 64 usage error (bad option or argument).
"""

from __future__ import annotations

import contextlib
import signal
import sys

import click

from moodle_sync import __version__
from moodle_sync.commands.adopt import adopt
from moodle_sync.commands.completions import pull, remind, report
from moodle_sync.commands.exits import EXIT_CODES_HELP, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, unexpected
from moodle_sync.commands.options import DEBUG_HELP, VERBOSE_HELP, logging_options_everywhere
from moodle_sync.commands.portal import portal_group, serve
from moodle_sync.commands.privacy import person, purge
from moodle_sync.commands.rosters import roster
from moodle_sync.commands.sessions import session
from moodle_sync.commands.sync import apply, doctor, plan, runs, validate
from moodle_sync.commands.tools import demo, emulator
from moodle_sync.console import Console
from moodle_sync.errors import MoodleSyncError
from moodle_sync.logs import configure_logging
from moodle_sync.writing.runs import new_command, wrote_in_this_process


@click.group(help=f"""Keep a Moodle site in step with versioned course specs in git.

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


for command in (validate, plan, apply, roster, session, pull, report, remind, doctor, runs, emulator, demo,
                serve, portal_group, adopt, purge, person):
    cli.add_command(command)
logging_options_everywhere(cli)


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
