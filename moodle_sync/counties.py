"""The 21 Swedish counties (län), with their letter and numeric codes, and a forgiving lookup.

Hubs write a county as ``W``, ``20``, ``Dalarna`` or ``Dalarnas län``; :func:`resolve_county` accepts all of them.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

__all__ = ["COUNTIES", "County", "county_hint", "resolve_county", "suggest_county"]


@dataclass(frozen=True)
class County:
    """One county: ``code`` is the letter code (länsbokstav), ``name`` the full name, ``numeric`` the länskod."""

    code: str
    name: str
    numeric: str

    @property
    def short_name(self) -> str:
        """The bare name, as in "Dalarna" or "Västra Götaland"."""
        return _SHORT_NAMES[self.code]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


# (letter code, numeric code, full name, bare name); the order is the official one, by numeric code.
_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("AB", "01", "Stockholms län", "Stockholm"),
    ("C", "03", "Uppsala län", "Uppsala"),
    ("D", "04", "Södermanlands län", "Södermanland"),
    ("E", "05", "Östergötlands län", "Östergötland"),
    ("F", "06", "Jönköpings län", "Jönköping"),
    ("G", "07", "Kronobergs län", "Kronoberg"),
    ("H", "08", "Kalmar län", "Kalmar"),
    ("I", "09", "Gotlands län", "Gotland"),
    ("K", "10", "Blekinge län", "Blekinge"),
    ("M", "12", "Skåne län", "Skåne"),
    ("N", "13", "Hallands län", "Halland"),
    ("O", "14", "Västra Götalands län", "Västra Götaland"),
    ("S", "17", "Värmlands län", "Värmland"),
    ("T", "18", "Örebro län", "Örebro"),
    ("U", "19", "Västmanlands län", "Västmanland"),
    ("W", "20", "Dalarnas län", "Dalarna"),
    ("X", "21", "Gävleborgs län", "Gävleborg"),
    ("Y", "22", "Västernorrlands län", "Västernorrland"),
    ("Z", "23", "Jämtlands län", "Jämtland"),
    ("AC", "24", "Västerbottens län", "Västerbotten"),
    ("BD", "25", "Norrbottens län", "Norrbotten"),
)

COUNTIES: dict[str, County] = {code: County(code, name, numeric) for code, numeric, name, _ in _TABLE}
_SHORT_NAMES: dict[str, str] = {code: short for code, _, _, short in _TABLE}
_BY_NUMBER: dict[int, County] = {int(c.numeric): c for c in COUNTIES.values()}


def _fold(text: str) -> str:
    """Case-fold, squeeze whitespace, and drop diacritics, so "skane  LÄN" meets "Skåne län"."""
    text = " ".join(unicodedata.normalize("NFC", text).split()).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _names() -> dict[str, County]:
    names: dict[str, County] = {}
    for county in COUNTIES.values():
        full = county.name                            # "Dalarnas län"
        genitive = full.removesuffix(" län")          # "Dalarnas" (also "Kalmar", "Örebro")
        for form in (full, genitive, county.short_name, f"{county.short_name} län"):
            names[_fold(form)] = county
    return names


_BY_NAME = _names()


def resolve_county(text: str) -> County:
    """Find the county ``text`` names: letter code, numeric code, bare name or full name.

    Case, surrounding whitespace and Swedish diacritics do not matter: "w", "W", "20", "1" or "01",
    "dalarna", "Dalarnas", "Dalarnas län", "Skane" all resolve.

    Raises:
        ValueError: nothing matches; the message suggests the closest county when there is one.
    """
    raw = unicodedata.normalize("NFC", text).strip()
    if not raw:
        raise ValueError("no county given; write the letter code (e.g. W) or the name (e.g. Dalarna)")
    if raw.upper() in COUNTIES:
        return COUNTIES[raw.upper()]
    if raw.isdigit() and raw.isascii():
        county = _BY_NUMBER.get(int(raw))
        if county is not None:
            return county
        raise ValueError(f"{raw!r} is not a county number; county numbers are "
                         f"{', '.join(c.numeric for c in COUNTIES.values())}")
    folded = _fold(raw)
    if folded in _BY_NAME:
        return _BY_NAME[folded]
    raise ValueError(f"{raw!r} is not a Swedish county; {county_hint(raw)}")


def suggest_county(text: str) -> County | None:
    """The county whose name is closest to ``text``, if any is close enough to suggest."""
    close = difflib.get_close_matches(_fold(text), list(_BY_NAME), n=1, cutoff=0.6)
    return _BY_NAME[close[0]] if close else None


def county_hint(text: str) -> str:
    """A did-you-mean for a county that did not resolve, or the list of letter codes."""
    county = suggest_county(text)
    if county is not None:
        return f"did you mean {county}?"
    return f"use a letter code ({' '.join(COUNTIES)}) or a name such as \"Dalarna\""
