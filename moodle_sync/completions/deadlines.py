"""Whose deadline is what: the day a person must have completed a course by, and which rule gives it.

Three kinds, as a coordinator reads them (see README "Deadlines"):

- **ny personal**: employed on or after the rule's ``effective_from``, or within ``new_staff_deadline_days``
  before the tool enrolled them: employment date + ``new_staff_deadline_days`` – but never before the
  enrolment day + those days, so that someone enrolled late is not late on the day they are enrolled;
- **befintlig personal**: everyone else: enrolment date + ``existing_staff_deadline_days`` (none: no deadline);
- **repetition**: someone whose completion of the course counts (any version, or only the current one with
  ``require_new_major``) is due again ``refresher_months`` after the last one (none: never again); enrolled
  again only after that day, they have ``existing_staff_deadline_days`` from the enrolment.

A person has one deadline per course, however many of its major versions they are enrolled in: on the
newest version they are actively enrolled in (:func:`counted_version`; a suspended old enrolment, such as one
left behind when they moved to a new version, has none), and a completion of any version counts there as the
rules say.

Pure: no store, no Moodle. Staff enrolled today are never late today, whatever their employment date.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from moodle_sync.specs.fields import add_months
from moodle_sync.specs.models import EnrolmentRule

__all__ = ["EXISTING_STAFF", "KINDS", "NEW_STAFF", "REFRESHER", "Deadline", "counted_version", "deadline_for"]

DeadlineKind = Literal["ny personal", "befintlig personal", "repetition"]
NEW_STAFF: Final = "ny personal"
EXISTING_STAFF: Final = "befintlig personal"
REFRESHER: Final = "repetition"
KINDS: Final[tuple[DeadlineKind, ...]] = (NEW_STAFF, EXISTING_STAFF, REFRESHER)


@dataclass(frozen=True)
class Deadline:
    """The day by which a person must have completed a course, and which kind of rule set it."""

    kind: DeadlineKind
    due: datetime.date


def counted_version(enrolments: Iterable[tuple[int, bool]]) -> int:
    """The major version a person's deadline for a course is counted on, from (major, active) of each version
    they are or were enrolled in: the newest they are actively enrolled in, else the newest of all."""
    seen = list(enrolments)
    active = [major for major, is_active in seen if is_active]
    return max(active or [major for major, _ in seen])


def deadline_for(rules: Sequence[EnrolmentRule], *, employment_start: datetime.date | None,
                 enrolled_on: datetime.date, completions: Iterable[tuple[int, datetime.date]],
                 current_major: int) -> Deadline | None:
    """The earliest deadline any of ``rules`` (those of the course that name the person's groups) gives.

    Args:
        rules: the enrolment rules of the course that apply to the person.
        employment_start: the roster's employment date; None when no roster gave one.
        enrolled_on: the day the tool enrolled the person (or a pull first saw them enrolled).
        completions: the person's completions of the course, as (major version, day completed).
        current_major: the course's current major version.

    Returns:
        None when no rule sets a deadline for the person.
    """
    done = list(completions)
    found = [d for rule in rules if (d := _one(rule, employment_start, enrolled_on, done, current_major))]
    return min(found, key=lambda d: (d.due, KINDS.index(d.kind))) if found else None


def _one(rule: EnrolmentRule, employment_start: datetime.date | None, enrolled_on: datetime.date,
         completions: Sequence[tuple[int, datetime.date]], current_major: int) -> Deadline | None:
    counted = [day for major, day in completions if not rule.require_new_major or major >= current_major]
    if counted:
        if rule.refresher_months is None:
            return None  # completed once, for good
        due = add_months(max(counted), rule.refresher_months)
        if due < enrolled_on:  # enrolled again once it came due: as long as existing staff get from enrolment
            due = enrolled_on + datetime.timedelta(days=rule.existing_staff_deadline_days or 0)
        return Deadline(REFRESHER, due)
    days = rule.new_staff_deadline_days
    if days is not None and employment_start is not None and _new_staff(rule, days, employment_start, enrolled_on):
        step = datetime.timedelta(days=days)
        due = employment_start + step
        # only possible through effective_from: enrolled after their time was up, so it runs from the enrolment
        return Deadline(NEW_STAFF, enrolled_on + step if due < enrolled_on else due)
    if rule.existing_staff_deadline_days is not None:
        return Deadline(EXISTING_STAFF, enrolled_on + datetime.timedelta(days=rule.existing_staff_deadline_days))
    return None


def _new_staff(rule: EnrolmentRule, days: int, employment_start: datetime.date, enrolled_on: datetime.date) -> bool:
    """Employed on or after ``effective_from``, or at most ``days`` before the enrolment."""
    if rule.effective_from is not None and employment_start >= rule.effective_from:
        return True
    return employment_start + datetime.timedelta(days=days) >= enrolled_on
