"""Turn the store's completions and the hubs' rosters into facts for reports, within a scope.

A person counts under the county and target groups a roster gave them, and under the target groups of
the tool cohorts (``tg:<group>:<county>``) a pull last saw them in, whoever put them there; someone no
roster named counts under the county of those cohorts. A hub sees only the people of its county; people
in neither have no county and are visible to admins only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Literal

from moodle_sync.completions.deadlines import counted_version, deadline_for
from moodle_sync.completions.pull import completion_off_in_spec
from moodle_sync.counties import COUNTIES
from moodle_sync.identity import parse_cohort_idnumber, parse_course_idnumber
from moodle_sync.privacy.kept import kept_facts, kept_pairs
from moodle_sync.reports import CompletionFact, Labels
from moodle_sync.scope import Scope
from moodle_sync.specs.fields import STOCKHOLM, add_months
from moodle_sync.specs.models import CourseSpec
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.completions import CompletionStore
from moodle_sync.store.db import Person, StateStore


def _day(ts: int | None) -> datetime.date | None:
    return datetime.datetime.fromtimestamp(ts, STOCKHOLM).date() if ts else None


def _local_day(stamp: str) -> datetime.date:
    """The Swedish calendar day of an ISO time the store wrote (UTC), so 23:30 UTC on 31 December counts
    in the new year; a bare date is taken as it is."""
    moment = datetime.datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(STOCKHOLM).date()


def build_facts(specs: SpecSet, store: StateStore, scope: Scope, *, kept: bool = False) -> list[CompletionFact]:
    """One fact per person and course version the pull has seen, limited to the caller's scope; with ``kept`` (for
    aggregate reports) also the anonymous facts of people purged or erased (privacy/kept.py), as they were then."""
    persons = store.persons()
    completions = CompletionStore(store)
    places = completions.cohort_places()
    tracked: dict[str, bool] = {}
    gone = kept_pairs(store)  # a purged person the pull sees again counts by their kept fact, not twice
    people = sorted((k, cp) for k, cp in completions.people().items() if (k[1], k[0]) not in gone)
    done: dict[tuple[int, str], list[tuple[int, datetime.date]]] = {}
    versions: dict[tuple[int, str], list[tuple[int, bool]]] = {}
    for (idnumber, userid), cp in people:
        if (parsed := parse_course_idnumber(idnumber)) is None:
            continue
        versions.setdefault((userid, parsed[0]), []).append((parsed[1], cp.status == "active"))
        if day := _day(cp.completed_at):
            done.setdefault((userid, parsed[0]), []).append((parsed[1], day))
    # one deadline per person and course: on the newest version they are actively enrolled in
    counted = {k: counted_version(v) for k, v in versions.items()}
    facts: list[CompletionFact] = []
    for (idnumber, userid), cp in people:
        parsed = parse_course_idnumber(idnumber)
        if parsed is None or parsed[0] not in specs.courses:
            continue
        key, major = parsed
        spec = specs.courses[key]
        person = persons.get(userid)
        county, groups = _belonging(person, places.get(userid, set()))
        if not scope.covers(county):
            continue
        rules = [r for r in specs.rules.values() if r.course == key and set(r.target_groups) & set(groups)]
        completed = _day(cp.completed_at)
        enrolled = _local_day(cp.enrolled_since)
        employed = datetime.date.fromisoformat(person.employment_start) if person and person.employment_start else None
        # a completion of any version counts as the rules say (require_new_major, refresher_months)
        deadline = deadline_for(rules, employment_start=employed, enrolled_on=enrolled,
                                completions=done.get((userid, key), []), current_major=spec.major) \
            if counted[(userid, key)] == major else None
        months = [r.refresher_months for r in rules if r.refresher_months]
        facts.append(CompletionFact(
            person=userid, county=county, target_groups=groups, organisation=person.organisation if person else "",
            course_key=key, major=major, current_major=spec.major,
            enrolled_since=enrolled, completed_on=completed,
            completed_source=_source(cp.completed_source) if completed else None,
            status="active" if cp.status == "active" else "suspended",
            deadline=deadline.due if deadline else None, deadline_kind=deadline.kind if deadline else None,
            refresher_due=add_months(completed, min(months)) if completed and months else None,
            tracked=tracked.setdefault(idnumber, _tracked(spec, idnumber, completions))))
    if kept:
        for idnumber in {idn for _, idn in gone} - set(tracked):
            if (parsed := parse_course_idnumber(idnumber)) and parsed[0] in specs.courses:
                tracked[idnumber] = _tracked(specs.courses[parsed[0]], idnumber, completions)
        facts += kept_facts(store, {k: c.major for k, c in specs.courses.items()}, tracked, scope)
        facts.sort(key=lambda f: (f"{f.course_key}@{f.major}", f.person))  # the store's order, kept facts among them
    return facts


def _source(stored: str | None) -> Literal["report", "criteria", "first_seen"]:
    """Where a stored completion date came from; a date stored without its source counts as first seen."""
    if stored == "report":
        return "report"
    return "criteria" if stored == "criteria" else "first_seen"


def _belonging(person: Person | None, cohorts: set[str]) -> tuple[str | None, tuple[str, ...]]:
    """The county and target groups a person counts under: the roster's, then those of the tool cohorts they
    are in within that county (the first county of their cohorts when no roster named them)."""
    places = sorted(p for idn in cohorts if (p := parse_cohort_idnumber(idn)))
    county = person.county if person else (min(c for _, c in places) if places else None)
    groups = list(person.target_groups) if person else []
    groups += [g for g, c in places if c == county and g not in groups]
    return county, tuple(groups)


def _tracked(spec: CourseSpec, idnumber: str, completions: CompletionStore) -> bool:
    """Whether Moodle shows completion in this course version: not when its spec switches completion off
    (the course was created with enablecompletion=0), nor when the pull found it answers nocriteriaset or
    cannotviewreport (completion off in Moodle) for everyone."""
    return not completion_off_in_spec(spec, idnumber) and not completions.course_state(idnumber)[0]


def labels_for(specs: SpecSet, scope: Scope | None = None) -> Labels:
    counties: Iterable[str] = scope.visible_counties() if scope else COUNTIES
    return Labels(counties={c: COUNTIES[c].name for c in counties},
                  target_groups={k: g.name for k, g in specs.target_groups.items()},
                  courses={k: c.title for k, c in specs.courses.items()})
