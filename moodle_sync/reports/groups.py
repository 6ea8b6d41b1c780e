"""The groups every count is a sum of: the finest split of the facts that any report can show.

A report never rounds a count of its own. The facts are split once, the same way for every report, into
groups that no period, breakdown or scope can split further: the enrolments of one organisation's people
with the same target groups, in one course version, whose event fell in one calendar month. Each kind of
event has its own split (a :data:`FAMILY`): the enrolment (enrolled, enrolled where completion is
tracked, reached), the completion (completed, current or superseded version), the deadline that has
passed and the refresher that is due. Every cell of every table is the set of whole groups it counts
(:func:`counts_for`, :func:`group_values`), so :mod:`.rounding` can round each group once and publish
every cell as the sum of its groups' rounded counts.

The unit is a person in a course version (a fact): a group holds people of one course version, so a
person enrolled in two versions counts once in each, and twice in a row that spans both. Periods are whole
calendar months (``2026``, ``2026-Q2``, ``2026-06``): a group is one month, and nothing finer is cut.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final, NamedTuple

from moodle_sync.reports.measures import Context, event
from moodle_sync.reports.model import CompletionFact

__all__ = ["FAMILY", "Group", "counts_for", "group_facts", "group_key", "group_values", "period_months"]

#: the kind of event each count measure counts: measures of one family are sums of the same groups
FAMILY: Final[Mapping[str, str]] = {
    "enrolled": "enrolment", "enrolled_tracked": "enrolment", "reached": "enrolment",
    "completed": "completion", "completed_current": "completion", "completed_superseded": "completion",
    "past_deadline": "deadline", "refresher_due": "refresher",
}
#: the measure whose event (and day) places a fact in each family's group
_PLACED_BY: Final = {"enrolment": "enrolled", "completion": "completed", "deadline": "past_deadline",
                     "refresher": "refresher_due"}


class Group(NamedTuple):
    """People of one organisation and target groups, in one course version, whose event fell in one month."""

    family: str
    county: str | None
    organisation: str
    #: the person's target groups, sorted: people in soc and chef are one group, people in soc alone another
    target_groups: tuple[str, ...]
    course_key: str
    major: int
    #: whether ``major`` is the course's current major version
    current: bool
    tracked: bool
    #: "2026-06"; None for an enrolment without a date (counted only when no period is asked for)
    month: str | None


def group_facts(facts: Iterable[CompletionFact], as_of: datetime.date) -> dict[Group, set[int]]:
    """Every group with anyone in it → the people (Moodle user ids) it holds; deadlines and refreshers as
    of ``as_of``."""
    ctx = Context(as_of=as_of, period=None)
    groups: dict[Group, set[int]] = {}
    for fact in facts:
        what = (fact.county, fact.organisation, tuple(sorted(set(fact.target_groups))), fact.course_key,
                fact.major, fact.major >= fact.current_major, fact.tracked)
        for family, measure in _PLACED_BY.items():
            ok, day = event(fact, measure, ctx)
            if ok:
                month = None if day is None else f"{day.year:04d}-{day.month:02d}"
                groups.setdefault(Group(family, *what, month), set()).add(fact.person)
    return groups


def counts_for(group: Group, measure: str, months: tuple[str, str] | None) -> bool:
    """Whether the count ``measure`` within the period of ``months`` (its first and last, from
    :func:`period_months`; None: all time) counts ``group``'s people."""
    if FAMILY[measure] != group.family:
        return False
    if measure == "enrolled_tracked" and not group.tracked:
        return False
    if measure == "completed_current" and not group.current:
        return False
    if measure == "completed_superseded" and group.current:
        return False
    if months is None or group.family in ("deadline", "refresher"):
        return True  # deadlines and refreshers describe the state on as_of, whatever the period
    if group.month is None:
        return False
    if measure in ("enrolled", "enrolled_tracked"):
        return group.month <= months[1]  # enrolled on or before the period's end
    return months[0] <= group.month <= months[1]


def period_months(period: tuple[datetime.date, datetime.date] | None) -> tuple[str, str] | None:
    """The first and last month ("2026-04", "2026-06") of a period of whole months."""
    return None if period is None else (f"{period[0]:%Y-%m}", f"{period[1]:%Y-%m}")


def group_values(group: Group, dim: str) -> list[Any]:
    """The values of dimension ``dim`` a group's people count under (one per target group they are in)."""
    if dim == "county":
        return [group.county]
    if dim == "target_group":
        return list(group.target_groups) or [None]
    if dim == "organisation":
        return [group.organisation]
    if dim == "course":
        return [(group.course_key, group.major)]
    if dim == "period":
        return [group.month]
    raise AssertionError(f"unknown dimension {dim}")


def group_key(group: Group, people: Iterable[int]) -> bytes:
    """A group's identity for the rounding draw: what it is and exactly who is in it, so the same people in
    the same group always draw the same, and another group, or one more person, draws anew."""
    ids = ",".join(map(str, sorted(set(people))))
    return hashlib.sha256(f"{group}|{ids}".encode()).digest()
