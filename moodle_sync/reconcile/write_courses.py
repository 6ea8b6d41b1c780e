"""Writes of categories, courses, their template content and session groups: the Applier's visits for them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from moodle_sync.errors import MoodleError
from moodle_sync.identity import category_idnumber
from moodle_sync.moodle.models import CategoryUpdate, CourseUpdate, ItemWarning, NewCategory, NewCourse, NewGroup
from moodle_sync.reconcile.actual import has_template_content
from moodle_sync.reconcile.apply import A, ApplierCore, lost_answer_wait
from moodle_sync.reconcile.plan import (
    CreateCategory,
    CreateCourse,
    CreateSessionGroup,
    HideCourse,
    ImportTemplate,
    RecordVersion,
    UpdateCategory,
    UpdateCourse,
)
from moodle_sync.writing.send import send_bisecting

#: creating a course runs many inserts in Moodle (context, sections, blocks, enrolment instances);
#: keep one call well inside PHP's 360 s web-service time limit
COURSES_PER_CREATE = 25
CATEGORIES_PER_CREATE = 50
COURSES_PER_UPDATE = 100


class CourseWrites(ApplierCore):
    """Categories, courses (created, updated, hidden, versions recorded), template imports, session groups."""

    def visit_create_category(self, actions: list[CreateCategory]) -> None:
        ready = []
        for a in actions:
            if a.parent_key and category_idnumber(a.parent_key) not in self.ids:
                self._skip(a, f"its parent category {a.parent_key} was not created")
            else:
                ready.append(a)

        def request(a: CreateCategory) -> NewCategory:
            parent = self.ids[category_idnumber(a.parent_key)] if a.parent_key else 0
            return NewCategory(name=a.name, parent=parent, idnumber=a.idnumber,
                               description=a.description or None)

        def lookup(batch: Sequence[CreateCategory]) -> dict[str, int]:
            wanted = {a.idnumber for a in batch}
            return {c.idnumber: c.id for c in self.api.get_all_categories() if c.idnumber in wanted}

        def on_created(a: CreateCategory, moodle_id: int) -> None:
            self.store.remember("category", a.idnumber, moodle_id, spec_key=a.key)

        for batch in self.api.batches("core_course_create_categories", "categories", ready, request,
                                      max_items=CATEGORIES_PER_CREATE):
            self._create(batch, lambda b: self.api.create_categories([request(a) for a in b]), lookup,
                         on_created)

    def visit_update_category(self, actions: list[UpdateCategory]) -> None:
        for a in actions:  # all-or-nothing in Moodle: one per call names the one that fails
            values: dict[str, Any] = {c.field: c.new for c in a.changes}
            if a.parent_key:
                if category_idnumber(a.parent_key) not in self.ids:
                    self._skip(a, f"its new parent {a.parent_key} was not created")
                    continue
                values["parent"] = self.ids[category_idnumber(a.parent_key)]
            self._update_category(a, CategoryUpdate(id=a.moodle_id, **values))

    def _update_category(self, a: UpdateCategory, update: CategoryUpdate) -> None:
        def done(*_: object) -> None:
            self._done(a, a.moodle_id)

        # a lost answer: an update sets absolute values, so the next plan re-reads and shows what is left
        send_bisecting([update], self.api.update_categories, on_sent=done, on_unknown=done,
                       on_refused=lambda _b, e: self._fail(a, str(e)))

    def visit_create_course(self, actions: list[CreateCourse]) -> None:
        ready = []
        for a in actions:
            if category_idnumber(a.category_key) not in self.ids:
                self._skip(a, f"its category {a.category_key} was not created")
            else:
                ready.append(a)

        def request(a: CreateCourse) -> NewCourse:
            return NewCourse(categoryid=self.ids[category_idnumber(a.category_key)], **a.fields)

        def lookup(batch: Sequence[CreateCourse]) -> dict[str, int]:
            out = {}
            for a in batch:
                course = self.api.course_by_idnumber(a.idnumber)
                if course is not None:
                    out[a.idnumber] = course.id
            return out

        def on_created(a: CreateCourse, moodle_id: int) -> None:
            self.store.remember("course", a.idnumber, moodle_id, spec_key=a.key, spec_version=a.version,
                                spec_hash=a.spec_hash, imported=not a.template)

        for batch in self.api.batches("core_course_create_courses", "courses", ready, request,
                                      max_items=COURSES_PER_CREATE):
            self._create(batch, lambda b: self.api.create_courses([request(a) for a in b]), lookup,
                         on_created)

    def visit_import_template(self, actions: list[ImportTemplate]) -> None:
        for a in actions:
            course_id = self.ids.get(a.idnumber)
            if course_id is None:
                self._skip(a, f"course {a.idnumber} was not created")
                continue
            self._import_template(a, course_id)

    def _import_template(self, a: ImportTemplate, course_id: int) -> None:
        def imported(*_: object) -> None:
            self.store.remember("course", a.idnumber, course_id, imported=True)
            self._done(a, course_id, f"content copied from {a.template}")

        def unknown(*_: object) -> None:
            # the import may have run, or still be running (a backup and restore): never import twice
            # (activities would be duplicated), so wait for its content to show
            def content() -> dict[str, int]:
                return {"imported": 1} if self._has_content(course_id, a.template_id) else {}

            if self._settle(1, content):
                imported()
            else:
                self._fail(a, f"the answer was lost and the course showed no imported content within "
                              f"{lost_answer_wait():.0f} s; Moodle may still be copying it. Run apply again in "
                              "a few minutes: it imports only into a course that is still empty")

        send_bisecting([course_id], lambda _b: self.api.import_course(a.template_id, course_id), on_sent=imported,
                       on_unknown=unknown, on_refused=lambda _b, e: self._fail(a, str(e)))

    def _has_content(self, course_id: int, template_id: int) -> bool:
        return has_template_content(self.api, course_id, template_id)

    def visit_update_course(self, actions: list[UpdateCourse]) -> None:
        requests_: list[tuple[UpdateCourse, CourseUpdate]] = []
        for a in actions:
            values: dict[str, Any] = {c.field: c.new for c in a.changes if c.field != "categoryid"}
            if any(c.field == "categoryid" for c in a.changes):
                cat = self.ids.get(category_idnumber(a.category_key)) if a.category_key else next(
                    c.new for c in a.changes if c.field == "categoryid")
                if cat is None:
                    self._skip(a, f"its category {a.category_key} was not created")
                    continue
                values["categoryid"] = cat
            requests_.append((a, CourseUpdate(id=a.moodle_id, **values)))

        def after(a: UpdateCourse) -> None:
            self.store.remember("course", a.idnumber, a.moodle_id, spec_key=a.key, spec_version=a.to_version,
                                spec_hash=a.spec_hash)
            self._done(a, a.moodle_id, ", ".join(c.field for c in a.changes))

        self._update(requests_, after)

    def visit_hide_course(self, actions: list[HideCourse]) -> None:
        self._update([(a, CourseUpdate(id=a.moodle_id, visible=0)) for a in actions],
                     lambda a: self._done(a, a.moodle_id, a.reason))

    def visit_record_version(self, actions: list[RecordVersion]) -> None:
        for a in actions:
            self.store.remember("course", a.idnumber, a.moodle_id, spec_key=a.key, spec_version=a.to_version,
                                spec_hash=a.spec_hash)
            self._done(a, a.moodle_id, f"version {a.from_version or '(unknown)'} → {a.to_version}")

    def visit_create_session_group(self, actions: list[CreateSessionGroup]) -> None:
        ready = []
        for a in actions:
            if a.course_idnumber not in self.ids:
                self._skip(a, f"course {a.course_idnumber} was not created")
            else:
                ready.append(a)

        def request(a: CreateSessionGroup) -> NewGroup:
            return NewGroup(courseid=self.ids[a.course_idnumber], name=a.name, description=a.description,
                            idnumber=a.idnumber)

        def lookup(batch: Sequence[CreateSessionGroup]) -> dict[str, int]:
            out: dict[str, int] = {}
            for cid in {self.ids[a.course_idnumber] for a in batch}:
                out.update({g.idnumber: g.id for g in self.api.course_groups(cid)})
            return out

        for batch in self.api.batches("core_group_create_groups", "groups", ready, request, max_items=50):
            self._create(batch, lambda b: self.api.create_groups([request(a) for a in b]), lookup,
                         lambda a, gid: None)

    def _update(self, pairs: list[tuple[A, CourseUpdate]], after: Callable[[A], None]) -> None:
        """update_courses is partial in Moodle: each course succeeds or comes back as a warning."""
        def sent(batch: Sequence[tuple[A, CourseUpdate]], warnings: list[ItemWarning]) -> None:
            failed = {w.itemid: w for w in warnings if w.item == "course"}
            for a, r in batch:
                if r.id in failed:
                    w = failed[r.id]
                    self._fail(a, f"core_course_update_courses: {w.warningcode}: {w.message}")
                else:
                    after(a)

        def unknown(batch: Sequence[tuple[A, CourseUpdate]], _e: MoodleError) -> None:
            # updates set absolute values; re-read them to tell which ones landed
            landed = self._landed([r for _, r in batch])
            for a, r in batch:
                if r.id in landed:
                    after(a)
                else:
                    self._fail(a, "the answer was lost and Moodle does not show the change; run apply again")

        def refused(batch: Sequence[tuple[A, CourseUpdate]], e: MoodleError) -> None:
            for a, _ in batch:
                self._fail(a, str(e))

        def split_said(batch: Sequence[tuple[A, CourseUpdate]], e: MoodleError) -> None:
            # Moodle validates every course's parameters before updating any: one bad value
            # (invalidparameter) refuses the whole call, so halve it to apply the good ones
            self.report(f"  Moodle refused an update of {len(batch)} courses ({getattr(e, 'errorcode', '')}); "
                        f"splitting it to find the bad one")

        for batch in self.api.batches("core_course_update_courses", "courses", pairs, lambda p: p[1],
                                      max_items=COURSES_PER_UPDATE):
            send_bisecting(batch, lambda b: self.api.update_courses([r for _, r in b]), on_sent=sent,
                           on_refused=refused, on_unknown=unknown, on_split=split_said)

    def _landed(self, updates: list[CourseUpdate]) -> set[int]:
        current = {c.id: c for c in self.api.courses_by_ids(u.id for u in updates)}
        out = set()
        for u in updates:
            course = current.get(u.id)
            wanted = u.model_dump(exclude_none=True, exclude={"id"})
            if course is not None and all(getattr(course, k, None) == v for k, v in wanted.items()):
                out.add(u.id)
        return out
