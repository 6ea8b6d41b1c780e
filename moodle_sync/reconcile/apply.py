"""Carry out a plan against Moodle: batched, in dependency order, journaled, safe to re-run.

Each kind of action has a ``visit_<action>`` method that takes a batch of such actions. Moodle's
creates are all-or-nothing and name no bad item, so a rejected batch is split in halves until the
bad item is found and named; the good ones are applied. A write whose answer was lost is never
re-sent blindly: Moodle is re-read by idnumber first. Each outcome is written to the state store
before the next batch, so a run killed at any point is simply run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from moodle_sync import settle as settle_module
from moodle_sync.errors import (
    ApplyError,
    MoodleApiError,
    MoodleError,
    TransportError,
)
from moodle_sync.identity import COHORT_PREFIX, category_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import (
    CategoryUpdate,
    CohortUpdate,
    CourseUpdate,
    Enrolment,
    ItemWarning,
    NewCategory,
    NewCohort,
    NewCourse,
    NewGroup,
)
from moodle_sync.reconcile.actual import ActualState, has_template_content
from moodle_sync.reconcile.plan import (
    Action,
    CreateCategory,
    CreateCohort,
    CreateCourse,
    CreateSessionGroup,
    EnrolmentItem,
    HideCohort,
    HideCourse,
    ImportTemplate,
    Plan,
    RecordVersion,
    SyncEnrolments,
    UpdateCategory,
    UpdateCohort,
    UpdateCourse,
    visitor_name,
)
from moodle_sync.reconcile.words import action_words
from moodle_sync.send import FATAL, halves, send_bisecting
from moodle_sync.store.db import ManagedEnrolment, StateStore
from moodle_sync.store.intents import IntentStore

#: creating a course runs many inserts in Moodle (context, sections, blocks, enrolment instances);
#: keep one call well inside PHP's 360 s web-service time limit
COURSES_PER_CREATE = 25
CATEGORIES_PER_CREATE = 50
COURSES_PER_UPDATE = 100
COHORTS_PER_CALL = 100
#: after a lost answer, how long to keep re-reading for a write that may still be running in Moodle
#: before giving up on it for this run (see moodle_sync.settle; tests shorten it here)
LOST_ANSWER_WAIT = settle_module.LOST_ANSWER_WAIT

A = TypeVar("A", bound=Action)
#: enrol_manual_enrol_users errors about the course, not a person: splitting the batch would not help
COURSE_WIDE_ENROL_ERRORS = frozenset({"wsnoinstance", "wscannotenrol"})


@dataclass
class ApplyResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def outcome(self) -> dict[str, str]:
        return {**{a: "done" for a in self.done}, **{a: "failed" for a in self.failed},
                **{a: "skipped" for a in self.skipped}}

    def summary(self) -> dict[str, Any]:
        return {"done": len(self.done), "failed": len(self.failed), "skipped": len(self.skipped),
                "failures": self.failed, "skips": self.skipped}


Report = Callable[[str], None]


class Applier:
    """Applies a plan's actions; ``visit_<snake_case(action type)>`` handles a batch of one type."""

    def __init__(self, api: MoodleApi, store: StateStore, run_id: int, actual: ActualState,
                 report: Report | None = None, workers: int = 4) -> None:
        self.api = api
        #: independent batches (enrolments) go out in parallel through a pool this big
        self.workers = max(1, workers)
        self.store = store
        self.run_id = run_id
        self.report = report or (lambda _m: None)
        self.result = ApplyResult()
        #: idnumber → Moodle id, for everything that exists (filled as creates succeed)
        self.ids: dict[str, int] = {c.idnumber: c.id for c in actual.categories if c.idnumber}
        self.ids.update({idn: c.id for idn, c in actual.courses.items()})
        self.ids.update({idn: c.id for idn, c in actual.cohorts.items()})

    # --- driver -------------------------------------------------------------------------------------

    def apply(self, plan: Plan) -> ApplyResult:
        """Apply every action of ``plan`` in order, batching consecutive actions of one type."""
        for group in _groups(plan.actions):
            visit = getattr(self, visitor_name(type(group[0])), None)
            if visit is None:
                raise ApplyError(f"no way to apply {type(group[0]).__name__} (a bug in moodle-sync)")
            try:
                visit(group)
            except FATAL as e:
                for a in plan.actions:
                    if a.id not in self.result.outcome():
                        self._skip(a, f"stopped: {e}")
                raise ApplyError(f"apply stopped: {e}", outcome=self.result.outcome()) from e
        return self.result

    # --- outcomes ----------------------------------------------------------------------------------

    def _done(self, action: Action, moodle_id: int | None = None, detail: str = "") -> None:
        self.result.done.append(action.id)
        self.store.record_outcome(self.run_id, action.id, type(action).__name__, action.target, "done",
                                  moodle_id, detail)
        self.report(f"  done     {action_words(action.id)}" + (f" (id {moodle_id})" if moodle_id else ""))

    def _fail(self, action: Action, why: str) -> None:
        self.result.failed[action.id] = why
        self.store.record_outcome(self.run_id, action.id, type(action).__name__, action.target, "failed",
                                  None, why)
        self.report(f"  FAILED   {action_words(action.id)}: {why}")

    def _skip(self, action: Action, why: str) -> None:
        self.result.skipped[action.id] = why
        self.store.record_outcome(self.run_id, action.id, type(action).__name__, action.target, "skipped",
                                  None, why)
        self.report(f"  skipped  {action_words(action.id)}: {why}")

    # --- categories --------------------------------------------------------------------------------

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

    # --- courses ------------------------------------------------------------------------------------

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
                              f"{LOST_ANSWER_WAIT:.0f} s; Moodle may still be copying it. Run apply again in "
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

    # --- cohorts ----------------------------------------------------------------------------------

    def visit_create_cohort(self, actions: list[CreateCohort]) -> None:
        def request(a: CreateCohort) -> NewCohort:
            return NewCohort(name=a.name, idnumber=a.idnumber, description=a.description or None, visible=1)

        def lookup(batch: Sequence[CreateCohort]) -> dict[str, int]:
            wanted = {a.idnumber for a in batch}
            return {c.idnumber: c.id for c in self.api.search_cohorts(COHORT_PREFIX) if c.idnumber in wanted}

        def on_created(a: CreateCohort, moodle_id: int) -> None:
            self.store.remember("cohort", a.idnumber, moodle_id)

        for batch in self.api.batches("core_cohort_create_cohorts", "cohorts", actions, request,
                                      max_items=COHORTS_PER_CALL):
            self._create(batch, lambda b: self.api.create_cohorts([request(a) for a in b]), lookup, on_created)

    def visit_update_cohort(self, actions: list[UpdateCohort]) -> None:
        self._update_cohorts([(a, CohortUpdate(id=a.moodle_id, name=a.name, idnumber=a.idnumber,
                                                description=a.description, visible=1)) for a in actions])

    def visit_hide_cohort(self, actions: list[HideCohort]) -> None:
        self._update_cohorts([(a, CohortUpdate(id=a.moodle_id, name=a.name, idnumber=a.idnumber,
                                                description=a.description, visible=0)) for a in actions])

    def _update_cohorts(self, pairs: list[tuple[UpdateCohort | HideCohort, CohortUpdate]]) -> None:
        """update_cohorts is all-or-nothing: a failed batch is split to name the bad one."""
        def sent(batch: Sequence[tuple[UpdateCohort | HideCohort, CohortUpdate]], _answer: object) -> None:
            for a, _ in batch:
                self._done(a, a.moodle_id)

        for batch in self.api.batches("core_cohort_update_cohorts", "cohorts", pairs, lambda p: p[1],
                                      max_items=COHORTS_PER_CALL):
            # a lost answer: absolute values, so the next plan re-reads and shows anything left
            send_bisecting(batch, lambda b: self.api.update_cohorts([r for _, r in b]), on_sent=sent,
                           on_refused=lambda b, e: self._fail(b[0][0], str(e)), on_unknown=lambda _b, _e: None,
                           split=lambda b, _e: len(b) > 1)

    # --- sessions ----------------------------------------------------------------------------------

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

    # --- enrolments ------------------------------------------------------------------------------

    def visit_sync_enrolments(self, actions: list[SyncEnrolments]) -> None:
        """Enrol, reactivate, re-date and suspend, in batches sent in parallel (enrol calls are
        upserts of one (user, course) each: two batches never create the same object)."""
        jobs: list[tuple[SyncEnrolments, list[tuple[EnrolmentItem, Enrolment]]]] = []
        for a in actions:
            course_id = self.ids.get(a.idnumber)
            if course_id is None:
                self._skip(a, f"course {a.idnumber} does not exist (yet)")
                continue
            pairs = [(i, Enrolment(roleid=i.roleid, userid=i.userid, courseid=course_id, timestart=i.timestart,
                                   timeend=i.timeend, suspend=int(i in a.suspend)))
                     for i in (*a.enrol, *a.reactivate, *a.redate, *a.suspend)]
            jobs += [(a, batch) for batch in self.api.batches("enrol_manual_enrol_users", "enrolments", pairs,
                                                              lambda p: p[1])]
        failures: dict[str, list[str]] = {}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for (a, _batch), failed in zip(jobs, pool.map(lambda job: self._send_enrolments(*job), jobs),
                                           strict=True):
                failures.setdefault(a.id, []).extend(failed)
        for a in actions:
            if a.id not in failures:
                continue
            if failures[a.id]:
                self._fail(a, f"{len(failures[a.id])} enrolment(s) failed: " + _summarise(failures[a.id]))
            else:
                counts = ", ".join(f"{n} {k}" for k, n in a.counts().items() if n)
                self._done(a, self.ids.get(a.idnumber), counts)

    def _send_enrolments(self, action: SyncEnrolments, batch: Sequence[tuple[EnrolmentItem, Enrolment]], *,
                         resent: bool = False) -> list[str]:
        """Send one batch; bisect a rejected one; send a lost one once more. Returns failures.

        Unlike a create, an enrol call is safe to repeat: it carries every value (role, dates, status)
        and Moodle updates the one enrolment per user and course (unique in the database) to them. What
        Moodle lists cannot tell whether a lost batch landed (dates are not shown, and onlyactive also
        hides enrolments outside their window), so it is sent again, after a pause.
        """
        failures: list[str] = []
        intents = IntentStore(self.store)
        open_intents: dict[int, list[int]] = {}

        def send(part: Sequence[tuple[EnrolmentItem, Enrolment]]) -> None:
            # the intent goes to the store before the call: a run killed before the answer is recorded, or an
            # answer lost twice, leaves it pending, and the next run settles it from Moodle (reconcile/intents.py)
            open_intents[id(part)] = intents.record(self.run_id, part[0][1].courseid, self._managed(action, part))
            self.api.enrol([r for _, r in part])

        def sent(part: Sequence[tuple[EnrolmentItem, Enrolment]], _answer: None) -> None:
            self.store.set_enrolments(self._managed(action, part))
            intents.close(open_intents.pop(id(part)), "done")

        def refused(part: Sequence[tuple[EnrolmentItem, Enrolment]], e: MoodleError) -> None:
            failures.extend(f"user {r.userid}: {e}" for _, r in part)

        def unknown(part: Sequence[tuple[EnrolmentItem, Enrolment]], _e: MoodleError) -> None:
            if resent:
                failures.extend(f"user {r.userid}: the answer was lost twice (kept as pending: the next run reads "
                                f"Moodle to settle it); run apply again" for _, r in part)
                return
            self.report(f"  answer lost for {len(part)} enrolments in {action.idnumber}; sending them again "
                        f"(an enrol call sets every value, so repeating it is safe)")
            time.sleep(min(5.0, LOST_ANSWER_WAIT))
            intents.close(open_intents.pop(id(part)), "resent")  # the re-sent call carries the same intents again
            failures.extend(self._send_enrolments(action, part, resent=True))

        def split(part: Sequence[tuple[EnrolmentItem, Enrolment]], e: MoodleError) -> bool:
            # Moodle refused the whole call: nothing of it was applied
            intents.close(open_intents.pop(id(part)), "refused")
            # the manual enrolment instance is missing or off: no smaller batch would get through
            return len(part) > 1 and getattr(e, "errorcode", None) not in COURSE_WIDE_ENROL_ERRORS

        send_bisecting(batch, send, on_sent=sent, on_refused=refused, on_unknown=unknown, split=split,
                       catch=(MoodleApiError,))
        return failures

    @staticmethod
    def _managed(action: SyncEnrolments, sent: Sequence[tuple[EnrolmentItem, Enrolment]]) -> list[ManagedEnrolment]:
        return [ManagedEnrolment(action.idnumber, r.userid, r.roleid, r.timestart, r.timeend, bool(r.suspend), i.rule)
                for i, r in sent]

    # --- shared mechanics ---------------------------------------------------------------------------

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

    def _create(self, batch: Sequence[A], create: Callable[[Sequence[A]], Sequence[Any]],
                lookup: Callable[[Sequence[A]], dict[str, int]],
                on_created: Callable[[A, int], None], *,
                pieces: Callable[[Sequence[A]], list[Sequence[A]]] = halves) -> None:
        """Create a batch; bisect a rejected one; re-read (never re-send) one whose answer was lost."""
        def sent(done: Sequence[A], created: Sequence[Any]) -> None:
            for a, made in zip(done, created, strict=True):
                self._created(a, made.id, on_created)

        def unknown(lost: Sequence[A], _e: MoodleError) -> None:
            found = self._settle(len(lost), lambda: lookup(lost))
            for a in lost:
                if a.target in found:
                    self._created(a, found[a.target], on_created)
            for a in lost:
                if a.target not in found:
                    self._fail(a, f"the answer was lost and Moodle did not show it within {LOST_ANSWER_WAIT:.0f} s; "
                                  "it was not sent again, as Moodle may still be creating it. Run apply again "
                                  "in a few minutes: it re-reads Moodle before creating anything")

        def refused(bad: Sequence[A], e: MoodleError) -> None:
            if isinstance(e, MoodleApiError) and len(bad) == 1:
                # e.g. courseidnumbertaken (or invalidparameter for a cohort): another run, or an earlier
                # answer that was lost, already made it: adopt it instead of failing
                found = lookup(bad)
                if bad[0].target in found:
                    self._created(bad[0], found[bad[0].target], on_created)
                    return
            for a in bad:
                self._fail(a, str(e))

        def split_said(whole: Sequence[A], e: MoodleError) -> None:
            self.report(f"  Moodle rejected a batch of {len(whole)} ({getattr(e, 'errorcode', '')}); splitting it "
                        f"to find the bad item")

        send_bisecting(batch, create, on_sent=sent, on_refused=refused, on_unknown=unknown, on_split=split_said,
                       pieces=pieces, catch=(MoodleApiError, TransportError))

    def _settle(self, expected: int, read: Callable[[], dict[str, int]]) -> dict[str, int]:
        """Re-read what a write whose answer was lost should have made, until all ``expected`` objects
        show or :data:`LOST_ANSWER_WAIT` has passed (Moodle may still be running it)."""
        return settle_module.settle(expected, read, wait=LOST_ANSWER_WAIT, report=self.report)

    def _created(self, action: A, moodle_id: int, on_created: Callable[[A, int], None]) -> None:
        self.ids[action.target] = moodle_id
        on_created(action, moodle_id)
        self._done(action, moodle_id)


def _groups(actions: Sequence[Action]) -> list[list[Any]]:
    """Consecutive actions of one type (and, for categories, one depth) form a batch."""
    groups: list[list[Any]] = []
    for a in actions:
        if groups and type(groups[-1][0]) is type(a) and getattr(groups[-1][0], "depth", 0) == getattr(a, "depth", 0):
            groups[-1].append(a)
        else:
            groups.append([a])
    return groups


def _summarise(failures: list[str], shown: int = 5) -> str:
    """``user 12: reason`` lines grouped by reason: "reason (users 12, 13 and 4 more)"."""
    by_reason: dict[str, list[str]] = {}
    for line in failures:
        who, _, reason = line.partition(": ") if line.startswith("user ") else ("", "", line)
        by_reason.setdefault(reason, []).append(who.removeprefix("user "))
    parts = []
    for reason, users in list(by_reason.items())[:shown]:
        named = [u for u in users if u]
        more = f" and {len(named) - shown} more" if len(named) > shown else ""
        parts.append(f"{reason} (user{'s' if len(named) > 1 else ''} {', '.join(named[:shown])}{more})"
                     if named else reason)
    return "; ".join(parts)
