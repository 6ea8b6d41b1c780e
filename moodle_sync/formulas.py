"""Text a spreadsheet program would run as a formula: refused in every value that reaches Moodle.

Names, organisations and titles come back out of Moodle into its own exports, our reports and other people's
spreadsheets. Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (OWASP "CSV injection"), LibreOffice also with a space after the sign (``= 1+1``, ``- 2``, ``@ SUM(1)``),
and a program that trims the cell first trims spaces of every kind (no-break ones too) and tabs. So a value
"starts like a formula" when, after every leading space, tab, line break and invisible character, it starts with
one of those four signs or their full-width forms (``＝``, what a Japanese keyboard types, runs too). A sign on
its own (``-`` for "none") is text to every spreadsheet program and passes; a hyphen inside a value
(``Berg-Lind``) is never a start.
"""

from __future__ import annotations

import unicodedata

__all__ = ["FORMULA_SIGNS", "starts_like_formula"]

#: what a formula starts with, in ASCII and full width
FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_EQUALS = frozenset("=\uff1d")
#: what a reader skips before it looks at a value: spaces (Zs: no-break, narrow, figure, ideographic …),
#: line and paragraph separators, controls (tab, CR, LF …) and invisible format characters (zero-width …)
_SKIPPED = frozenset(("Zs", "Zl", "Zp", "Cc", "Cf"))


def starts_like_formula(text: str) -> bool:
    """Whether ``text`` would be run as a formula once leading spaces and invisible characters are trimmed."""
    for i, ch in enumerate(text):
        if ch.isspace() or unicodedata.category(ch) in _SKIPPED:
            continue
        if ch in _EQUALS:
            return True
        return ch in FORMULA_SIGNS and any(not (c.isspace() or unicodedata.category(c) in _SKIPPED)
                                           for c in text[i + 1:])
    return False
