"""Spec keys for what Moodle already has, and close matches for a name that is not there."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["close_matches", "slug"]

#: Swedish letters read as their plain ones; everything else loses its accents (NFKD)
_LETTERS = str.maketrans({"å": "a", "ä": "a", "ö": "o", "æ": "ae", "ø": "o", "ß": "ss"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
#: a spec key is at most 60 characters (specs/fields.py: Slug)
MAX_KEY = 60


def slug(text: str) -> str:
    """``"NCK Grundkurs (VINR) 2024"`` → ``"nck-grundkurs-vinr-2024"``; "" when nothing usable is left."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_LETTERS))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NOT_SLUG.sub("-", plain).strip("-")[:MAX_KEY].rstrip("-")


def close_matches(name: str, known: Iterable[str], n: int = 5) -> list[str]:
    """The known names most like ``name`` (case ignored), best first."""
    by_folded: dict[str, str] = {}
    for k in known:
        by_folded.setdefault(k.casefold(), k)
    found = difflib.get_close_matches(name.casefold(), list(by_folded), n=n, cutoff=0.5)
    found += [f for f in by_folded if name.casefold() in f and f not in found]
    return [by_folded[f] for f in found[:n]]
