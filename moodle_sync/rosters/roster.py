"""What a read roster is: its valid rows (one per person), the problems found in the others, how it was read.

:func:`.parse.read_roster` builds a :class:`Roster`; the import works from its ``rows`` and shows its
``problems`` (each at its row and column header, as the hub wrote them) to the person who sent the file.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from moodle_sync.errors import RosterError
from moodle_sync.i18n import _, ngettext

__all__ = ["Roster", "RosterRow", "RowProblem"]


@dataclass(frozen=True)
class RosterRow:
    """One person as a roster row names them, as read and in the import's plan.

    ``row`` is the row number in the spreadsheet (header = 1, first person usually 2); ``county`` the row's
    county column (None without one, and in a plan, whose actions carry the county).
    """

    row: int
    email: str
    firstname: str
    lastname: str
    organisation: str
    unit: str
    target_groups: tuple[str, ...]
    employment_start: datetime.date | None
    employee_id: str | None
    county: str | None = None
    #: in a plan: the matched account, and the e-mail Moodle has for it (what the store records unless it is
    #: changed); a hub's plan shows no existing account's values, so there it is None and the applier reads it
    userid: int | None = None
    moodle_email: str | None = None

    @property
    def name(self) -> str:
        return f"{self.firstname} {self.lastname}"

    def to_dict(self) -> dict[str, Any]:
        """The person in a plan's JSON: the date as YYYY-MM-DD, no county (the action's county is theirs)."""
        return {"row": self.row, "email": self.email, "firstname": self.firstname, "lastname": self.lastname,
                "organisation": self.organisation, "unit": self.unit, "target_groups": list(self.target_groups),
                "employment_start": self.employment_start.isoformat() if self.employment_start else None,
                "employee_id": self.employee_id, "userid": self.userid, "moodle_email": self.moodle_email}

    @classmethod
    def of(cls, data: dict[str, Any]) -> RosterRow:
        """The person :meth:`to_dict` wrote."""
        start = data["employment_start"]
        return cls(**{**data, "target_groups": tuple(data["target_groups"]),
                      "employment_start": datetime.date.fromisoformat(start) if start else None})


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong in one cell: where (row, column header as written), the value, why, and what to do."""

    row: int
    column: str
    value: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        text = _('row {row}, column "{column}": ').format(row=self.row, column=self.column)
        text += f"{shown!r} {self.message}" if self.value else self.message
        return text + _(" (hint: {hint})").format(hint=self.hint) if self.hint else text


@dataclass
class Roster:
    """A roster file, read: its valid rows, every problem, and how it was read (format, encoding, delimiter)."""

    path: str
    format: str
    encoding: str | None
    delimiter: str | None
    rows: list[RosterRow]
    problems: list[RowProblem]
    sha256: str
    columns: dict[str, str]
    ignored_columns: list[str] = field(default_factory=list)
    sheet: str | None = None
    header_row: int = 1
    #: the rows with problems, as far as they could be read: the people they name keep what they have when
    #: the rows are skipped (an import never takes someone out because their row was invalid)
    invalid: list[RosterRow] = field(default_factory=list)

    @property
    def invalid_rows(self) -> list[int]:
        """Row numbers that have at least one problem (left out of ``rows``)."""
        return sorted({p.row for p in self.problems})

    def raise_for_problems(self) -> None:
        """Raise :class:`RosterError` listing every problem, if there is any.

        Raises:
            RosterError: the roster has invalid rows.
        """
        if not self.problems:
            return
        n_rows = len(self.invalid_rows)
        problems = ngettext("{n} problem", "{n} problems", len(self.problems)).format(n=len(self.problems))
        rows = ngettext("{n} row", "{n} rows", n_rows).format(n=n_rows)
        raise RosterError(
            _("{path}: {problems} in {rows}").format(path=self.path, problems=problems, rows=rows),
            problems=self.problems,
            hint=_("fix the rows and run again, or pass --skip-invalid to leave those rows out"),
        )
