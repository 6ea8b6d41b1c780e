"""Teacher-led sessions: a plan that puts enrolled people into a session's group, never past its capacity.

Each session of a blended course is a Moodle group (created by plan/apply, idnumber
``<course>@<major>:<session>``). Only enrolled users can join a group in Moodle, so everyone is
checked first; the plan is refused (nothing to apply) when anyone cannot be placed. A hub places only people
known to belong to its own county (moodle_sync/scope.py); anyone else, and an e-mail nobody has, get the same
answer. The plan's one :class:`~moodle_sync.sessions.actions.AddGroupMembers` is written by the one Applier
(sessions/write.py), and ``--dry-run`` prints it through the one Explainer (sessions/explain.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moodle_sync.errors import PlanError
from moodle_sync.i18n import _
from moodle_sync.identity import parse_course_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.apply import ApplyResult
from moodle_sync.reconcile.plan import Plan
from moodle_sync.scope import Scope, known_counties
from moodle_sync.sessions.actions import AddGroupMembers, GroupMember, SessionPlacement
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore


@dataclass
class AssignResult:
    group: str
    capacity: int
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    members_after: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "capacity": self.capacity, "added": self.added, "already_members": self.already,
                "members": self.members_after, "places_left": self.capacity - self.members_after}

    @classmethod
    def of(cls, plan: Plan, applied: ApplyResult | None = None) -> AssignResult:
        """The placement ``plan`` would make (``applied`` None: a dry run) or made (its apply's result)."""
        context = plan.context
        if not isinstance(context, SessionPlacement):
            raise PlanError("not a session placement plan (a bug in moodle-sync)")
        added = [m.email for a in plan.actions if isinstance(a, AddGroupMembers) for m in a.members
                 if applied is None or a.id in applied.done]
        return cls(group=context.group, capacity=context.capacity, added=added, already=list(context.already),
                   members_after=context.members_before + (0 if applied is None else len(added)))


def plan_placement(api: MoodleApi, specs: SpecSet, *, course_key: str, session_key: str, emails: list[str],
                   scope: Scope, store: StateStore | None = None) -> Plan:
    """The plan that adds people (by e-mail) to a session group; refused when it would exceed the session's
    capacity, or when anyone named cannot be placed. Reads only.

    A hub may place only people of its county (the store's county from rosters, or a member of one of the
    county's cohorts, and of no other county's): anyone else is refused with the text an unknown e-mail gets.
    """
    spec = specs.courses.get(course_key)
    if spec is None:
        raise PlanError(_("no course {course} in the specs").format(course=repr(course_key)))
    session = next((s for s in spec.sessions if s.key == session_key), None)
    if session is None:
        known = ", ".join(s.key for s in spec.sessions) or _("none")
        raise PlanError(_("course {course} has no session {session} (sessions: {known})").format(
            course=course_key, session=repr(session_key), known=known))
    scope.require(session.county)
    course = api.course_by_idnumber(spec.idnumber)
    groups = {g.idnumber: g for g in api.course_groups(course.id)} if course else {}
    group = groups.get(spec.session_idnumber(session))
    if course is None or group is None:
        raise PlanError(_("the group of session {session} does not exist in Moodle yet").format(session=session_key),
                        hint=_("run `moodle-sync apply` first"))
    wanted = {e.strip().lower() for e in emails if e.strip()}
    users = {u.email.lower(): u for u in api.users_by_field("email", sorted(wanted))}
    unknown = sorted(wanted - set(users))
    refused: list[str] = []
    if scope.is_hub:
        counties = known_counties(api, store, {u.id for u in users.values()})
        refused = sorted([*unknown, *(e for e, u in users.items() if not scope.may_use(counties.get(u.id, set())))])
        users = {e: u for e, u in users.items() if e not in refused}
        unknown = []
    # Moodle's own rule for group members (add_group_members → is_enrolled, not only active): people whose
    # enrolment window has not opened yet may already be given their session
    enrolled = {u.id for u in api.enrolled_users(course.id, only_active=False)}
    not_enrolled = sorted(e for e, u in users.items() if u.id not in enrolled)
    if refused or unknown or not_enrolled:
        parts = ([f"{', '.join(refused)}: {scope.outside_text()}"] if refused else []) + (
            [_("unknown in Moodle: {emails}").format(emails=", ".join(unknown))] if unknown else []) + (
            [_("not enrolled in {course}: {emails}").format(course=_course_name(spec.title, spec.idnumber),
                                                            emails=", ".join(not_enrolled))] if not_enrolled else [])
        raise PlanError(_("nobody was placed: {why}").format(why="; ".join(parts)),
                        hint=_("only enrolled people can join a session group"))
    members = api.group_members([group.id]).get(group.id, set())
    new = sorted(e for e, u in users.items() if u.id not in members)
    if len(members) + len(new) > session.capacity:
        raise PlanError(capacity_text(session_key, session.capacity, len(members), len(new)))
    actions = (AddGroupMembers(idnumber=group.idnumber, group_id=group.id, course_idnumber=spec.idnumber,
                               session=session_key, capacity=session.capacity,
                               members=tuple(GroupMember(users[e].id, e) for e in new)),) if new else ()
    return Plan(actions=actions, notes=(), spec_digest=specs.digest, moodle_digest="",
                moodle_url=api.client.transport.base_url, specs_commit=specs.git_commit,
                context=SessionPlacement(course_key=course_key, session=session_key, group=group.idnumber,
                                         capacity=session.capacity, members_before=len(members),
                                         already=tuple(sorted(e for e, u in users.items() if u.id in members))))


def capacity_text(session_key: str, capacity: int, taken: int, more: int) -> str:
    """The refusal when people do not fit (planning, and the applier's check just before it writes)."""
    return _("session {session} has {capacity} places and {taken} taken: {more} more do not fit ({left} left); "
             "nobody was placed").format(session=session_key, capacity=capacity, taken=taken, more=more,
                                          left=capacity - taken)


def _course_name(title: str, idnumber: str) -> str:
    """A course as people say it: its title and version (``…, version 2``)."""
    parsed = parse_course_idnumber(idnumber)
    return _("{title}, version {major}").format(title=title, major=parsed[1]) if parsed else title
