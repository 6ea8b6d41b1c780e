"""Session places in people's words: the Explainer's visit for them (the applier's is sessions/write.py)."""

from __future__ import annotations

from moodle_sync.reconcile.explain import ExplainerCore
from moodle_sync.reconcile.words import count_words
from moodle_sync.sessions.actions import AddGroupMembers

#: names shown per action; the rest are counted (every one is in ``--json``)
SHOWN = 20


class SessionExplainer(ExplainerCore):
    """People placed in teacher-led sessions' groups."""

    def visit_add_group_members(self, action: AddGroupMembers) -> list[str]:
        emails = [m.email for m in action.members]
        more = f" and {len(emails) - SHOWN} more" if len(emails) > SHOWN else ""
        return [f"{self._sign(action)} place {count_words(len(emails), 'person', 'people')} in session "
                f"{action.session} (group {action.idnumber}, {action.capacity} places)",
                f"      {', '.join(emails[:SHOWN])}{more}"]
