"""The enrolments that follow a roster import, planned with it before anything is written.

The rules enrol the members of the cohorts they name (reconcile/enrolments.py). A roster import changes those
members, so its plan works out the enrolments that follow from the members the import leaves behind: Moodle's
members now, plus the import's additions (people it creates by their row, as they have no user id yet), minus
those who leave. Only the people the import touches are planned for (its rows' accounts, the people it
creates, those who leave): a hub never changes anyone else's enrolments. The applier sends exactly these
(rosters/write_enrolments.py): it reads nothing and decides nothing.

:func:`read_enrolments_for` reads (Moodle and the store); :func:`plan_followed_enrolments` is pure.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.actual import ActualState, read_actual
from moodle_sync.reconcile.enrolments import (
    EnrolmentState,
    plan_enrolments,
    read_enrolment_state,
    targeted_enrolment_state,
)
from moodle_sync.reconcile.plan import ENROLMENT_LISTS, EnrolmentItem
from moodle_sync.rosters.actions import FollowedItem, FollowEnrolments
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import StateStore

__all__ = ["CohortChange", "PersonRef", "plan_followed_enrolments", "read_enrolments_for"]


@dataclass(frozen=True)
class PersonRef:
    """Someone the import touches, as its plan names them: an existing account (``userid``) or a person it
    creates (``row``, the roster row)."""

    name: str
    email: str
    userid: int | None = None
    row: int | None = None

    @property
    def key(self) -> int:
        """The person's key while planning: the user id, or minus the row for a person not created yet (rows
        are positive, so the two never meet; the key never leaves this module)."""
        if self.userid is not None:
            return self.userid
        assert self.row is not None, "a person is an account or a row"
        return -self.row


@dataclass(frozen=True)
class CohortChange:
    """What a roster plan does to the county's cohorts, and everyone it touches."""

    county: str
    #: (cohort idnumber, person) joining
    add: tuple[tuple[str, PersonRef], ...]
    #: (cohort idnumber, user id) leaving
    remove: tuple[tuple[str, int], ...]
    #: everyone the import touches: its rows' accounts, the people it creates, those who leave
    people: tuple[PersonRef, ...]

    @property
    def existing(self) -> set[int]:
        return {p.userid for p in self.people if p.userid is not None}


def read_enrolments_for(api: MoodleApi, specs: SpecSet, store: StateStore | None, county: str, people: set[int],
                        rule_people: set[int]) -> tuple[ActualState, EnrolmentState]:
    """The courses and enrolments the rules concern, read for ``people`` (existing accounts) of one county.

    When every one of ``rule_people`` (matched accounts a rule concerns) is known to the store in the rules'
    courses, only the county's cohorts and the store's own enrolments of ``people`` are read: reads in
    proportion to the change. Otherwise Moodle's enrolment lists are read too (someone may have enrolled them
    without the tool). Reads only.
    """
    actual = read_actual(api, specs, store)
    if store is None:
        return actual, read_enrolment_state(api, specs, actual, None)
    rule_courses = {specs.courses[r.course].idnumber for r in specs.rules.values()}
    known: set[int] = set().union(*(store.managed_enrolments(idn) for idn in rule_courses))
    if rule_people - known:
        return actual, read_enrolment_state(api, specs, actual, store)
    return actual, targeted_enrolment_state(api, specs, actual, store, county, people)


def plan_followed_enrolments(specs: SpecSet, actual: ActualState, state: EnrolmentState, change: CohortChange,
                             roles: Mapping[str, int], today: datetime.date, *,
                             now: int | None = None) -> tuple[FollowEnrolments, ...]:
    """One :class:`FollowEnrolments` per course version where the rules change an enrolment of someone the
    import touches, judged on the cohort members after the import; courses not made yet are left to `apply`.
    Pure.

    Raises:
        PlanError: a rule names a role without an id in ``roles``.
    """
    members = {idn: set(users) for idn, users in state.members.items()}
    for idn, person in change.add:
        members.setdefault(idn, set()).add(person.key)
    for idn, uid in change.remove:
        members.get(idn, set()).discard(uid)
    people = {p.key: p for p in change.people}
    role_names = {rid: name for name, rid in sorted(roles.items(), reverse=True)}
    out: list[FollowEnrolments] = []
    for sync in plan_enrolments(specs, actual, dataclasses.replace(state, members=members), roles, today, now=now):
        enrol, reactivate, suspend, redate = (_items(getattr(sync, name), people, role_names)
                                              for name in ENROLMENT_LISTS)
        if not (enrol or reactivate or suspend or redate) or sync.idnumber not in actual.courses:
            continue  # a course not made yet: `apply` makes it and enrols by the rules
        out.append(FollowEnrolments(course_key=sync.course_key, idnumber=sync.idnumber, county=change.county,
                                    course_id=actual.courses[sync.idnumber].id, enrol=enrol, reactivate=reactivate,
                                    suspend=suspend, redate=redate, newest=sync.newest,
                                    moved=tuple(u for u in sync.moved if u in people),
                                    previous_versions=sync.previous_versions))
    return tuple(out)


def _items(items: Sequence[EnrolmentItem], people: Mapping[int, PersonRef],
           role_names: Mapping[int, str]) -> tuple[FollowedItem, ...]:
    """The items of people the import touches, named; accounts by user id first, then new people by row."""
    out = [FollowedItem(userid=p.userid or 0, roleid=i.roleid, timestart=i.timestart, timeend=i.timeend, rule=i.rule,
                        row=p.row if p.userid is None else None, name=p.name, email=p.email,
                        role=role_names.get(i.roleid, ""))
           for i in items if (p := people.get(i.userid)) is not None]
    return tuple(sorted(out, key=lambda i: (i.awaits_create, i.row or 0, i.userid)))
