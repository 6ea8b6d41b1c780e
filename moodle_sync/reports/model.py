"""The input of the reporting core: one completion fact per person and course version, plus display names.

The completions pull (elsewhere) turns Moodle's answers into :class:`CompletionFact`; everything in
``moodle_sync.reports`` downstream of it is pure: no I/O, no Moodle, no store.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from moodle_sync.counties import COUNTIES

__all__ = ["COUNTY_CODES", "COUNTY_NAMES", "CompletionFact", "Labels"]

#: the 21 counties by letter code, in the official order (AB Stockholm … BD Norrbotten): moodle_sync/counties.py
COUNTY_CODES: Final[tuple[str, ...]] = tuple(COUNTIES)

COUNTY_NAMES: Final[Mapping[str, str]] = {code: county.name for code, county in COUNTIES.items()}

UNKNOWN_COUNTY: Final = "Okänt län"
NO_TARGET_GROUP: Final = "Ingen målgrupp angiven"


@dataclass(frozen=True)
class CompletionFact:
    """One person enrolled in one major version of one course, as the completions pull last saw it."""

    #: Moodle user id; used to count people once, never printed in an aggregate
    person: int
    #: county letter code ("W"); None when the person's county is unknown
    county: str | None
    #: target-group keys; a person may belong to several
    target_groups: tuple[str, ...]
    organisation: str
    course_key: str
    #: the course version (major) the person is enrolled in
    major: int
    #: the course's current major version
    current_major: int
    enrolled_since: datetime.date | None
    completed_on: datetime.date | None
    #: where the completion date came from: "report" (the completion report's time) or "criteria" (the completion
    #: criteria's), both Moodle's; "first_seen": the day the pull first saw the completion (Moodle gave no time)
    completed_source: Literal["report", "criteria", "first_seen"] | None
    status: Literal["active", "suspended"]
    #: the day the person must have completed the course by (see ``deadline_kind``), None: no deadline
    deadline: datetime.date | None
    refresher_due: datetime.date | None
    #: False when Moodle tracks no completion for the course (no completion criteria): nobody can be
    #: seen to complete it, so it counts for enrolments but not for completion rates or deadlines
    tracked: bool = True
    #: which rule set ``deadline``: "ny personal", "befintlig personal" or "repetition"
    deadline_kind: str | None = None


@dataclass(frozen=True)
class Labels:
    """Display names. Missing county names fall back to the official ones; other keys show as is."""

    counties: Mapping[str, str] = field(default_factory=dict)
    target_groups: Mapping[str, str] = field(default_factory=dict)
    courses: Mapping[str, str] = field(default_factory=dict)

    def county(self, code: str | None) -> str:
        if code is None:
            return UNKNOWN_COUNTY
        return self.counties.get(code) or COUNTY_NAMES.get(code) or code

    def target_group(self, key: str | None) -> str:
        if key is None:
            return NO_TARGET_GROUP
        return self.target_groups.get(key) or key

    def course(self, key: str) -> str:
        return self.courses.get(key) or key
