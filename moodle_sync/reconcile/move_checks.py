"""What apply checks before it suspends, in an older major version, someone who moves to the newest one.

The plan says who moves from what the store knows (``pull``'s completions). Before the suspension is sent:

- whoever this same plan enrols in the newest version must be enrolled there now (the store says the tool's
  enrol call went through): nobody is left without a course because the new enrolment failed;
- Moodle is asked whether the person completed the old version (core_completion_get_course_completion_status,
  one call per person): a completion the last pull had not seen keeps the enrolment as history. Once
  suspended, Moodle no longer answers for the person there (an active enrolment is required), so this is the
  last time it can be asked. A course where Moodle tracks no completion (nocriteriaset, cannotviewreport)
  has nobody to keep; any other answer keeps the person as they are and says why.

At most one question per person who moves, and one in all when the first answer is about the whole course.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from moodle_sync.errors import AuthError, MoodleApiError, MoodleError, MoodleUnavailable
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.plan import EnrolmentItem, SyncEnrolments
from moodle_sync.store.db import StateStore

__all__ = ["CheckedMoves", "check_moves"]

#: answers that say the course tracks no completion (as completions/pull.py reads them): nobody completed it
NOT_TRACKED = frozenset({"nocriteriaset", "cannotviewreport"})
#: answers about one person only (as completions/pull.py reads them); any other is about the whole course
PERSON_ERRORS = frozenset({"usernotenroled", "notenroled", "userdeleted", "usernotconfirmed",
                           "guestsarenotallowed", "invaliduser"})


@dataclass(frozen=True)
class CheckedMoves:
    """The action with only the suspensions that passed the checks, and what apply says about the others."""

    action: SyncEnrolments
    #: people whose new enrolment in the newest version did not go through
    not_enrolled: int = 0
    #: people Moodle reports complete in the old version (the last pull had not seen it)
    completed: int = 0
    #: errorcode → people Moodle could not answer for
    unanswered: dict[str, int] = dataclasses.field(default_factory=dict)

    def detail(self) -> str:
        """What was kept, for the run's outcome ("" when every move went ahead)."""
        parts = []
        if self.completed:
            parts.append(f"{self.completed} kept: Moodle reports them complete here (the next pull records it)")
        if self.not_enrolled:
            parts.append(f"{self.not_enrolled} kept until their enrolment in {self.action.newest} goes through")
        for code, n in sorted(self.unanswered.items()):
            parts.append(f"{n} kept: Moodle would not say whether they completed it ({code})")
        return "; ".join(parts)


Answer = bool | MoodleError  # completed or not, or why Moodle did not say


def check_moves(api: MoodleApi, store: StateStore, action: SyncEnrolments, course_id: int, *,
                enrolled_now: set[tuple[str, int]], workers: int = 4) -> CheckedMoves:
    """Drop from ``action`` the moves that must not happen yet (or at all). Reads Moodle and the store.

    Args:
        course_id: the old version's Moodle id.
        enrolled_now: (course idnumber, user id) of the enrolments and reactivations this apply just sent.
    """
    movers = action.move
    if not movers:
        return CheckedMoves(action)
    newest = store.managed_enrolments(action.newest) if any((action.newest, i.userid) in enrolled_now
                                                            for i in movers) else {}
    waiting = {i.userid for i in movers if (action.newest, i.userid) in enrolled_now
               and (i.userid not in newest or newest[i.userid].suspended)}
    asked = [i for i in movers if i.userid not in waiting]
    answers = _ask(api, course_id, asked, workers)
    completed = {uid for uid, a in answers.items() if a is True}
    # a course where Moodle tracks no completion has nobody who completed it: they move
    unknown = {uid: a for uid, a in answers.items() if isinstance(a, MoodleError) and not _not_tracked(a)}
    unanswered: dict[str, int] = {}
    for a in unknown.values():
        code = getattr(a, "errorcode", "") or type(a).__name__
        unanswered[code] = unanswered.get(code, 0) + 1
    stay = waiting | completed | set(unknown)
    checked = dataclasses.replace(action, suspend=tuple(i for i in action.suspend if i.userid not in stay),
                                  moved=tuple(u for u in action.moved if u not in stay),
                                  kept=action.kept + len(completed))
    return CheckedMoves(checked, not_enrolled=len(waiting), completed=len(completed), unanswered=unanswered)


def _ask(api: MoodleApi, course_id: int, people: list[EnrolmentItem], workers: int) -> dict[int, Answer]:
    """Whether each person completed the course; the first answer alone when it is about the whole course."""
    if not people:
        return {}
    first = _one(api, course_id, people[0].userid)
    if isinstance(first, MoodleError) and getattr(first, "errorcode", "") not in PERSON_ERRORS:
        return {i.userid: first for i in people}  # the same answer would come for everyone
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rest = list(pool.map(lambda i: _one(api, course_id, i.userid), people[1:]))
    return {people[0].userid: first, **{i.userid: a for i, a in zip(people[1:], rest, strict=True)}}


def _one(api: MoodleApi, course_id: int, userid: int) -> Answer:
    try:
        return api.completion_status(course_id, userid).completed
    except (AuthError, MoodleUnavailable):
        raise  # the token is refused, or the site is down: the apply stops as for any write
    except MoodleError as e:  # the person stays as they are (unless the course tracks no completion)
        return e


def _not_tracked(answer: MoodleError) -> bool:
    return isinstance(answer, MoodleApiError) and answer.errorcode in NOT_TRACKED
