"""One roster row checked cell by cell, as Moodle will take the values: e-mail, names, organisation and unit,
target groups, employment start, employee id and county.

Each problem names the row and the column header as written, the value, why it is refused and what to do;
a row with problems is still built, because the duplicate check across rows (:mod:`.parse`) needs its
e-mail and id. The sizes and rules are Moodle's (cited at each constant).
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Protocol

from moodle_sync.counties import COUNTIES, resolve_county, suggest_county
from moodle_sync.i18n import _, language, lazy_gettext
from moodle_sync.invisible_text import describe_invisible, find_invisible, find_line_break, remove_invisible
from moodle_sync.rosters.cells import Cell, cell_text, formula_or_error
from moodle_sync.rosters.columns import ColumnMap
from moodle_sync.rosters.roster import RosterRow, RowProblem

__all__ = ["RowReader", "TargetGroups"]

# Moodle's column sizes (lib/db/install.xml): user.email 100, firstname/lastname 100, institution/department 255,
# idnumber 255. Longer values fail the web-service call, so catch them here.
MAX_EMAIL = 100
MAX_NAME = 100
MAX_TEXT = 255
# validate_email() (lib/weblib.php) uses PHPMailer's default validator, PHP's FILTER_VALIDATE_EMAIL: at most 64
# characters before the @ and 63 in each part of the domain
MAX_EMAIL_LOCAL = 64
MAX_EMAIL_LABEL = 63

_GROUP_SEPARATORS = re.compile(r"([;,|\n])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CELL_ALLOWS = "\t\n\r"  # a target-group cell may span lines: a line break separates target groups
#: the values Moodle keeps on one line (user firstname, lastname, institution, department, idnumber): a line break or
#: tab inside one, U+2028 and U+2029 too, is a problem with its row and column, never quietly made a space
_ONE_LINE = frozenset(("firstname", "lastname", "organisation", "unit", "employee_id"))
# PHP strip_tags treats "<" followed by anything but whitespace as a tag; Moodle's PARAM_NOTAGS check then fails
_TAG = re.compile(r"<[^\s]")
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?")
_DATE_HINT = lazy_gettext("write dates as YYYY-MM-DD, e.g. 2024-08-19, or format the cells as dates")


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def _norm(text: str) -> str:
    """Compare target groups: case-folded, whitespace squeezed, no space around separators."""
    return re.sub(r"\s*([;,|])\s*", r"\1", _squeeze(unicodedata.normalize("NFC", text)).casefold())


class TargetGroups:
    """Resolves a cell of target groups (keys or names, any case, several per cell) to keys."""

    def __init__(self, groups: Mapping[str, str]) -> None:
        self.groups = dict(groups)
        self.lookup: dict[str, str] = {}
        for key, name in groups.items():
            self.lookup[_norm(name)] = key
        for key in groups:  # a key wins over another group's name if they ever collide
            self.lookup[_norm(key)] = key

    def split(self, text: str) -> tuple[list[str], list[str]]:
        """Return (keys found, pieces that are no target group). A name may itself hold a comma."""
        parts = _GROUP_SEPARATORS.split(text)
        tokens = parts[0::2]
        keys: list[str] = []
        unknown: list[str] = []
        i = 0
        while i < len(tokens):
            if not tokens[i].strip():
                i += 1
                continue
            for j in range(len(tokens) - 1, i - 1, -1):  # longest first: "Öppenvård, skyddat boende och HVB-hem"
                key = self.lookup.get(_norm("".join(parts[2 * i:2 * j + 1]).strip()))
                if key is not None:
                    keys.append(key)
                    i = j + 1
                    break
            else:
                unknown.append(_squeeze(tokens[i]))
                i += 1
        return keys, unknown

    def hint(self, token: str) -> str:
        key = None
        close = difflib.get_close_matches(_norm(token), list(self.lookup), n=1, cutoff=0.6)
        if close:
            key = self.lookup[close[0]]
        else:  # an abbreviation that is a word of exactly one name: "BVC", "HVB"
            word = _norm(token)
            owners = {k for k, name in self.groups.items() if word in re.findall(r"\w+", _norm(name))}
            key = owners.pop() if len(owners) == 1 else None
        if key is not None:
            if language() == "en":  # the command line names the key one may type; a page names the group
                return _('did you mean "{key}" ({name})?').format(key=key, name=self.groups[key])
            return _("did you mean {name}?").format(name=self.groups[key])
        return self.known()

    def known(self) -> str:
        """The target groups one may write: their keys on the command line, their names elsewhere."""
        if language() == "en":
            return _("known target groups: {groups}").format(groups=", ".join(sorted(self.groups)))
        return _("known target groups: {groups}").format(groups="; ".join(sorted(self.groups.values())))


class _Problem(Protocol):
    """Records a problem in the current row's column for field ``name``."""

    def __call__(self, name: str, value: str, message: str, hint: str = "") -> None: ...


