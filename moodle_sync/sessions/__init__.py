"""Teacher-led sessions: placing enrolled people in a session's group, within its capacity.

placing.py makes the plan (every check and refusal, reads only), actions.py holds its action and context,
write.py is the Applier's visit that writes it, explain.py the Explainer's that shows it.
"""

from moodle_sync.sessions.actions import AddGroupMembers, GroupMember, SessionPlacement
from moodle_sync.sessions.placing import AssignResult, plan_placement

__all__ = ["AddGroupMembers", "AssignResult", "GroupMember", "SessionPlacement", "plan_placement"]
