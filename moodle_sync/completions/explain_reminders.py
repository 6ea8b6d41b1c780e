"""Reminders in people's words: the Explainer's visit for them (the applier's is completions/write_reminders.py)."""

from __future__ import annotations

from moodle_sync.completions.remind import SendReminder
from moodle_sync.reconcile.explain import ExplainerCore


class ReminderExplainer(ExplainerCore):
    """Reminders before and after deadlines."""

    def visit_send_reminder(self, action: SendReminder) -> list[str]:
        late = " (past it)" if action.reminder == "overdue" else ""
        return [f"{self._sign(action)} remind user {action.userid}: {action.course_idnumber}, "
                f"deadline {action.deadline}{late}"]