class RowReader:
    """Validates one row at a time; the duplicate check across rows is in :mod:`.parse`."""

    def __init__(self, colmap: ColumnMap, groups: TargetGroups, today: datetime.date) -> None:
        self.colmap = colmap
        self.groups = groups
        self.today = today
        try:
            self.latest = today.replace(year=today.year + 1)
        except ValueError:  # 29 February
            self.latest = datetime.date(today.year + 1, 3, 1)

    def read(self, number: int, cells: Sequence[Cell]) -> tuple[RosterRow, list[RowProblem]]:
        problems: list[RowProblem] = []

        def cell(name: str) -> Cell:
            i = self.colmap.index.get(name)
            return cells[i] if i is not None and i < len(cells) else None

        def problem(name: str, value: str, message: str, hint: str = "") -> None:
            problems.append(RowProblem(number, self.colmap.headers[name], value, message, hint))

        def text(name: str) -> str:
            """The cell as text. An invisible or control character is a problem, and so is a line break or tab
            inside a value that is one line in Moodle; the rest is checked as usual."""
            value = cell_text(cell(name))
            if name in _ONE_LINE and (at := find_line_break(value)) is not None:
                problem(name, value, describe_invisible(value, at) + _("; Moodle keeps this value on one line"),
                        _("write it on one line with spaces (a line break inside a cell is Alt+Enter in Excel)"))
            elif (at := find_invisible(value, allow=_CELL_ALLOWS)) is not None:
                problem(name, value, describe_invisible(value, at), _("retype the text; invisible characters often "
                                                                       "come along when text is pasted from a web "
                                                                       "page or a PDF"))
            else:
                return value
            return remove_invisible(value, allow=_CELL_ALLOWS)

        email = self._email(text("email"), problem)
        firstname = self._name("firstname", _("first name"), text("firstname"), problem)
        lastname = self._name("lastname", _("last name"), text("lastname"), problem)
        organisation = self._plain("organisation", text("organisation"), problem, required=True)
        unit = self._plain("unit", text("unit"), problem) if "unit" in self.colmap.index else ""
        groups = self._target_groups(text("target_groups"), problem)
        start_cell = text("employment_start") if isinstance(cell("employment_start"), str) else cell("employment_start")
        start = self._date(start_cell, problem) if "employment_start" in self.colmap.index else None
        employee_id = self._employee_id(text("employee_id"), problem)
        county = self._county(text("county"), problem) if "county" in self.colmap.index else None
        for name, header in self.colmap.headers.items():  # a formula or #REF! is no value in any column
            why = formula_or_error(value := cell_text(cell(name)))
            seen = any(p.column == header for p in problems)
            if why is not None and (not seen or value.startswith(("=", "#"))):
                problems[:] = [p for p in problems if p.column != header]  # one problem per cell: this one
                problem(name, value, *why)
        # a row with problems is still built: the duplicate check needs its email and id, even when it is bad
        return RosterRow(number, email or "", firstname, lastname, organisation, unit, groups, start, employee_id,
                         county), problems

    @staticmethod
    def _email(text: str, problem: _Problem) -> str | None:
        if not text:
            problem("email", "", _("is empty; every person needs an email address (it is their Moodle login)"))
            return None
        bad = _("is not a valid email address")
        if any(ch.isspace() for ch in text):
            problem("email", text, f"{bad}: " + _("it contains a space"), _("remove the spaces"))
        elif text.count("@") != 1:
            problem("email", text, f"{bad}: " + _("it must contain exactly one @"))
        elif not text.isascii():
            odd = "".join(sorted({ch for ch in text if not ch.isascii()}))
            problem("email", text, f"{bad}: " + _("Moodle accepts only a-z, 0-9 and ordinary punctuation, not "
                                                  "{characters}").format(characters=repr(odd)),
                    _("use the address as the mail system spells it, often without å, ä, ö"))
        elif not _EMAIL.fullmatch(text):
            local, domain = text.split("@")
            if not local:
                why = _("nothing before the @")
            elif "." not in domain:
                why = _("the part after @ needs a dot, e.g. falun.se")
            else:
                why = _("check the dots and characters on both sides of the @")
            problem("email", text, f"{bad}: {why}")
        elif len(text) > MAX_EMAIL:
            problem("email", text, _too_long(len(text), MAX_EMAIL))
        elif len(text.split("@")[0]) > MAX_EMAIL_LOCAL:
            problem("email", text, f"{bad}: " + _("Moodle accepts at most {n} characters before the @").format(
                n=MAX_EMAIL_LOCAL))
        elif any(len(label) > MAX_EMAIL_LABEL for label in text.split("@")[1].split(".")):
            problem("email", text, f"{bad}: " + _("Moodle accepts at most {n} characters between the dots after "
                                                  "the @").format(n=MAX_EMAIL_LABEL))
        else:
            return text.lower()
        return None

    @staticmethod
    def _name(name: str, label: str, text: str, problem: _Problem) -> str:
        value = _squeeze(text)
        if not value:
            problem(name, "", _("is empty; every person needs a {field}").format(field=label))
        elif _TAG.search(value):
            problem(name, value, _("contains an HTML tag or '<', which Moodle refuses in names"), _("remove the '<'"))
        elif _CONTROL.search(value):
            problem(name, value, _("contains an invisible control character"), _("retype the name"))
        elif len(value) > MAX_NAME:
            problem(name, value, _too_long(len(value), MAX_NAME))
        return value

    @staticmethod
    def _plain(name: str, text: str, problem: _Problem, *, required: bool = False) -> str:
        # organisation and unit become the user's institution and department: PARAM_TEXT, which strips tags, and
        # update_users refuses its whole call (every person in it) over one value that stripping would change
        value = _squeeze(text)
        if required and not value:
            problem(name, "", _("is empty; say which kommun, region or employer the person works for"))
        elif _TAG.search(value):
            problem(name, value, _("contains an HTML tag or '<', which Moodle refuses in this field"),
                    _("remove the '<'"))
        elif _CONTROL.search(value):
            problem(name, value, _("contains an invisible control character"), _("retype the text"))
        elif len(value) > MAX_TEXT:
            problem(name, value, _too_long(len(value), MAX_TEXT))
        return value

    def _target_groups(self, text: str, problem: _Problem) -> tuple[str, ...]:
        keys, unknown = self.groups.split(text)
        for token in unknown:
            problem("target_groups", token, _("is not a known target group"), self.groups.hint(token))
        if not keys and not unknown:
            problem("target_groups", "", _("is empty; every person needs at least one target group"),
                    self.groups.known())
        return tuple(sorted(set(keys)))

    def _date(self, cell: Cell, problem: _Problem) -> datetime.date | None:
        shown = cell_text(cell)
        if cell is None or shown == "":
            return None
        value: datetime.date | None = None
        if isinstance(cell, datetime.datetime):
            value = cell.date()
        elif isinstance(cell, datetime.date):
            value = cell
        elif isinstance(cell, datetime.time):
            problem("employment_start", shown, _("is a time of day, not a date"), str(_DATE_HINT))
        elif isinstance(cell, bool | int | float):
            problem("employment_start", shown, _("is a number, not a date"), str(_DATE_HINT))
        else:
            match = _ISO_DATE.fullmatch(shown)
            if match is None:
                problem("employment_start", shown, _("is not a date in the form YYYY-MM-DD"), str(_DATE_HINT))
                return None
            y, m, d, hh, mm, ss = match.groups()
            try:
                value = datetime.date(int(y), int(m), int(d))
                datetime.time(int(hh or 0), int(mm or 0), int(ss or 0))
            except ValueError:
                problem("employment_start", shown, _real_date_why(int(y), int(m), int(d)), str(_DATE_HINT))
                return None
        if value is None:
            return None
        if value > self.latest:
            problem("employment_start", value.isoformat(), _("is more than a year in the future"),
                    _("check the year; ") + _DATE_HINT)
            return None
        if value.year < 1900:
            problem("employment_start", value.isoformat(), _("is before 1900"), _("check the year; ") + _DATE_HINT)
            return None
        return value

    @staticmethod
    def _employee_id(text: str, problem: _Problem) -> str | None:
        if not text:
            return None
        if _looks_like_personnummer(text):
            problem("employee_id", text, _("looks like a personal identity number (personnummer)"),
                    _("rosters must not carry personnummer; use the employee number or HSA-id, or leave it empty"))
        elif _CONTROL.search(text):
            problem("employee_id", text, _("contains a control character"), _("retype the id"))
        elif len(text) > MAX_TEXT:
            problem("employee_id", text, _too_long(len(text), MAX_TEXT))
        return text

    @staticmethod
    def _county(text: str, problem: _Problem) -> str | None:
        if not text:
            problem("county", "", _("is empty; the file has a county column, so every row needs a county"),
                    _("write the letter code (e.g. W) or the name (e.g. Dalarna)"))
            return None
        try:
            return resolve_county(text).code
        except ValueError:
            problem("county", text, _("is not a Swedish county"), _county_hint(text))
            return None


