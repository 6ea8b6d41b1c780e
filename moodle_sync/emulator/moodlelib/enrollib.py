"""Enrolments and role assignments (lib/enrollib.php, enrol/manual, lib/accesslib.php role_assign).

enrol_user() is an upsert that overwrites status and dates (README); unenrol_user() of the last enrolment
also drops roles, groups and last access in that course, but never completions.
"""

from __future__ import annotations

from moodle_sync.emulator.errors import coding_exception
from moodle_sync.emulator.model.records import EnrolInstance, RoleAssignment, UserEnrolment
from moodle_sync.emulator.model.state import State

ENROL_USER_ACTIVE = 0
ENROL_USER_SUSPENDED = 1
ENROL_INSTANCE_ENABLED = 0


def instances_of(state: State, courseid: int, enabled_only: bool) -> list[EnrolInstance]:
    instances = sorted(state.enrol.by("courseid", courseid), key=lambda i: (i.sortorder, i.id))
    return [i for i in instances if i.status == ENROL_INSTANCE_ENABLED or not enabled_only]


def manual_instance(state: State, courseid: int, enabled_only: bool = True) -> EnrolInstance | None:
    """The first (enabled) manual instance, as enrol_manual_enrol_users picks it."""
    return next((i for i in instances_of(state, courseid, enabled_only) if i.enrol == "manual"), None)


def role_assign(state: State, now: int, roleid: int, userid: int, contextid: int, modifierid: int,
                component: str = "", itemid: int = 0) -> RoleAssignment:
    user = state.users.get(userid)
    if user is None or user.deleted:
        raise coding_exception("User ID does not exist or is deleted!")
    for ra in state.role_assignments.by("context_user", (contextid, userid)):
        if ra.roleid == roleid and ra.component == component and ra.itemid == itemid:
            return ra  # role_assign() is idempotent
    return state.role_assignments.insert(RoleAssignment(state.role_assignments.new_id(), roleid, contextid, userid,
                                                        component, itemid, now, modifierid))


def enrol_user(state: State, now: int, instance: EnrolInstance, userid: int, roleid: int | None, timestart: int,
               timeend: int, status: int, modifierid: int) -> UserEnrolment:
    """enrol_plugin::enrol_user(): insert, or update status/dates of the existing enrolment."""
    user = state.users.get(userid)
    if user is None or user.deleted:
        raise coding_exception("User ID does not exist or is deleted!")
    existing = state.user_enrolments.first_by("enrol_user", (instance.id, userid))
    if existing is not None:
        if (existing.timestart, existing.timeend, existing.status) != (timestart, timeend, status):
            ue = state.user_enrolments.update(existing, timestart=timestart, timeend=timeend, status=status,
                                              timemodified=now, modifierid=modifierid)
        else:
            ue = existing
    else:
        ue = state.user_enrolments.insert(UserEnrolment(state.user_enrolments.new_id(), instance.id, userid, status,
                                                        timestart, timeend, now, now, modifierid))
    if roleid:
        course = state.courses.rows[instance.courseid]
        role_assign(state, now, roleid, userid, course.contextid, modifierid)
    return ue


def unenrol_user(state: State, instance: EnrolInstance, userid: int) -> None:
    ue = state.user_enrolments.first_by("enrol_user", (instance.id, userid))
    if ue is None:
        return  # not enrolled: a silent no-op
    state.user_enrolments.delete(ue)
    course = state.courses.rows[instance.courseid]
    if user_enrolments_in(state, course.id, userid):
        return
    # the last enrolment is gone: roles, groups and last access in the course go too (enrol_plugin::unenrol_user)
    for ra in state.role_assignments.by("context_user", (course.contextid, userid)):
        state.role_assignments.delete(ra)
    group_ids = set(state.groups.ids_by("courseid", course.id))
    for gm in state.group_members.by("userid", userid):
        if gm.groupid in group_ids:
            state.group_members.delete(gm)
    for la in state.lastaccess.by("user_course", (userid, course.id)):
        state.lastaccess.delete(la)


def user_enrolments_in(state: State, courseid: int, userid: int) -> list[UserEnrolment]:
    out = []
    for instance in state.enrol.by("courseid", courseid):
        ue = state.user_enrolments.first_by("enrol_user", (instance.id, userid))
        if ue is not None:
            out.append(ue)
    return out


def _active(ue: UserEnrolment, instance: EnrolInstance, now: int) -> bool:
    return (ue.status == ENROL_USER_ACTIVE and instance.status == ENROL_INSTANCE_ENABLED and ue.timestart <= now
            and (ue.timeend == 0 or ue.timeend > now))


def is_enrolled(state: State, courseid: int, userid: int, onlyactive: bool, now: int) -> bool:
    """is_enrolled(): any enrolment; with onlyactive, an active one in an enabled instance within its dates."""
    user = state.users.get(userid)
    if user is None or user.deleted:
        return False
    for instance in state.enrol.by("courseid", courseid):
        ue = state.user_enrolments.first_by("enrol_user", (instance.id, userid))
        if ue is not None and (not onlyactive or _active(ue, instance, now)):
            return True
    return False


def enrolled_user_ids(state: State, courseid: int, onlyactive: bool, now: int) -> set[int]:
    """get_enrolled_sql(): users with an enrolment in the course (deleted users never)."""
    out: set[int] = set()
    for instance in state.enrol.by("courseid", courseid):
        for ue in state.user_enrolments.by("enrolid", instance.id):
            if not onlyactive or _active(ue, instance, now):
                out.add(ue.userid)
    return {u for u in out if not state.users.rows[u].deleted} if out else out


def user_course_ids(state: State, userid: int, onlyactive: bool, now: int) -> list[int]:
    """enrol_get_users_courses(): the courses a user is enrolled in."""
    out: dict[int, None] = {}
    for ue in state.user_enrolments.by("userid", userid):
        instance = state.enrol.rows[ue.enrolid]
        if not onlyactive or _active(ue, instance, now):
            out[instance.courseid] = None
    return list(out)


def user_roles_in(state: State, contextid: int, userid: int) -> list[int]:
    return sorted({ra.roleid for ra in state.role_assignments.by("context_user", (contextid, userid))})
