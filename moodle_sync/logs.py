"""Where log lines go: ``-v`` one line per Moodle call on stderr, ``--debug`` the bodies too.

Only moodle-sync's own loggers are shown; urllib3's connection chatter never is. The token never
appears: the client redacts every body it logs (errors.redact).
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]

_OURS = "moodle_sync"


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (a test may have replaced it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging must never stop a run
            self.handleError(record)


class _ForPeople(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"Warning: {text}"
        return text


def configure_logging(*, verbose: bool = False, debug: bool = False) -> None:
    """Show moodle-sync's warnings always, each Moodle call with ``verbose``, bodies with ``debug``.

    Calling it again (``moodle-sync -v plan --debug``) only raises the level; it never adds a second
    handler.
    """
    logger = logging.getLogger(_OURS)
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(_ForPeople())
        logger.addHandler(handler)
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    if logger.level == logging.NOTSET or level < logger.level:
        logger.setLevel(level)
    for noisy in ("urllib3", "requests", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
