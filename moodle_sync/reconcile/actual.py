"""Read what Moodle holds for the specs: categories, owned courses, conflicts and templates.

Reads only. Categories come in one call, courses by listing each owned category (one call each),
then by idnumber for specs not found there; a course is owned when its idnumber follows the scheme
``<key>@<major>``, and nothing else is ever changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from moodle_sync.identity import COHORT_PREFIX, is_category_idnumber, parse_course_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import Category, Cohort, Course
from moodle_sync.specs.models import CourseSpec
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import OwnedObject, StateStore

#: the course fields the tool manages (compared for drift, fingerprinted for stale-plan checks)
MANAGED_COURSE_FIELDS = ("fullname", "shortname", "categoryid", "summary", "summaryformat", "format",
                         "startdate", "enddate", "visible", "enablecompletion", "lang")


@dataclass
class ActualState:
    """What Moodle holds that the plan needs; built by :func:`read_actual`."""

    moodle_url: str
    categories: list[Category]
    #: owned courses (idnumber ``key@major``), wherever they are
    courses: dict[str, Course]
    #: spec key → a course NOT owned by the tool that has the shortname the spec wants
    shortname_conflicts: dict[str, Course] = field(default_factory=dict)
    #: template idnumber → the template course, or None when it does not exist
    templates: dict[str, Course | None] = field(default_factory=dict)
    #: course idnumber → whether its template content is already in it (only for courses that need it)
    imported: dict[str, bool] = field(default_factory=dict)
    #: course idnumber → what the store remembers (spec version applied …)
    remembered: dict[str, OwnedObject] = field(default_factory=dict)
    #: owned cohorts (idnumber ``tg:<group>:<county>``)
    cohorts: dict[str, Cohort] = field(default_factory=dict)
    #: course idnumber → its groups' idnumbers (only courses whose spec lists sessions)
    groups: dict[str, set[str]] = field(default_factory=dict)

    def category_by_idnumber(self) -> dict[str, Category]:
        return {c.idnumber: c for c in self.categories if c.idnumber}

    def ids(self) -> dict[str, int]:
        """idnumber → Moodle id of every category, owned course and owned cohort (what the applier needs)."""
        out = {c.idnumber: c.id for c in self.categories if c.idnumber}
        out.update({idn: c.id for idn, c in self.courses.items()})
        out.update({idn: c.id for idn, c in self.cohorts.items()})
        return out

    def digest(self) -> str:
        """A fingerprint of everything the plan depends on: it changes when Moodle changes."""
        owned_cats = sorted(
            ((c.id, c.idnumber, c.name, c.parent, c.description) for c in self.categories
             if is_category_idnumber(c.idnumber)), key=lambda t: t[0])
        others = sorted((c.id, c.name, c.parent) for c in self.categories
                        if not is_category_idnumber(c.idnumber))
        courses = sorted((c.idnumber, c.id, *[getattr(c, f) for f in MANAGED_COURSE_FIELDS])
                         for c in self.courses.values())
        doc = {
            "categories": owned_cats,
            "other_categories": others,
            "courses": courses,
            "conflicts": sorted((k, c.id, c.shortname) for k, c in self.shortname_conflicts.items()),
            "templates": sorted((k, c.id if c else None) for k, c in self.templates.items()),
            "imported": sorted(self.imported.items()),
            "cohorts": sorted((c.idnumber, c.id, c.name, c.description, c.visible) for c in self.cohorts.values()),
            "groups": sorted((k, sorted(v)) for k, v in self.groups.items()),
        }
        return hashlib.sha256(json.dumps(doc, ensure_ascii=False).encode()).hexdigest()


Progress = Callable[[str], None]


def read_actual(api: MoodleApi, specs: SpecSet, store: StateStore | None = None,
                progress: Progress | None = None, *, plan: bool = True) -> ActualState:
    """Read Moodle's current state for ``specs`` (reads only; batched where Moodle allows). Without ``plan`` (a
    pull) only the categories, the tool's courses and its cohorts are read: not the shortnames other courses have,
    the templates' content or the groups, which only a plan needs (``shortname_conflicts``, ``templates``,
    ``imported`` and ``groups`` stay empty)."""
    say = progress or (lambda _msg: None)
    say("reading categories")
    categories = api.get_all_categories()
    by_id = {c.id: c for c in categories}
    owned_cat_ids = [c.id for c in categories if is_category_idnumber(c.idnumber)]

    courses: dict[str, Course] = {}
    unowned_by_shortname: dict[str, Course] = {}

    def take(found: list[Course]) -> None:
        for course in found:
            if parse_course_idnumber(course.idnumber):
                courses[course.idnumber] = course
            else:
                unowned_by_shortname[course.shortname] = course

    for n, cat_id in enumerate(owned_cat_ids, 1):
        say(f"reading courses of category {by_id[cat_id].name} ({n}/{len(owned_cat_ids)})")
        take(api.courses_by_field("category", cat_id))

    remembered: dict[str, OwnedObject] = {}
    if store is not None:
        remembered = {o.idnumber: o for o in store.owned("course")}
        # courses moved out of the tool's categories by hand are still ours: find them by id
        missing_ids = [o.moodle_id for o in remembered.values() if o.idnumber not in courses]
        if missing_ids:
            say(f"reading {len(missing_ids)} remembered courses by id")
            take(api.courses_by_ids(missing_ids))

    shortname_conflicts: dict[str, Course] = {}
    wanted = [s for s in specs.courses.values() if s.idnumber not in courses]
    for n, spec in enumerate(wanted, 1):
        say(f"looking up {spec.idnumber} ({n}/{len(wanted)})")
        course = api.course_by_idnumber(spec.idnumber)
        if course is not None:
            courses[course.idnumber] = course
            continue
        if not plan:
            continue
        other = unowned_by_shortname.get(spec.moodle_shortname) or api.course_by_shortname(
            spec.moodle_shortname)
        if other is not None:
            shortname_conflicts[spec.key] = other

    if not plan:
        return _with_cohorts(api, say, ActualState(moodle_url=api.client.transport.base_url, categories=categories,
                                                   courses=courses, remembered=remembered))
    # an update that renames a course must not take a shortname another course has
    for spec in specs.courses.values():
        current = courses.get(spec.idnumber)
        if current is not None and current.shortname != spec.moodle_shortname:
            other = api.course_by_shortname(spec.moodle_shortname)
            if other is not None and other.id != current.id:
                shortname_conflicts[spec.key] = other

    templates: dict[str, Course | None] = {}
    imported: dict[str, bool] = {}
    for spec in specs.courses.values():
        if not spec.template:
            continue
        current = courses.get(spec.idnumber)
        memory = remembered.get(spec.idnumber)
        if current is not None and memory is not None and memory.imported:
            continue
        if spec.template not in templates:
            say(f"looking up template {spec.template}")
            templates[spec.template] = api.course_by_idnumber(spec.template)
        template = templates[spec.template]
        if current is not None and template is not None:
            imported[spec.idnumber] = has_template_content(api, current.id, template.id)
    groups: dict[str, set[str]] = {}
    for spec in specs.courses.values():
        if spec.sessions and spec.idnumber in courses:
            say(f"reading groups of {spec.idnumber}")
            groups[spec.idnumber] = {g.idnumber for g in api.course_groups(courses[spec.idnumber].id)}
    return _with_cohorts(api, say, ActualState(
        moodle_url=api.client.transport.base_url, categories=categories, courses=courses,
        shortname_conflicts=shortname_conflicts, templates=templates, imported=imported, remembered=remembered,
        groups=groups))


def _with_cohorts(api: MoodleApi, say: Progress, state: ActualState) -> ActualState:
    say("reading cohorts")
    state.cohorts = {c.idnumber: c for c in api.search_cohorts(COHORT_PREFIX) if c.idnumber.startswith(COHORT_PREFIX)}
    return state


def has_template_content(api: MoodleApi, course_id: int, template_id: int) -> bool:
    """Whether an import from the template already happened (its answer may have been lost).

    A new course holds only its announcements forum; an import adds the template's modules
    (its announcements forum included, so the course then has more modules than the template).
    """
    def count(cid: int) -> int:
        return sum(len(s.modules) for s in api.course_contents(cid))

    template_modules = count(template_id)
    return template_modules <= 1 or count(course_id) > 1


def spec_hash(spec: CourseSpec) -> str:
    """A fingerprint of one course spec (any change to it changes the hash), but for what it says of enrolments in
    older versions (``previous_versions``), which is no change to the course."""
    return hashlib.sha256(spec.model_dump_json(exclude={"previous_versions"}).encode()).hexdigest()[:16]