def _county_hint(text: str) -> str:
    """A did-you-mean for a county that did not resolve, or the letter codes (as counties.county_hint, in words
    of the reader's language: the counties are the vocabulary below the catalogues)."""
    county = suggest_county(text)
    if county is not None:
        return _("did you mean {county}?").format(county=county)
    return _('use a letter code ({codes}) or a name such as "Dalarna"').format(codes=" ".join(COUNTIES))


def _too_long(length: int, most: int) -> str:
    return _("is {length} characters long; Moodle stores at most {most}").format(length=length, most=most)


def _looks_like_personnummer(text: str) -> bool:
    """YYMMDD-NNNN or YYYYMMDDNNNN with a real date (day + 60 for samordningsnummer) and a valid check digit."""
    match = re.fullmatch(r"(\d{2})?(\d{6})[-+]?(\d{4})", text.strip())
    if match is None or (match.group(1) is not None and match.group(1) not in ("18", "19", "20")):
        return False
    ten = match.group(2) + match.group(3)
    month, day = int(ten[2:4]), int(ten[4:6])
    day = day - 60 if day > 60 else day
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = 0
    for i, ch in enumerate(ten):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _real_date_why(year: int, month: int, day: int) -> str:
    """Why a date of the form YYYY-MM-DD (with a time, perhaps) is no real date, in the reader's language."""
    if not 1 <= month <= 12:
        return _("is not a real date (there is no month {month})").format(month=month)
    try:
        datetime.date(year, month, day)
    except ValueError:
        return _("is not a real date ({year}-{month:02d} has no day {day})").format(year=year, month=month, day=day)
    return _("is not a real date (no such time of day)")
