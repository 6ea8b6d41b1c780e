"""Writes of session places (people added to a session's group): the Applier's visit for them.

Moodle 4.3 group/externallib.php add_group_members runs in one delegated transaction and checks each member
(the user exists, is enrolled, the caller may manage groups) before groups_add_member(), which returns early
for an existing member; groups_members has a unique key on (userid, groupid) (lib/db/install.xml). So:

- a refused call wrote nothing, and is not split: a session's placement is all or nothing, as the planning
  refusals are (nobody is placed when anyone cannot be);
- a lost answer is settled by reading the group's members (core_group_get_group_members); who does not show
  is sent once more, which is safe (the call is idempotent), and who still does not show fails the action.
"""

from __future__ import annotations

from collections.abc import Sequence

from moodle_sync.errors import MoodleApiError, MoodleError, TransportError
from moodle_sync.moodle.models import Request
from moodle_sync.reconcile.apply import ApplierCore
from moodle_sync.sessions.actions import AddGroupMembers, GroupMember
from moodle_sync.sessions.placing import capacity_text
from moodle_sync.writing.send import send_bisecting


class SessionWrites(ApplierCore):
    """People placed in teacher-led sessions' groups."""

    def visit_add_group_members(self, actions: list[AddGroupMembers]) -> None:
        for action in actions:
            self._place(action)

    def _members(self, group_id: int) -> set[int]:
        return self.api.group_members([group_id]).get(group_id, set())

    def _place(self, action: AddGroupMembers) -> None:
        members = self._members(action.group_id)
        new = [m for m in action.members if m.userid not in members]
        if len(members) + len(new) > action.capacity:
            # the group filled up since the plan was made: the capacity holds where the write happens
            self._fail(action, capacity_text(action.session, action.capacity, len(members), len(new)))
            return
        failures: list[str] = []
        placed: list[GroupMember] = []

        def send(part: Sequence[GroupMember]) -> None:
            self.api.add_group_members([(action.group_id, m.userid) for m in part])

        def unknown(part: Sequence[GroupMember], _e: MoodleError, *, again: bool = True) -> None:
            shown = self._members(action.group_id)
            placed.extend(m for m in part if m.userid in shown)
            missing = [m for m in part if m.userid not in shown]
            if not missing:
                return
            if not again:
                failures.append(f"the answer was lost twice and Moodle does not show "
                                f"{', '.join(m.email for m in missing)} in the group; run the same command again")
                return
            self.report(f"  answer lost for {len(missing)} place(s) in {action.idnumber}; sending them again "
                        f"(adding a member twice is a no-op in Moodle)")
            send_bisecting(missing, send, on_sent=lambda p, _a: placed.extend(p), on_refused=refused,
                           on_unknown=lambda p, e: unknown(p, e, again=False), split=lambda _p, _e: False,
                           catch=(MoodleApiError, TransportError))

        def refused(part: Sequence[GroupMember], e: MoodleError) -> None:
            failures.append(f"Moodle refused the places ({e}); nobody was placed")

        for batch in self.api.batches("core_group_add_group_members", "members", new,
                                      lambda m: _member_request(action.group_id, m)):
            send_bisecting(batch, send, on_sent=lambda p, _a: placed.extend(p), on_refused=refused,
                           on_unknown=unknown, split=lambda _p, _e: False, catch=(MoodleApiError, TransportError))
        if failures:
            self._fail(action, "; ".join(failures))
        else:
            self._done(action, action.group_id, f"{len(placed)} placed"
                       + (f", {len(action.members) - len(new)} were members already" if len(new) < len(action.members)
                          else ""))


class _Member(Request):
    """One ``members`` item of core_group_add_group_members, for sizing its batches (MoodleApi builds the call)."""

    groupid: int
    userid: int


def _member_request(group_id: int, member: GroupMember) -> _Member:
    return _Member(groupid=group_id, userid=member.userid)
