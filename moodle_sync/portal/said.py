"""A library error as a page may show it: in Swedish where the catalogue has its words (the library's messages
are made in Swedish while a page is served; this also covers a fixed message made elsewhere), its hint on a
line of its own without the command line's "hint:", the uploaded file by the name it was uploaded under, and
nothing of the server: no path, upload id or command-line option (``--hub``, ``--skip-invalid``).
"""

from __future__ import annotations

import re
from pathlib import Path

from moodle_sync.errors import MoodleSyncError
from moodle_sync.i18n import swedish

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
