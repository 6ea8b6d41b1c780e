"""Hand-made completion facts and labels for the report tests."""

from __future__ import annotations

import datetime
from typing import Any

from moodle_sync.reports import CompletionFact, Labels

AS_OF = datetime.date(2024, 6, 30)

LABELS = Labels(
    target_groups={
        "soc": "Socialsekreterare och biståndsbedömare",
        "bvc": "Mödrahälsovård, BVC och gynekologer",
        "chef": "Chefer, samordnare och verksamhetsutvecklare",
    },
    courses={"hrv-soc": "HRV fördjupning, socialtjänst", "vinr": "VINR grundkurs"},
)


def fact(person: int, **overrides: Any) -> CompletionFact:
    """A fact with plain defaults: W, target group soc, course vinr v2 (current), enrolled 2024-01-10."""
    values: dict[str, Any] = {
        "person": person,
        "county": "W",
        "target_groups": ("soc",),
        "organisation": "Falu kommun",
        "course_key": "vinr",
        "major": 2,
        "current_major": 2,
        "enrolled_since": datetime.date(2024, 1, 10),
        "completed_on": None,
        "completed_source": None,
        "status": "active",
        "deadline": None,
        "refresher_due": None,
    }
    values.update(overrides)
    if values["completed_on"] is not None and "completed_source" not in overrides:
        values["completed_source"] = "criteria"
    return CompletionFact(**values)


def done(person: int, day: datetime.date, **overrides: Any) -> CompletionFact:
    return fact(person, completed_on=day, **overrides)


def many(first: int, n: int, **overrides: Any) -> list[CompletionFact]:
    """``n`` different people (ids from ``first``) with the same fact."""
    return [fact(first + i, **overrides) for i in range(n)]
