"""A library error as a page may show it: in Swedish where the catalogue has its words (the library's messages
are made in Swedish while a page is served; this also covers a fixed message made elsewhere), its hint on a
line of its own without the command line's "hint:", the uploaded file by the name it was uploaded under, and
nothing of the server: no path, upload id or command-line option (``--hub``, ``--skip-invalid``).
"""

from __future__ import annotations

import re
from pathlib import Path

from moodle_sync.errors import MoodleSyncError
from moodle_sync.i18n import _, swedish

_OPTION_ASIDE = re.compile(r"\s*\([^()]*(?<![\w-])--[a-z][^()]*\)")
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
_HINT = re.compile(r"^\s*(hint|tips):\s*", re.IGNORECASE)


def for_page(message: str | MoodleSyncError, *, path: Path | None = None, filename: str = "") -> str:
    """``message`` (or the error's message and hint) for a page; see the module's docstring."""
    if isinstance(message, MoodleSyncError):
        text = swedish(message.args[0] if message.args else str(message))
        hint = getattr(message, "hint", "")
        text = f"{text}\n{swedish(hint)}" if hint and hint not in text else text
    else:
        text = swedish(message)
    if path is not None:
        text = text.replace(str(path), filename).replace(path.name, filename)
    lines = []
    for line in text.split("\n"):
        line = _HINT.sub("", _OPTION_ASIDE.sub("", line))
        if not _OPTION.search(line) and "`" not in line:
            lines.append(line)
    return "\n".join(line for line in lines if line.strip()).strip()


_SCHEDULED = re.compile(r"\(scheduled: (\d\d:\d\d)\)")


def busy_words(holder: str) -> str:
    """What holds the sync lock (synclock's "<job> by <user>@<host> pid <n> since <time>"), as a page says it: the
    kind of job and when it was scheduled, never who runs it, where, or for which county."""
    what = holder.split(" by ", 1)[0]
    kinds = (("roster", _("a staff list being read or imported")), ("apply", _("the sync of the courses")),
             ("pull", _("a read of completions from Moodle")), ("session", _("a placing in sessions")),
             ("remind", _("reminders being sent")))
    said = next((words for start, words in kinds if what.startswith(start)), _("another job"))
    scheduled = _SCHEDULED.search(what)
    return _("{what}, scheduled at {time}").format(what=said, time=scheduled.group(1)) if scheduled else said
