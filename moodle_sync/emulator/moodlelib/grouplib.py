"""Course groups and their members (group/lib.php)."""

from __future__ import annotations

from moodle_sync.emulator.model.records import Group, GroupMember
from moodle_sync.emulator.model.state import State


def create_group(state: State, now: int, *, courseid: int, name: str, description: str = "",
                 descriptionformat: int = 1, enrolmentkey: str | None = None, idnumber: str = "",
                 visibility: int = 0, participation: int = 1) -> Group:
    return state.groups.insert(Group(state.groups.new_id(), courseid, idnumber, name, description, descriptionformat,
                                     enrolmentkey, visibility, participation, now, now))


def add_member(state: State, now: int, groupid: int, userid: int) -> None:
    if state.group_members.count_by("group_user", (groupid, userid)):
        return  # groups_add_member() of a member is a no-op
    state.group_members.insert(GroupMember(state.group_members.new_id(), groupid, userid, now))


def remove_member(state: State, groupid: int, userid: int) -> None:
    for member in state.group_members.by("group_user", (groupid, userid)):
        state.group_members.delete(member)


def member_ids(state: State, groupid: int) -> list[int]:
    """Member ids ordered by lastname, firstname (groups_get_members)."""
    users = [state.users.rows[m.userid] for m in state.group_members.by("groupid", groupid)]
    return [u.id for u in sorted(users, key=lambda u: (u.lastname, u.firstname, u.id))]
