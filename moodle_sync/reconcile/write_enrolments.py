"""Writes of manual enrolments (enrol, reactivate, re-date, suspend), each intent in the store before its call."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from moodle_sync.errors import MoodleApiError, MoodleError
from moodle_sync.moodle.models import Enrolment
from moodle_sync.reconcile.apply import ApplierCore, lost_answer_wait
from moodle_sync.reconcile.move_checks import check_moves
from moodle_sync.reconcile.plan import EnrolmentItem, SyncEnrolments
from moodle_sync.store.db import ManagedEnrolment
from moodle_sync.store.intents import IntentStore
from moodle_sync.writing.send import send_bisecting

#: enrol_manual_enrol_users errors about the course, not a person: splitting the batch would not help
COURSE_WIDE_ENROL_ERRORS = frozenset({"wsnoinstance", "wscannotenrol"})
#: a large change is spread over about this many calls per worker, so that the last round of calls still
#: keeps the workers busy (6 calls of 667 for 4 workers left two idle for a third of the time)
CALLS_PER_WORKER = 3
#: but no call carries fewer enrolments than this (each call costs Moodle a bootstrap and a transaction)
MIN_ENROLMENTS_PER_CALL = 100


def enrolments_per_call(total: int, workers: int) -> int | None:
    """At most this many enrolments in one call, spreading ``total`` over ``workers`` (None: no limit
    but Moodle's own, as for one worker, where more calls would only add their cost)."""
    if workers <= 1:
        return None
    return max(MIN_ENROLMENTS_PER_CALL, -(-total // (workers * CALLS_PER_WORKER)))


class EnrolmentWrites(ApplierCore):
    """One course's enrolments brought in step with the cohorts its rules name."""

    def visit_sync_enrolments(self, actions: list[SyncEnrolments]) -> None:
        """Enrol, reactivate, re-date and suspend, in batches sent in parallel (enrol calls are
        upserts of one (user, course) each: two batches never create the same object). Older major
        versions come after the newest ones, their moves checked first (reconcile/move_checks.py)."""
        newest = [a for a in actions if not a.newest]
        older = [a for a in actions if a.newest]
        self._sync(newest)
        if not older:
            return
        enrolled_now = {(a.idnumber, i.userid) for a in newest for i in (*a.enrol, *a.reactivate)}
        checked: list[SyncEnrolments] = []
        details: dict[str, str] = {}
        for a in older:
            course_id = self.ids.get(a.idnumber)
            if course_id is None or not a.moved:
                checked.append(a)
                continue
            with self.clock.phase("check moves", len(a.moved)):
                found = check_moves(self.api, self.store, a, course_id, enrolled_now=enrolled_now,
                                    workers=self.workers)
            checked.append(found.action)
            details[a.id] = found.detail()
        self._sync(checked, details)

    def _sync(self, actions: list[SyncEnrolments], details: dict[str, str] | None = None) -> None:
        per_course: list[tuple[SyncEnrolments, list[tuple[EnrolmentItem, Enrolment]]]] = []
        for a in actions:
            course_id = self.ids.get(a.idnumber)
            if course_id is None:
                self._skip(a, f"course {a.idnumber} does not exist (yet)")
                continue
            per_course.append((a, [(i, Enrolment(roleid=i.roleid, userid=i.userid, courseid=course_id,
                                                 timestart=i.timestart, timeend=i.timeend,
                                                 suspend=int(i in a.suspend)))
                                   for i in (*a.enrol, *a.reactivate, *a.redate, *a.suspend)]))
        most = enrolments_per_call(sum(len(pairs) for _a, pairs in per_course), self.workers)
        jobs = [(a, batch) for a, pairs in per_course
                for batch in self.api.batches("enrol_manual_enrol_users", "enrolments", pairs, lambda p: p[1],
                                              max_items=most)]
        failures: dict[str, list[str]] = {a.id: [] for a, _pairs in per_course}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for (a, _batch), failed in zip(jobs, pool.map(lambda job: self._send_enrolments(*job), jobs),
                                           strict=True):
                failures[a.id].extend(failed)
        for a, _pairs in per_course:
            said = (details or {}).get(a.id, "")
            if failures[a.id]:
                self._fail(a, f"{len(failures[a.id])} enrolment(s) failed: " + _summarise(failures[a.id])
                           + (f"; {said}" if said else ""))
            else:
                counts = ", ".join(f"{n} {k}" for k, n in a.counts().items() if n) or "nothing to send"
                self._done(a, self.ids.get(a.idnumber), counts + (f"; {said}" if said else ""))

    def _send_enrolments(self, action: SyncEnrolments, batch: Sequence[tuple[EnrolmentItem, Enrolment]], *,
                         resent: bool = False) -> list[str]:
        """Send one batch; bisect a rejected one; send a lost one once more. Returns failures.

        Unlike a create, an enrol call is safe to repeat: it carries every value (role, dates, status)
        and Moodle updates the one enrolment per user and course (unique in the database) to them. What
        Moodle lists cannot tell whether a lost batch landed (dates are not shown, and onlyactive also
        hides enrolments outside their window), so it is sent again, after a pause.
        """
        failures: list[str] = []
        intents = IntentStore(self.store)
        open_intents: dict[int, list[int]] = {}

        def send(part: Sequence[tuple[EnrolmentItem, Enrolment]]) -> None:
            # the intent goes to the store before the call: a run killed before the answer is recorded, or an
            # answer lost twice, leaves it pending, and the next run settles it from Moodle (reconcile/intents.py)
            open_intents[id(part)] = intents.record(self.run_id, part[0][1].courseid, self._managed(action, part))
            self.api.enrol([r for _, r in part])

        def sent(part: Sequence[tuple[EnrolmentItem, Enrolment]], _answer: None) -> None:
            self.store.set_enrolments(self._managed(action, part))
            intents.close(open_intents.pop(id(part)), "done")

        def refused(part: Sequence[tuple[EnrolmentItem, Enrolment]], e: MoodleError) -> None:
            failures.extend(f"user {r.userid}: {e}" for _, r in part)

        def unknown(part: Sequence[tuple[EnrolmentItem, Enrolment]], _e: MoodleError) -> None:
            if resent:
                failures.extend(f"user {r.userid}: the answer was lost twice (kept as pending: the next run reads "
                                f"Moodle to settle it); run apply again" for _, r in part)
                return
            self.report(f"  answer lost for {len(part)} enrolments in {action.idnumber}; sending them again "
                        f"(an enrol call sets every value, so repeating it is safe)")
            time.sleep(min(5.0, lost_answer_wait()))
            intents.close(open_intents.pop(id(part)), "resent")  # the re-sent call carries the same intents again
            failures.extend(self._send_enrolments(action, part, resent=True))

        def split(part: Sequence[tuple[EnrolmentItem, Enrolment]], e: MoodleError) -> bool:
            # Moodle refused the whole call: nothing of it was applied
            intents.close(open_intents.pop(id(part)), "refused")
            # the manual enrolment instance is missing or off: no smaller batch would get through
            return len(part) > 1 and getattr(e, "errorcode", None) not in COURSE_WIDE_ENROL_ERRORS

        send_bisecting(batch, send, on_sent=sent, on_refused=refused, on_unknown=unknown, split=split,
                       catch=(MoodleApiError,))
        return failures

    @staticmethod
    def _managed(action: SyncEnrolments, sent: Sequence[tuple[EnrolmentItem, Enrolment]]) -> list[ManagedEnrolment]:
        return [ManagedEnrolment(action.idnumber, r.userid, r.roleid, r.timestart, r.timeend, bool(r.suspend), i.rule)
                for i, r in sent]


def _summarise(failures: list[str], shown: int = 5) -> str:
    """``user 12: reason`` lines grouped by reason: "reason (users 12, 13 and 4 more)"."""
    by_reason: dict[str, list[str]] = {}
    for line in failures:
        who, _, reason = line.partition(": ") if line.startswith("user ") else ("", "", line)
        by_reason.setdefault(reason, []).append(who.removeprefix("user "))
    parts = []
    for reason, users in list(by_reason.items())[:shown]:
        named = [u for u in users if u]
        more = f" and {len(named) - shown} more" if len(named) > shown else ""
        parts.append(f"{reason} (user{'s' if len(named) > 1 else ''} {', '.join(named[:shown])}{more})"
                     if named else reason)
    return "; ".join(parts)
