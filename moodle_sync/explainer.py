"""The one Explainer: every package's ``visit_`` methods for rendering actions, composed (the applier's twin).

Each package explains its own actions in a mixin (reconcile/explain.py for the spec sync, rosters/explain.py
for roster imports …); composing them here keeps the packages free of imports of each other.
"""

from __future__ import annotations

from moodle_sync.completions.explain_reminders import ReminderExplainer
from moodle_sync.reconcile import explain
from moodle_sync.reconcile.explain import SpecExplainer
from moodle_sync.reconcile.plan import Action, Plan
from moodle_sync.rosters import explain as roster_explain
from moodle_sync.rosters.explain import RosterExplainer
from moodle_sync.sessions.explain import SessionExplainer

__all__ = ["Explainer", "describe", "render_plan", "render_roster_plan"]


class Explainer(SpecExplainer, RosterExplainer, SessionExplainer, ReminderExplainer):
    """Renders any action of any plan for people (``--dry-run``, ``plan``)."""


def describe(action: Action) -> list[str]:
    """One headline and optional detail lines for an action."""
    return Explainer().describe(action)


def render_plan(plan: Plan) -> str:
    """The spec sync's plan, as ``plan`` and ``apply --dry-run`` print it."""
    return explain.render_plan(plan, Explainer())


def render_roster_plan(plan: Plan) -> str:
    """A roster import's plan, as ``roster import --dry-run`` prints it (and the portal's preview shows it)."""
    return roster_explain.render_roster_plan(plan, Explainer())
