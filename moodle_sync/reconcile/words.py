"""Actions in people's words: what an action is called in output, and a summary of outcomes by kind.

Internal class names (``CreateCohort``) stay in JSON and the state store; people read "cohort".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

__all__ = ["action_words", "count_words", "kind_words", "summary_by_kind"]

#: action type → (singular, plural, past participle); in the order a summary lists them
_KINDS: dict[str, tuple[str, str, str]] = {
    "CreateCategory": ("category", "categories", "created"),
    "UpdateCategory": ("category", "categories", "updated"),
    "CreateCourse": ("course", "courses", "created"),
    "ImportTemplate": ("template copied into its course", "templates copied into their courses", ""),
    "UpdateCourse": ("course", "courses", "updated"),
    "HideCourse": ("course", "courses", "hidden"),
    "RecordVersion": ("course version", "course versions", "recorded"),
    "CreateSessionGroup": ("session group", "session groups", "created"),
    "CreateCohort": ("cohort", "cohorts", "created"),
    "UpdateCohort": ("cohort", "cohorts", "updated"),
    "HideCohort": ("cohort", "cohorts", "hidden"),
    "SyncEnrolments": ("course's enrolments brought in step", "courses' enrolments brought in step", ""),
    # a roster import's actions are one per county (their target is the county's letter)
    "RefuseRows": ("roster rows refused, county", "roster rows refused, counties", ""),
    "RecordPeople": ("people of the roster recorded, county", "people of the rosters recorded, counties", ""),
    "CreateUsers": ("new accounts from the roster, county", "new accounts from the rosters, counties", ""),
    "UpdateUsers": ("accounts updated from the roster, county", "accounts updated from the rosters, counties", ""),
    "ChangeCohortMembers": ("cohort members from the roster, county", "cohort members from the rosters, counties",
                            ""),
    # … but the enrolments that follow, one per course version (their target is its idnumber)
    "FollowEnrolments": ("enrolments that follow the roster, course", "enrolments that follow the rosters, courses",
                         ""),
    "AddGroupMembers": ("people placed in session group", "people placed in session groups", ""),
    "SendReminder": ("reminder about", "reminders about", ""),
}


def count_words(n: int, singular: str, plural: str | None = None) -> str:
    """``1 person``, ``2 people``, ``3 rows``: the number and the right form (default plural: + s)."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _kind_of(action_id: str) -> str:
    return action_id.split(":", 1)[0]


def _fallback(kind: str) -> tuple[str, str, str]:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in kind).strip()
    return (words, words, "")


def kind_words(kind: str, n: int, *, more: bool = False) -> str:
    """``CreateCohort``, 219 → ``219 cohorts to create`` (``219 more cohorts to create``)."""
    singular, plural, verb = _KINDS.get(kind, _fallback(kind))
    infinitive = {"created": "to create", "updated": "to update", "hidden": "to hide", "recorded": "to record"}
    counted = count_words(n, singular, plural).replace(" ", " more ", 1) if more else count_words(n, singular, plural)
    return " ".join(x for x in (counted, infinitive.get(verb, "")) if x)


def action_words(action_id: str) -> str:
    """``CreateCohort:tg:utbildare:W`` → ``create cohort tg:utbildare:W``."""
    kind, _, target = action_id.partition(":")
    singular, _plural, verb = _KINDS.get(kind, _fallback(kind))
    if not verb:
        return f"{singular}: {target}"
    return f"{singular} {target} {verb}"


def summary_by_kind(action_ids: Iterable[str], outcome: str = "") -> str:
    """``240 cohorts created, 6 courses created, 3 templates copied into their courses`` (plan order)."""
    counts = Counter(_kind_of(a) for a in action_ids)
    order = list(_KINDS) + sorted(k for k in counts if k not in _KINDS)
    parts = []
    for kind in order:
        if not counts.get(kind):
            continue
        singular, plural, verb = _KINDS.get(kind, _fallback(kind))
        parts.append(" ".join(x for x in (count_words(counts[kind], singular, plural), verb, outcome) if x))
    return ", ".join(parts)
