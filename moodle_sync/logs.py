"""Where log lines go: ``-v`` one line per Moodle call on stderr, ``--debug`` the bodies too.

Only moodle-sync's own loggers are shown; urllib3's connection chatter never is. The token never
appears: the client redacts every body it logs (errors.redact); nor does anyone's e-mail address or name
(:func:`unnamed`): log lines name nobody, only the output of a command about people does.
"""

from __future__ import annotations

import logging
import re
import sys

__all__ = ["configure_logging", "unnamed"]

#: the fields of Moodle's users (and messages to them) that name a person, in a form body or a JSON answer
_PERSONAL_FIELDS = ("email", "username", "firstname", "lastname", "fullname", "middlename", "alternatename",
                    "firstnamephonetic", "lastnamephonetic", "fullmessage", "fullmessagehtml", "smallmessage",
                    "text", "subject")
_FIELDS = "|".join(_PERSONAL_FIELDS)
_FIELD_IN_FORM = re.compile(r"(\[(?:" + _FIELDS + r")\]=)[^&]*")
_FIELD_IN_JSON = re.compile(r'("(?:' + _FIELDS + r')":\s*)"(?:[^"\\]|\\.)*"')
_EMAIL = re.compile(r"[^\s&=\"'<>\[\](),;:]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

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


def unnamed(text: str) -> str:
    """``text`` (a request or an answer --debug logs) with no e-mail address or name of a person: the values of
    Moodle's name, address and message fields become "…" and any other address "<e-post>"."""
    text = _FIELD_IN_FORM.sub(r"\1…", text)
    text = _FIELD_IN_JSON.sub(r'\1"…"', text)
    return _EMAIL.sub("<e-post>", text)


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
