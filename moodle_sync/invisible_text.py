"""Characters no name or text of ours may hold: invisible ones, ones that turn text around, and controls.

A name with a zero-width space, a soft hyphen or a Hangul filler looks like another name (or like no name)
on screen, and a right-to-left override makes ``Anna Berg`` display as something else; NUL and other
control characters are cut or refused somewhere between Moodle's PHP and its database. Specs and rosters
refuse them all, each naming where. A value that is one line in Moodle (a name, a title, an organisation) may
hold no line break or tab either, whether the usual ones or Unicode's line and paragraph separators
(:func:`find_line_break`). Accepted text is normalised to NFC (``å`` as one character, as
Windows writes it, not ``a`` + ring, as macOS may), so that equal names compare equal.
"""

from __future__ import annotations

import re
import unicodedata

from moodle_sync.i18n import _, lazy_gettext

__all__ = ["LINE_BREAKS", "describe_invisible", "find_invisible", "find_line_break", "nfc", "remove_invisible"]

#: invisible letters (category Lo, so not caught by the Cf/Cc rule): Hangul fillers, shown as nothing
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_BIDI = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: what ends a line or jumps to a tab stop (str.splitlines() breaks at each of these but the tab); no one-line
#: value may hold them: Moodle stores them as they are and shows them as a break, or as nothing, in names
LINE_BREAKS = frozenset("\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_LINE_BREAK = re.compile("[" + "".join(sorted(LINE_BREAKS)) + "]")
_BREAK_NAMES = {"\t": lazy_gettext("a tab"), "\u2028": lazy_gettext("a line separator"),
                "\u2029": lazy_gettext("a paragraph separator")}


def find_invisible(text: str, *, allow: str = "") -> int | None:
    """The index of the first character ``text`` must not hold, or None when it holds none.

    Refused: every control character (category Cc: NUL, escape, …) and format character (Cf: zero-width
    space and joiners, word joiner, byte-order mark, soft hyphen, direction marks, embeddings, overrides
    and isolates, …), and the Hangul fillers U+115F, U+1160, U+3164, U+FFA0.

    Args:
        text: the text to check.
        allow: control characters the format allows here, e.g. ``"\\t\\n\\r"`` in a multi-line description.
    """
    for i, ch in enumerate(text):
        if ch in allow:
            continue
        if ch in _FILLERS or unicodedata.category(ch) in ("Cc", "Cf"):
            return i
    return None


def find_line_break(text: str) -> int | None:
    """The index of the first line break or tab in ``text`` (see :data:`LINE_BREAKS`), or None when it holds none.

    Describe it with :func:`describe_invisible`.
    """
    found = _LINE_BREAK.search(text)
    return found.start() if found else None


def describe_invisible(text: str, index: int) -> str:
    """What the character at ``index`` is and where, for an error message.

    ``"contains a zero-width character (U+200B ZERO WIDTH SPACE) at character 5"``
    """
    ch = text[index]
    if ch == "\x00":
        kind = _("a NUL character")
    elif ch in LINE_BREAKS:
        kind = str(_BREAK_NAMES.get(ch, _("a line break")))
    elif ch in _ZERO_WIDTH:
        kind = _("a zero-width character")
    elif ch in _BIDI:
        kind = _("a character that changes the direction of the text")
    elif ch == "\u00ad":
        kind = _("an invisible soft hyphen")
    elif ch in _FILLERS:
        kind = _("an invisible Hangul filler")
    elif unicodedata.category(ch) == "Cc":
        kind = _("a control character")
    else:
        kind = _("an invisible formatting character")
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
    return _("contains {kind} ({code}) at character {n}").format(kind=kind, code=code, n=index + 1)


def remove_invisible(text: str, *, allow: str = "") -> str:
    """``text`` without the characters :func:`find_invisible` refuses (to go on checking the rest of a value)."""
    return "".join(ch for ch in text if ch in allow or find_invisible(ch) is None)


def nfc(text: str) -> str:
    """``text`` in Unicode normal form C: ``å`` as one character, never ``a`` followed by a combining ring."""
    return unicodedata.normalize("NFC", text)
