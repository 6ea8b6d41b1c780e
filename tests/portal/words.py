"""What no portal page may show a county coordinator: a word of the tool's English messages, a key or id
(``hrv-socialtjanst@2``, ``tg:…``, ``userid``), a server path or a command-line option."""

from __future__ import annotations

import functools
import html
import re

from babel.messages.pofile import read_po

from moodle_sync import i18n

#: English the issue found on pages, besides the catalogue's own words
SEEN_ON_PAGES = {"nothing", "written", "hint", "problem(s)", "please", "method", "allowed", "match", "requested",
                 "format", "cohorts", "enrolled", "roster", "scheduled", "would", "members", "appears", "without",
                 "row", "rows", "column", "because", "users", "user", "the", "and", "with", "from", "this", "that"}
#: words the English messages share with Swedish text or with names a page shows as they are
SHARED = {"moodle", "status", "excel", "html", "period", "problem", "commit", "start", "version", "organisation",
          "administrator", "enhet", "plats", "kurs", "uppsala", "dalarna", "falun", "stockholm", "logg", "plan",
          "form", "moment", "session", "data", "login", "last", "mail", "personal"}
KEYS = [re.compile(p) for p in (r"[a-z]@\d", r"\btg:", r"\buserid\b", r"(^|\s)--[a-z]", r"\.moodle-sync",
                                r"/uploads/", r"\broot@", r"\b[a-z]+(-[a-z]+){2,}\b")]


@functools.cache
def english_words() -> frozenset[str]:
    """Words of the catalogue's English messages that no Swedish translation uses, and the issue's list."""
    with i18n.po_path("sv").open("rb") as f:
        catalog = read_po(f)
    english: set[str] = set()
    swedish: set[str] = set()
    for m in catalog:
        if not m.id:
            continue
        for text in (m.id if isinstance(m.id, tuple) else (m.id,)):
            english |= {w.lower() for w in re.findall(r"[A-Za-z]{4,}", re.sub(r"<[^>]+>|%\(\w+\)s|\{\w+\}", " ", text))}
        for text in (m.string if isinstance(m.string, tuple) else (m.string,)):
            swedish |= {w.lower() for w in re.findall(r"\w+", text)}
    return frozenset((english - swedish - SHARED) | (SEEN_ON_PAGES - SHARED))


def visible_text(page: str) -> str:
    """A page's text as a person reads it (no tags, no style sheet)."""
    body = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def not_for_coordinators(text: str, *, allowed: frozenset[str] = frozenset()) -> list[str]:
    """What in ``text`` (as read) is English, a key or id, a path or an option: [] when nothing."""
    words = english_words() - allowed
    found = sorted({w for w in re.findall(r"[A-Za-z()]+", text) if w.lower() in words})
    for pattern in KEYS:
        found += [m.group(0) for m in pattern.finditer(text)]
    return found
