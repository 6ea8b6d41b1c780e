"""Writes of reminders (Moodle messages): the Applier's visit for them, each message logged in the store.

Moodle 4.3 message/externallib.php send_instant_messages checks messaging, the context and
moodle/site:sendmessage and validates every message before it posts any; then it posts them one by one
(message_post_message, no transaction) and answers, per message, a msgid or -1 with an errormessage. So:

- a refused call (an exception: messaging off, no capability, invalid parameters) posted nothing: its
  reminders fail and are not split (a smaller call would be refused the same way); the next run tries again;
- a message answered with -1 failed alone (the person cannot be messaged);
- a call whose answer was lost (or is unreadable, or names fewer messages than were sent) may have posted
  them, and the service has no function to read the web-service user's sent messages back: each is recorded
  in the store as a reminder (msgid unknown), so it is never sent twice, and reported as maybe sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from moodle_sync.completions.remind import MAYBE_SENT, MESSAGES_PER_CALL, SendReminder
from moodle_sync.errors import MoodleError, UnreadableAnswer, WriteOutcomeUnknown
from moodle_sync.moodle.models import InstantMessage, SentMessage
from moodle_sync.reconcile.apply import ApplierCore
from moodle_sync.reconcile.words import action_words
from moodle_sync.store.completions import CompletionStore
from moodle_sync.writing.send import send_bisecting


class ReminderWrites(ApplierCore):
    """Reminders before and after deadlines, as Moodle messages from the web-service user."""

    def visit_send_reminder(self, actions: list[SendReminder]) -> None:
        completions = CompletionStore(self.store)
        due: list[SendReminder] = []
        for a in actions:
            last = completions.last_reminder(a.userid, a.course_idnumber)
            if last is not None and last >= a.not_since:
                self._skip(a, "reminded since the plan was made (within the interval); not sent again")
            else:
                due.append(a)

        def send(batch: Sequence[SendReminder]) -> list[SentMessage]:
            try:
                return self.api.send_messages([InstantMessage(touserid=a.userid, text=a.text, textformat=0,
                                                              clientmsgid=f"remind-{a.userid}") for a in batch])
            except UnreadableAnswer as e:
                # Moodle ran the call (it answered): the messages may have gone out
                raise WriteOutcomeUnknown(f"the answer could not be read ({e})", wsfunction=e.wsfunction,
                                          items=e.items) from e

        def sent(batch: Sequence[SendReminder], answers: list[SentMessage]) -> None:
            # Moodle answers in the order of the messages sent
            for i, a in enumerate(batch):
                answer = answers[i] if i < len(answers) else None
                if answer is None:
                    self._maybe_sent(completions, a)
                elif answer.msgid and answer.msgid > 0:
                    completions.record_reminder(a.userid, a.course_idnumber, answer.msgid, a.reminder)
                    self._done(a, answer.msgid)
                else:
                    self._fail(a, answer.errormessage or "not sent")

        def unknown(batch: Sequence[SendReminder], _e: MoodleError) -> None:
            for a in batch:
                self._maybe_sent(completions, a)

        def refused(batch: Sequence[SendReminder], e: MoodleError) -> None:
            for a in batch:
                self._fail(a, str(e))

        for start in range(0, len(due), MESSAGES_PER_CALL):
            send_bisecting(due[start:start + MESSAGES_PER_CALL], send, on_sent=sent, on_refused=refused,
                           on_unknown=unknown, split=lambda _b, _e: False)

    def _maybe_sent(self, completions: CompletionStore, action: SendReminder) -> None:
        """Recorded as a reminder (no msgid) so that it is never sent twice; journaled as ``unknown``."""
        completions.record_reminder(action.userid, action.course_idnumber, None, action.reminder)
        self.result.skipped[action.id] = MAYBE_SENT
        self.store.record_outcome(self.run_id, action.id, type(action).__name__, action.target, "unknown", None,
                                  MAYBE_SENT)
        self.report(f"  unknown  {action_words(action.id)}: {MAYBE_SENT}")
