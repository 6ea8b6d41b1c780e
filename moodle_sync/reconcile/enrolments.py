"""Enrolments by rule: the members of the cohorts a rule names are enrolled in the course's current
major version, kept in step as people come and go, on core web services only.

The tool's enrolments in older major versions of a course are kept in step too, with suspensions only:
people who left the rules are suspended in every version; with the spec's ``previous_versions: move`` (the
default) whoever the rules enrol in the newest version and who has not completed the old one (as the
store's completions say) is suspended there, progress kept, while whoever completed it keeps it as
history (apply asks Moodle first: reconcile/move_checks.py). A person whose completion of any version
still counts (EnrolmentRule.needs_enrolment: refresher_months, require_new_major) is not enrolled anew.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from moodle_sync import clock
from moodle_sync.errors import PlanError
from moodle_sync.identity import parse_cohort_idnumber, parse_course_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.actual import ActualState, Progress
from moodle_sync.reconcile.drift import read_drift
from moodle_sync.specs.fields import STOCKHOLM
from moodle_sync.specs.models import CourseSpec, EnrolmentRule
from moodle_sync.specs.source import field_line, spec_source
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.completions import CompletionStore
from moodle_sync.store.db import ManagedEnrolment, StateStore

if TYPE_CHECKING:
    from moodle_sync.reconcile.plan import EnrolmentItem, Note, SyncEnrolments

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
    #: course idnumber (an older major version) → enrolments; only versions where the tool made enrolments
    previous: dict[str, CourseEnrolments] = field(default_factory=dict)

    def digest(self) -> str:
        doc = {
            "members": sorted((k, sorted(v)) for k, v in self.members.items()),
            "courses": sorted((k, sorted(c.everyone), sorted(c.active)) for k, c in self.courses.items()),
        }
        if self.previous:  # a state without older versions keeps the digest it had before they were read
            doc["previous"] = sorted((k, sorted(c.everyone), sorted(c.active)) for k, c in self.previous.items())
        return hashlib.sha256(json.dumps(doc).encode()).hexdigest()

    def completed(self, uid: int, key: str, major: int) -> bool:
        """Whether the store knows the person completed this major version of the course."""
        return any(m == major for m, _ in self.completions.get(uid, {}).get(key, []))


def older_versions(spec: CourseSpec, idnumbers: Iterable[str]) -> list[tuple[str, int]]:
    """(idnumber, major) of the course's versions older than the spec's, oldest first."""
    return sorted(((idn, parsed[1]) for idn in idnumbers
                   if (parsed := parse_course_idnumber(idn)) and parsed[0] == spec.key and parsed[1] < spec.major),
                  key=lambda t: t[1])


def read_completions(store: StateStore, idnumbers: Iterable[str],
                     people: set[int] | None = None) -> dict[int, dict[str, list[tuple[int, datetime.date]]]]:
    """What the store knows of completions (from ``pull``) in these course versions: user id → course key →
    (major, day completed). Reads only the store."""
    completions = CompletionStore(store)
    out: dict[int, dict[str, list[tuple[int, datetime.date]]]] = {}
    for idn in sorted(set(idnumbers)):
        parsed = parse_course_idnumber(idn)
        if parsed is None:
            continue
        for (_, uid), cp in completions.people(idn).items():
            if cp.completed_at and (people is None or uid in people):
                day = datetime.datetime.fromtimestamp(cp.completed_at, STOCKHOLM).date()
                out.setdefault(uid, {}).setdefault(parsed[0], []).append((parsed[1], day))
    return out


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
    previous: dict[str, CourseEnrolments] = {}
    versions: list[str] = []
    for key in sorted({r.course for r in specs.rules.values()}):
        spec = specs.courses[key]
        olds = older_versions(spec, actual.courses)
        versions += [spec.idnumber, *(idn for idn, _ in olds)]
        for idn, _major in olds:
            # only the versions where the tool made enrolments: it never changes anyone else's
            managed = store.managed_enrolments(idn) if store is not None else {}
            if managed:
                say(f"reading enrolments of {idn}")
                previous[idn] = _listed(api, actual.courses[idn].id, managed)
        course = actual.courses.get(spec.idnumber)
        if course is None:
            continue
        say(f"reading enrolments of {spec.idnumber}")
        managed = store.managed_enrolments(spec.idnumber) if store is not None else {}
        managed, drift = read_drift(store, spec.idnumber, managed) if store is not None else (managed, {})
        courses[spec.idnumber] = dataclasses.replace(_listed(api, course.id, managed), drift=drift)
    completions = read_completions(store, versions) if store is not None else {}
    return EnrolmentState(members=members, courses=courses, completions=completions, previous=previous)


def _listed(api: MoodleApi, course_id: int, managed: dict[int, ManagedEnrolment]) -> CourseEnrolments:
    everyone = api.enrolled_users(course_id, only_active=False, fields="id")
    active = api.enrolled_users(course_id, only_active=True, fields="id")
    return CourseEnrolments(everyone={u.id for u in everyone}, active={u.id for u in active}, managed=managed,
                            names={u.id: u.fullname for u in everyone})


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
    previous: dict[str, CourseEnrolments] = {}
    versions: list[str] = []
    for key in {r.course for r in specs.rules.values()}:
        spec = specs.courses[key]
        olds = [idn for idn, _ in older_versions(spec, actual.courses)]
        versions += [spec.idnumber, *olds]
        for idn in olds:
            if (known := _known(store, idn, people)).managed:
                previous[idn] = known
        if spec.idnumber in actual.courses:
            courses[spec.idnumber] = _known(store, spec.idnumber, people)
    return EnrolmentState(members=members, courses=courses, completions=read_completions(store, versions, people),
                          previous=previous)


def _known(store: StateStore, idnumber: str, people: set[int]) -> CourseEnrolments:
    """The tool's enrolments of ``people`` in one course version, as the store has them."""
    managed = {u: m for u, m in store.managed_enrolments(idnumber).items() if u in people}
    active = {u for u, m in managed.items() if not m.suspended}
    return CourseEnrolments(everyone=set(managed), active=active, managed=managed)


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
    # here, not at the top: a pull reads enrolments through this module and makes no plan (issue 25)
    from moodle_sync.reconcile.plan import EnrolmentItem, Note, SyncEnrolments

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
        in_rules: set[int] = set()  # members of the rules' cohorts, whether or not they are to be enrolled
        for rule in rules:
            item_for = {}
            for group in rule.target_groups:
                for idn, users in state.members.items():
                    parsed = parse_cohort_idnumber(idn)
                    if parsed and parsed[0] == group:
                        for uid in users:
                            item_for[uid] = EnrolmentItem(uid, roles[rule.role], rule.timestart, rule.timeend,
                                                          rule.key)
            in_rules |= set(item_for)
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
        # after the newest version's: apply suspends nobody who moves before their new enrolment is made
        actions += _older_versions(spec, state, set(desired), in_rules,
                                   {i.userid for i in (*enrol, *reactivate)}, moment, notes)
    return actions


