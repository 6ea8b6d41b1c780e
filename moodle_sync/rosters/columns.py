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
from moodle_sync.i18n import _, language, ngettext

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
            clashes.append(_('"{first}" and "{second}" both look like the {field} column').format(
                first=headers[name], second=header, field=_field(name)))
        else:
            index[name] = i
            headers[name] = header
    if clashes:
        raise RosterError(_("{where}: ambiguous columns").format(where=where), problems=clashes,
                          hint=_("rename or delete one column of each pair, so each field is read from one place"))
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        found = ", ".join(f'"{h}"' for h in cells if h) or _("none")
        problems = [_missing_problem(name, ignored) for name in missing]
        raise RosterError(ngettext("{where}: required column missing: {fields} (headers found: {found})",
                                   "{where}: required columns missing: {fields} (headers found: {found})",
                                   len(missing)).format(where=where, fields=", ".join(map(_field, missing)),
                                                        found=found), problems=problems,
                          hint=_("the header row must name each required column; any of the accepted names will do"))
    return ColumnMap(index=index, headers=headers, ignored=ignored)


def _field(name: str) -> str:
    """A field as the reader knows it: its key on the command line, its usual header elsewhere (Målgrupp)."""
    return name if language() == "en" else ALIASES[name][0]


def _missing_problem(name: str, unused: Sequence[str]) -> str:
    accepted = ", ".join(f'"{a}"' for a in ALIASES[name])
    text = _("{field}: no column; accepted headers: {accepted}").format(field=_field(name), accepted=accepted)
    keys = {_squash(a): a for a in ALIASES[name]}
    for header in unused:
        if difflib.get_close_matches(_squash(header), list(keys), n=1, cutoff=0.75):
            text += _(' (is "{header}" meant to be this column?)').format(header=header)
            break
    return text
