"""What an apply shows while it runs: a progress bar on a terminal, each item only with ``-v``.

Failures and skips are always shown, each with its reason; successes are counted for the summary.
"""

from __future__ import annotations

import logging

from moodle_sync.console import Console

__all__ = ["ApplyProgress", "verbose"]

BAR = 30


def verbose() -> bool:
    """Whether ``-v`` (or ``--debug``) is on: moodle-sync's log level is INFO or lower."""
    return logging.getLogger("moodle_sync").isEnabledFor(logging.INFO)


class ApplyProgress:
    """The Applier's ``report``: counts outcome lines against ``total``, draws a bar, prints what matters."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = max(total, 1)
        self.seen = 0
        self.each = verbose()

    def expect(self, more: int) -> None:
        """``more`` outcomes to come that were not known when the bar was made (enrolments after a roster)."""
        self.total += more

    def __call__(self, line: str) -> None:
        if line.lstrip().startswith(("done", "FAILED", "skipped")):
            self.seen += 1
        if self.each or not line.lstrip().startswith("done"):
            self.console.say(line)
        filled = min(BAR, BAR * self.seen // self.total)
        draw = getattr(self.console, "progress", None)  # any object with say() will do as a console
        if draw is not None:
            draw(f"[{'#' * filled}{'.' * (BAR - filled)}] {self.seen}/{self.total} applied")