def _older_versions(spec: CourseSpec, state: EnrolmentState, desired: set[int], in_rules: set[int],
                    enrolled_now: set[int], moment: int, notes: list[Note] | None) -> list[SyncEnrolments]:
    """The tool's active enrolments in older major versions: suspended when the person left the rules or
    moves to the newest version (``previous_versions: move``, not completed there); kept otherwise."""
    from moodle_sync.reconcile.plan import EnrolmentItem, Note, SyncEnrolments  # as in plan_enrolments

    actions: list[SyncEnrolments] = []
    for idn, major in older_versions(spec, state.previous):
        old = state.previous[idn]
        leave: list[EnrolmentItem] = []
        move: list[EnrolmentItem] = []
        kept: list[int] = []
        for uid, managed in sorted(old.managed.items()):
            if uid not in old.everyone or is_suspended(old, uid, moment):
                continue  # unenrolled or suspended already (by the tool or by someone else): left as it is
            # keep the dates the tool set: a suspend call that omits them resets them to 0
            item = EnrolmentItem(uid, managed.roleid, managed.timestart, managed.timeend, managed.rule)
            if uid not in in_rules:
                leave.append(item)
            elif spec.previous_versions == "move" and uid in desired and not state.completed(uid, spec.key, major):
                move.append(item)
            else:
                kept.append(uid)
        if leave or move:
            sample = {name: [old.names.get(i.userid, f"user {i.userid}") for i in items[:SAMPLE_SIZE]]
                      for name, items in (("move", move), ("leave", leave)) if items}
            actions.append(SyncEnrolments(course_key=spec.key, idnumber=idn, suspend=(*leave, *move), sample=sample,
                                          newest=spec.idnumber, moved=tuple(i.userid for i in move), kept=len(kept),
                                          previous_versions=spec.previous_versions))
        elif notes is not None and (staying := sum(1 for uid in kept if uid in enrolled_now)):
            # nothing to write here, but the plan enrols people in the newest version who keep this enrolment
            what = ("completed it and keep it as history" if spec.previous_versions == "move" else
                    "keep their enrolment here as it is (previous_versions: keep; with move, whoever has not "
                    "completed it would be suspended here, progress kept)")
            notes.append(Note("info", f"{idn} (an older version of {spec.key}): {staying} of the people enrolled "
                                      f"in {spec.idnumber} {what}"))
    return actions
