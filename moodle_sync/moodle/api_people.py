"""MoodleApi's calls about people in Moodle: accounts, manual enrolments and course groups.

A part of :class:`.functions.MoodleApi` (the one class that calls ``MoodleClient.call``), kept here by
the Moodle area it talks to; each method's docstring names the function it calls (``Calls: …``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from moodle_sync.moodle.answers import read_list
from moodle_sync.moodle.client import MoodleClient
from moodle_sync.moodle.models import (
    Created,
    EnrolledUser,
    Enrolment,
    Group,
    GroupMembers,
    ItemWarning,
    NewGroup,
    NewUser,
    User,
    UserUpdate,
)

__all__ = ["PeopleCalls"]

#: values per get_users_by_field call (each is one form variable; the SQL IN list stays modest)
USERS_PER_LOOKUP = 500


class PeopleCalls:
    """Users, manual enrolments and groups (core_user_*, core_enrol_*, core_group_*): a part of MoodleApi."""

    client: MoodleClient

    # --- users ----------------------------------------------------------------------------------

    def users_by_field(self, field: str, values: Iterable[str]) -> list[User]:
        """Users whose ``field`` (id, idnumber, username, email) equals one of ``values``, batched.

        Calls: core_user_get_users_by_field.
        """
        values = sorted(set(values))
        out: list[User] = []
        for start in range(0, len(values), USERS_PER_LOOKUP):
            answer = self.client.call("core_user_get_users_by_field",
                                      {"field": field, "values": values[start:start + USERS_PER_LOOKUP]})
            out.extend(read_list("core_user_get_users_by_field", answer, User))
        return out

    def users_with_email_like(self, pattern: str) -> list[User]:
        """Users whose email matches ``pattern`` in SQL LIKE, ignoring case (``%`` and ``_`` are wildcards).

        The only lookup that ignores case as create_users' duplicate check does (get_users_by_field
        compares exactly). Deleted users are left out.

        Calls: core_user_get_users.
        """
        answer = self.client.call("core_user_get_users", {"criteria": [{"key": "email", "value": pattern}]})
        return read_list("core_user_get_users", answer, User)

    def create_users(self, items: Sequence[NewUser]) -> list[Created]:
        """Create users in ONE call: all-or-nothing, and a bad item is only "invalidparameter".

        Calls: core_user_create_users.
        """
        answer = self.client.call("core_user_create_users", {"users": [i.to_params() for i in items]},
                                  items=list(items))
        return read_list("core_user_create_users", answer, Created)

    def update_users(self, items: Sequence[UserUpdate]) -> list[ItemWarning]:
        """Update users: ONE bad value refuses the whole call; otherwise a user's failure is a warning.

        Calls: core_user_update_users.
        """
        answer = self.client.call("core_user_update_users", {"users": [i.to_params() for i in items]},
                                  items=list(items))
        return read_list("core_user_update_users", answer, ItemWarning)

    # --- enrolments -----------------------------------------------------------------------------

    def enrolled_users(self, courseid: int, *, only_active: bool, fields: str = "id",
                       page_size: int = 5000) -> list[EnrolledUser]:
        """Everyone enrolled in a course (``only_active``: without suspended ones), paged by id.

        No core function returns an enrolment's status or dates: comparing ``only_active`` with
        the full list is the only way to see who is suspended.

        Calls: core_enrol_get_enrolled_users.
        """
        out: list[EnrolledUser] = []
        offset = 0
        while True:
            answer = self.client.call("core_enrol_get_enrolled_users", {"courseid": courseid, "options": [
                {"name": "userfields", "value": fields},
                {"name": "onlyactive", "value": "1" if only_active else "0"},
                {"name": "limitfrom", "value": str(offset)},
                {"name": "limitnumber", "value": str(page_size)},
                {"name": "sortby", "value": "id"},
            ]})
            page = read_list("core_enrol_get_enrolled_users", answer, EnrolledUser)
            out.extend(page)
            if len(page) < page_size:
                return out
            offset += page_size

    def enrol(self, items: Sequence[Enrolment]) -> None:
        """Enrol, suspend or reactivate in one all-or-nothing call (Moodle answers null).

        Calls: enrol_manual_enrol_users.
        """
        self.client.call("enrol_manual_enrol_users", {"enrolments": [i.to_params() for i in items]},
                         items=list(items))

    # --- groups ---------------------------------------------------------------------------------

    def course_groups(self, courseid: int) -> list[Group]:
        """Calls: core_group_get_course_groups."""
        answer = self.client.call("core_group_get_course_groups", {"courseid": courseid})
        return read_list("core_group_get_course_groups", answer, Group)

    def create_groups(self, items: Sequence[NewGroup]) -> list[Group]:
        """Create groups in one all-or-nothing call.

        Calls: core_group_create_groups.
        """
        answer = self.client.call("core_group_create_groups", {"groups": [i.to_params() for i in items]},
                                  items=list(items))
        return read_list("core_group_create_groups", answer, Group)

    def group_members(self, group_ids: Iterable[int]) -> dict[int, set[int]]:
        """Calls: core_group_get_group_members."""
        ids = sorted(set(group_ids))
        if not ids:
            return {}
        answer = self.client.call("core_group_get_group_members", {"groupids": ids})
        return {m.groupid: set(m.userids) for m in read_list("core_group_get_group_members", answer, GroupMembers)}

    def add_group_members(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Add (group id, user id) pairs; only enrolled users may join (else the call fails).

        Calls: core_group_add_group_members.
        """
        self.client.call("core_group_add_group_members",
                         {"members": [{"groupid": g, "userid": u} for g, u in pairs]}, items=list(pairs))
