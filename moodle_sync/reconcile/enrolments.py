"""Enrolments by rule: the members of the cohorts a rule names are enrolled in the course's current
major version, kept in step as people come and go, on core web services only.

Moodle offers no web service to add a cohort-sync enrolment method (ws-reference §4, G1), so the tool
enrols each member manually and remembers what it sent: Moodle never returns an enrolment's dates or
status (only active vs. suspended, by listing twice), and it resets dates to 0 on every enrol call that
omits them. The tool therefore never re-sends an enrolment that is already as desired, and always
sends the rule's dates when it enrols, suspends or reactivates. It manages only enrolments it made.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from moodle_sync import clock
from moodle_sync.errors import PlanError
from moodle_sync.identity import parse_cohort_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.actual import ActualState, Progress
from moodle_sync.reconcile.drift import read_drift
from moodle_sync.reconcile.plan import EnrolmentItem, Note, SyncEnrolments
from moodle_sync.specs.models import EnrolmentRule
from moodle_sync.specs.source import field_line, spec_source
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import ManagedEnrolment, StateStore

#: names shown per list in a plan for people (`--json` lists every enrolment)
SAMPLE_SIZE = 5


@dataclass
class CourseEnrolments:
    """Who is enrolled in one course now, and what the tool last set for the ones it manages."""

    everyone: set[int]
    active: set[int]
    managed: dict[int, ManagedEnrolment]
    names: dict[int, str] = field(default_factory=dict)
    #: user id → how Moodle's enrolment differs from what the tool sent (reconcile/drift.py); ``managed`` then
    #: holds Moodle's values
    drift: dict[int, list[str]] = field(default_factory=dict)


@dataclass
class EnrolmentState:
    #: cohort idnumber → member user ids
    members: dict[str, set[int]]
    #: course idnumber (current major) → enrolments; absent when the course does not exist yet
    courses: dict[str, CourseEnrolments]
    #: user id → course key → completion dates with the major version they were earned on
    completions: dict[int, dict[str, list[tuple[int, datetime.date]]]] = field(default_factory=dict)

    def digest(self) -> str:
        doc = {
            "members": sorted((k, sorted(v)) for k, v in self.members.items()),
            "courses": sorted((k, sorted(c.everyone), sorted(c.active)) for k, c in self.courses.items()),
        }
        return hashlib.sha256(json.dumps(doc).encode()).hexdigest()


def read_enrolment_state(api: MoodleApi, specs: SpecSet, actual: ActualState, store: StateStore | None,
                         progress: Progress | None = None) -> EnrolmentState:
    """Read cohort members and current enrolments of every course a rule names. Reads only."""
    say = progress or (lambda _m: None)
    groups = {g for r in specs.rules.values() for g in r.target_groups}
    cohort_ids = {c.id: idn for idn, c in actual.cohorts.items()
                  if (parsed := parse_cohort_idnumber(idn)) and parsed[0] in groups}
    say(f"reading members of {len(cohort_ids)} cohorts")
    members = {cohort_ids[cid]: users for cid, users in api.cohort_members(cohort_ids).items()} if cohort_ids else {}
    courses: dict[str, CourseEnrolments] = {}
    for key in sorted({r.course for r in specs.rules.values()}):
        spec = specs.courses[key]
        course = actual.courses.get(spec.idnumber)
        if course is None:
            continue
        say(f"reading enrolments of {spec.idnumber}")
        everyone = api.enrolled_users(course.id, only_active=False, fields="id")
        active = api.enrolled_users(course.id, only_active=True, fields="id")
        managed = store.managed_enrolments(spec.idnumber) if store is not None else {}
        managed, drift = read_drift(store, spec.idnumber, managed) if store is not None else (managed, {})
        courses[spec.idnumber] = CourseEnrolments(everyone={u.id for u in everyone}, active={u.id for u in active},
                                                  managed=managed, names={u.id: u.fullname for u in everyone},
                                                  drift=drift)
    return EnrolmentState(members=members, courses=courses)


def targeted_enrolment_state(api: MoodleApi, specs: SpecSet, actual: ActualState, store: StateStore,
                             county: str, people: set[int]) -> EnrolmentState:
    """Enrolment state for a few people of one county, read in proportion to them, not to the site.

    Members come from the county's cohorts only (a person belongs to one county); current enrolments
    come from what the tool itself set (the store). Use only when every one of ``people`` either is
    known to the store for each rule's course or was just created (and so has no enrolment at all).
    """
    groups = {g for r in specs.rules.values() for g in r.target_groups}
    cohorts = {c.id: idn for idn, c in actual.cohorts.items()
               if (parsed := parse_cohort_idnumber(idn)) and parsed[0] in groups and parsed[1] == county}
    members = {cohorts[cid]: users & people for cid, users in api.cohort_members(cohorts).items()} if cohorts else {}
    courses: dict[str, CourseEnrolments] = {}
    for key in {r.course for r in specs.rules.values()}:
        idn = specs.courses[key].idnumber
        if idn not in actual.courses:
            continue
        managed = {u: m for u, m in store.managed_enrolments(idn).items() if u in people}
        active = {u for u, m in managed.items() if not m.suspended}
        courses[idn] = CourseEnrolments(everyone=set(managed), active=active, managed=managed)
    return EnrolmentState(members=members, courses=courses)


def where_rule(rule: EnrolmentRule, key: str | None = None) -> str:
    src = spec_source(rule)
    if src is None:
        return f"rule {rule.key}"
    return f"{src.file}:{field_line(rule, key) if key else src.line}"


def window_open(enrolment: ManagedEnrolment, now: int) -> bool:
    """Whether Moodle counts the enrolment as current: get_enrolled_join() with onlyactive asks for
    ``ue.timestart < now AND (ue.timeend = 0 OR ue.timeend > now)`` besides an active status."""
    return enrolment.timestart < now and (enrolment.timeend == 0 or enrolment.timeend > now)


def is_suspended(now_enrolled: CourseEnrolments, uid: int, now: int) -> bool:
    """Whether an enrolled person's enrolment is suspended.

    ``onlyactive=1`` also leaves out enrolments whose window has not opened or has closed, so the
    listing alone cannot tell those from suspended ones. For the enrolments the tool manages, the
    store says what it set; the listing then only reveals a suspension made by someone else while
    the window is open. For the others, the listing is all there is.
    """
    managed = now_enrolled.managed.get(uid)
    if managed is None:
        return uid not in now_enrolled.active
    if managed.suspended:
        return True
    return window_open(managed, now) and uid not in now_enrolled.active


def plan_enrolments(specs: SpecSet, actual: ActualState, state: EnrolmentState, roles: Mapping[str, int],
                    today: datetime.date, *, now: int | None = None,
                    notes: list[Note] | None = None) -> list[SyncEnrolments]:
    """One SyncEnrolments per course whose enrolments differ from what its rules ask for. Pure.

    ``now`` (Unix time, default the clock) judges enrolment windows; warnings go to ``notes``.
    """
    moment = clock.epoch() if now is None else now
    problems = [f"{where_rule(r, 'role')}: rule {r.key} names role {r.role!r}, which has no id in the "
                f"configuration (roles table in moodle-sync.toml; a stock Moodle has student = 5)"
                for r in specs.rules.values() if r.role not in roles]
    if problems:
        raise PlanError("the enrolment rules cannot be applied:\n" + "\n".join(f"  - {p}" for p in problems))

    actions: list[SyncEnrolments] = []
    for key in sorted({r.course for r in specs.rules.values()}):
        spec = specs.courses[key]
        rules = sorted((r for r in specs.rules.values() if r.course == key), key=lambda r: r.key)
        current = state.courses.get(spec.idnumber) or CourseEnrolments(set(), set(), {})
        desired: dict[int, EnrolmentItem] = {}
        for rule in rules:
            item_for = {}
            for group in rule.target_groups:
                for idn, users in state.members.items():
                    parsed = parse_cohort_idnumber(idn)
                    if parsed and parsed[0] == group:
                        for uid in users:
                            item_for[uid] = EnrolmentItem(uid, roles[rule.role], rule.timestart, rule.timeend,
                                                          rule.key)
            for uid, item in item_for.items():
                if uid in desired:
                    continue  # the first rule (by key) decides role and dates
                done = state.completions.get(uid, {}).get(key, [])
                if uid not in current.everyone and not rule.needs_enrolment(done, spec.major, today):
                    continue  # completed (within the refresher interval): not made to redo it
                desired[uid] = item

        enrol, reactivate, suspend, redate = [], [], [], []
        role_changes = 0
        for uid, item in sorted(desired.items()):
            managed = current.managed.get(uid)
            if uid not in current.everyone:
                enrol.append(item)
            elif is_suspended(current, uid, moment):
                if managed is not None and managed.suspended:
                    # the tool suspended them; they are back (with the role they have)
                    reactivate.append(dataclasses.replace(item, roleid=managed.roleid))
            elif managed is not None and (managed.timestart, managed.timeend) != (item.timestart, item.timeend):
                # the enrol call re-sends the role the tool gave them: a role change is never sent
                redate.append(dataclasses.replace(item, roleid=managed.roleid))
            if managed is not None and managed.roleid != item.roleid:
                role_changes += 1
        if role_changes and notes is not None:
            # enrol_manual_enrol_users only adds a role (role_assign keeps the others): sending the new
            # role would leave people with both, and nothing the tool reads shows roles per enrolment
            notes.append(Note("warning", f"{spec.idnumber}: the rules now give {role_changes} enrolled people a "
                                         f"different role; moodle-sync does not change roles of existing "
                                         f"enrolments (Moodle's enrol call would add the new role and keep "
                                         f"the old one). Change them in Moodle if needed; new enrolments get "
                                         f"the new role"))
        for uid, managed in sorted(current.managed.items()):
            if uid in current.everyone and uid not in desired and not managed.suspended:
                # keep the dates the tool set: a suspend call that omits them resets them to 0
                suspend.append(EnrolmentItem(uid, managed.roleid, managed.timestart, managed.timeend, managed.rule))
        if current.drift and notes is not None:
            shown = sorted(current.drift.items())[:SAMPLE_SIZE]
            notes.append(Note("warning", f"{spec.idnumber}: {len(current.drift)} enrolment(s) the tool made were "
                                         f"changed in Moodle (seen by the last pull): "
                                         + "; ".join(f"{current.names.get(uid, f'user {uid}')}: {', '.join(c)}"
                                                     for uid, c in shown)
                                         + ("; …" if len(current.drift) > SAMPLE_SIZE else "")
                                         + ". The rules decide again: re-dated, reactivated or suspended as they say"))
        if enrol or reactivate or suspend or redate:
            sample = {name: [current.names.get(i.userid, f"user {i.userid}") for i in items[:SAMPLE_SIZE]]
                      for name, items in (("enrol", enrol), ("reactivate", reactivate), ("suspend", suspend),
                                          ("redate", redate)) if items}
            actions.append(SyncEnrolments(course_key=key, idnumber=spec.idnumber, enrol=tuple(enrol),
                                          reactivate=tuple(reactivate), suspend=tuple(suspend),
                                          redate=tuple(redate), sample=sample))
    return actions
