"""The `moodle-sync` command's entry point: loads the command line, and a Ctrl-C while it loads (the imports
take a moment on a slow machine) ends it with one line, never a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from moodle_sync.cli import main as command_line
    except KeyboardInterrupt:
        sys.stderr.write("Aborted: nothing was written to Moodle.\n")
        sys.exit(1)
    command_line()
