"""Which spreadsheet column holds which roster field: the accepted headers, Swedish and English.

Headers match case-insensitively, ignoring spaces, hyphens, underscores, dots, a trailing ``*`` or ``:``, and a
trailing note in parentheses, so "E-post", "epost", "E-post *" and "Anställningsdatum (ÅÅÅÅ-MM-DD)" all match.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from moodle_sync.errors import RosterError

__all__ = ["ALIASES", "FIELDS", "OPTIONAL", "REQUIRED", "ColumnMap", "field_for_header", "match_columns"]

#: every field a roster can carry, in the order they are reported
FIELDS: tuple[str, ...] = ("email", "firstname", "lastname", "organisation", "unit", "target_groups",
                           "employment_start", "employee_id", "county")
REQUIRED: tuple[str, ...] = ("email", "firstname", "lastname", "organisation", "target_groups")
OPTIONAL: tuple[str, ...] = ("unit", "employment_start", "employee_id", "county")

#: the headers each field accepts, as a person would write them (the first one is the preferred header)
ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("E-post", "epost", "e-postadress", "mejl", "mejladress", "mail", "email", "e-mail",
              "email address"),
    "firstname": ("Förnamn", "first name", "firstname", "given name"),
    "lastname": ("Efternamn", "last name", "lastname", "surname", "family name"),
    "organisation": ("Organisation", "kommun", "region", "kommun/region", "arbetsgivare", "employer",
                     "organization"),
    "unit": ("Enhet", "arbetsplats", "avdelning", "unit", "department"),
    "target_groups": ("Målgrupp", "målgrupper", "target group", "target groups"),
    "employment_start": ("Anställningsdatum", "anställd från", "startdatum", "employment start",
                         "employment start date", "start date"),
    "employee_id": ("Anställnings-id", "anställningsnummer", "anställningsnr", "HSA-id", "hsaid", "employee id",
                    "personal-id"),
    "county": ("Län", "länskod", "länsbokstav", "county"),
}


def _squash(header: str) -> str:
    text = unicodedata.normalize("NFC", header).casefold()
    return re.sub(r"[\s\-_.:*\u200b\ufeff]+", "", text)


_BY_KEY: dict[str, str] = {_squash(alias): name for name, aliases in ALIASES.items() for alias in aliases}


def field_for_header(header: str) -> str | None:
    """The roster field a header names, or None when it names none."""
    key = _squash(header)
    if key in _BY_KEY:
        return _BY_KEY[key]
    if "(" in header:  # "Anställningsdatum (ÅÅÅÅ-MM-DD)", "Målgrupp (se flik 2)"
        return _BY_KEY.get(_squash(header.split("(", 1)[0]))
    return None


@dataclass(frozen=True)
class ColumnMap:
    """Where each field is: ``index`` is the 0-based column, ``headers`` the header text as written."""

    index: dict[str, int]
    headers: dict[str, str]
    ignored: list[str] = field(default_factory=list)


def match_columns(cells: Sequence[str], *, where: str, counties: bool = True) -> ColumnMap:
    """Map a header row to fields.

    Args:
        cells: the header row, already trimmed.
        where: names the file and row in error messages, e.g. ``"dalarna.csv, row 1"``.
        counties: when False, a county column is not read (it lands in ``ignored``).

    Raises:
        RosterError: two columns name the same field, or a required field has no column.
    """
    index: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    clashes: list[str] = []
    for i, header in enumerate(cells):
        if not header:
            continue
        name = field_for_header(header)
        if name is None or (name == "county" and not counties):
            ignored.append(header)
        elif name in index:
            clashes.append(f'"{headers[name]}" and "{header}" both look like the {name} column')
        else:
            index[name] = i
            headers[name] = header
    if clashes:
        raise RosterError(f"{where}: ambiguous columns", problems=clashes,
                          hint="rename or delete one column of each pair, so each field is read from one place")
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        found = ", ".join(f'"{h}"' for h in cells if h) or "none"
        problems = [_missing_problem(name, ignored) for name in missing]
        raise RosterError(f"{where}: required column{'s' if len(missing) > 1 else ''} missing: "
                          f"{', '.join(missing)} (headers found: {found})", problems=problems,
                          hint="the header row must name each required column; any of the accepted names will do")
    return ColumnMap(index=index, headers=headers, ignored=ignored)


def _missing_problem(name: str, unused: Sequence[str]) -> str:
    accepted = ", ".join(f'"{a}"' for a in ALIASES[name])
    text = f"{name}: no column; accepted headers: {accepted}"
    keys = {_squash(a): a for a in ALIASES[name]}
    for header in unused:
        if difflib.get_close_matches(_squash(header), list(keys), n=1, cutoff=0.75):
            text += f' (is "{header}" meant to be this column?)'
            break
    return text
