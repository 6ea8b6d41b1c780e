"""Pull course completions from Moodle into the state store, incrementally.

Core web services answer completion one user × one course per call, so a routine pull only asks
about open enrolments whose person entered the course since the last check (``lastcourseaccess`` in
the enrolled-users listing), plus everyone open whose last check is older than the sweep interval
(completions made without a visit: marked by a teacher, completion by date). Results are written as
they come, so an interrupted pull resumes where it stopped. With the completion report set up, the report alone
says who is enrolled, how and whether active, and every completion with its time (completions/bulk.py): the
pull reads core_enrol_get_enrolled_users only when the report's rows changed twice while it was read, and asks
one question per tracked course at the sweep (does it track completion, can it be read?).

Members of the tool's cohorts are read too (one batched read), so reports count people no roster named
under the county and target group of the cohort someone put them in.

Moodle's answers that are not a status (core_completion_get_course_completion_status, Moodle 4.3) sort into
three kinds: the course tracks no completion (``nocriteriaset``; ``cannotviewreport``, which
completion_can_view_data() gives when completion is off in the course or on the site), one person cannot be
answered for (``usernotenroled``, ``userdeleted`` …: their last known state is kept), or the course cannot
be read at all (``requireloginerror``, ``accessdenied``, ``nopermissions`` and any other answer: named once,
the pull goes on). Only a refused token (AuthError) or no answer at all (TransportError) stops the pull.
"""

from __future__ import annotations

import datetime
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from moodle_sync import clock
from moodle_sync.completions.bulk import BulkResult, known_from, read_report
from moodle_sync.completions.course_dates import read_course_dates
from moodle_sync.completions.pass_dates import finish_report
from moodle_sync.completions.report_pages import PAGE_WORKERS, ReportPages, read_ahead, read_early
from moodle_sync.completions.report_setup import DATE_COLUMNS, CompletionReport, ReportProblem, prepare_report
from moodle_sync.errors import AuthError, MoodleApiError
from moodle_sync.identity import parse_cohort_idnumber, parse_course_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import CompletionStatus
from moodle_sync.reconcile.actual import ActualState, read_actual
from moodle_sync.reconcile.enrolments import CourseEnrolments, is_suspended
from moodle_sync.reconcile.intents import settle_pending_enrolments
from moodle_sync.specs.models import CourseSpec
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.completions import CompletionStore, CoursePerson
from moodle_sync.store.db import StateStore
from moodle_sync.store.report_pull import ReportPullStore

#: completion checks written to the store per transaction (what an interruption can lose at most)
SAVE_EVERY = 200

#: one answer settles the whole course: Moodle shows no completion in it. ``cannotviewreport`` comes
#: first of all checks when completion is off in the course or on the site (completion_can_view_data)
NOT_TRACKED = frozenset({"nocriteriaset", "cannotviewreport"})

#: about one person only (require_active_user, is_tracked_user): their last known state is kept
PERSON_ERRORS = frozenset({"usernotenroled", "notenroled", "userdeleted", "usernotconfirmed",
                           "guestsarenotallowed", "invaliduser"})

#: what to do when a whole course cannot be read; any other errorcode is named without a hint
COURSE_HINTS = {
    "requireloginerror": "the web-service user cannot enter the course (hidden, or not enrolled there): give its "
                         "role moodle/course:viewhiddencourses and moodle/course:view",
    "accessdenied": "the course uses separate groups and the web-service user shares no group with the person: "
                    "give its role moodle/site:accessallgroups",
    "nopermissions": "give the web-service user's role the capability named in the message",
    "restrictedcontextexception": "the token's service is restricted to a context outside this course",
}

#: why a course's completion is not tracked, as ``pull`` says it (keys: PullResult.not_tracked_why)
NOT_TRACKED_WHY = {
    "nocriteriaset": "no completion criteria in Moodle",
    "cannotviewreport": "Moodle answers cannotviewreport: completion is off in the course or on the site, or the "
                        "web-service user lacks report/completion:view",
    "spec": "completion: false in its spec",
    "earlier": "found by an earlier pull; looked at again at the next sweep",
}


def completion_off_in_spec(spec: CourseSpec, idnumber: str) -> bool:
    """The course version was created from a spec with ``completion: false`` (enablecompletion=0): Moodle
    answers cannotviewreport for everyone in it, so it is not asked and counts as not tracked."""
    return spec.idnumber == idnumber and not spec.completion


@dataclass(frozen=True)
class CourseProblem:
    """Why a course's completions could not be read in this pull (its stored state is unchanged)."""

    errorcode: str
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"errorcode": self.errorcode, "message": self.message, "hint": self.hint}


@dataclass
class PullResult:
    courses: int = 0
    people: int = 0
    asked: int = 0
    new_completions: int = 0
    not_tracked: list[str] = field(default_factory=list)
    #: course idnumber → why it is not tracked: nocriteriaset, cannotviewreport, spec (``completion: false``),
    #: or earlier (settled by an earlier pull; asked again at the next sweep)
    not_tracked_why: dict[str, str] = field(default_factory=dict)
    swept: list[str] = field(default_factory=list)
    #: errorcode → how many people Moodle would not answer for (their last known state is kept)
    kept: Counter[str] = field(default_factory=Counter)
    #: course idnumber → the answer that stopped the pull asking about it
    not_read: dict[str, CourseProblem] = field(default_factory=dict)
    #: the bulk pull through the completion report (None: not used, and ``bulk_off`` says why)
    bulk: BulkResult | None = None
    bulk_off: str = ""

    def to_dict(self) -> dict[str, Any]:
        bulk = None if self.bulk is None else {
            "pages": self.bulk.pages, "rows": self.bulk.rows, "rows_of_other_courses": self.bulk.other_rows,
            "resumed_at_page": self.bulk.resumed_at,
            "dates_certain": self.bulk.dates_certain, "anchors": self.bulk.anchors,
            "anchors_agree": self.bulk.anchors_agree, "timezone": self.bulk.timezone or None,
            "timezone_forced_by_site": self.bulk.forced, "dates_unsettled": self.bulk.unsettled,
            "first_seen_days_replaced": self.bulk.upgraded, "enrolment_days_from_report": self.bulk.enrolled_since,
            "asked_one_by_one": len(self.bulk.ask or []), "changed_while_read": self.bulk.changed_while_read,
            "people_looked_up_by_username": self.bulk.looked_up}
        return {"completion_report": bulk, "completion_report_not_used": self.bulk_off or None,
                "courses": self.courses, "people": self.people, "asked": self.asked,
                "new_completions": self.new_completions, "completion_not_tracked": self.not_tracked,
                "completion_not_tracked_why": self.not_tracked_why, "full_sweep": self.swept,
                "people_kept_as_is": dict(sorted(self.kept.items())),
                "courses_not_read": {k: v.to_dict() for k, v in sorted(self.not_read.items())}}

    def not_tracked_text(self) -> str:
        """``course@1 (why), …`` for people reading the pull's outcome."""
        return ", ".join(f"{idn} ({NOT_TRACKED_WHY.get(self.not_tracked_why.get(idn, ''), 'not tracked')})"
                         for idn in self.not_tracked)

    def settle_not_tracked(self, idnumber: str, why: str) -> None:
        if idnumber not in self.not_tracked:
            self.not_tracked.append(idnumber)
            self.not_tracked_why[idnumber] = why


def completion_time(status: CompletionStatus) -> int | None:
    """The course completion time from the criteria: the latest for "all", the earliest met for "any"."""
    times = [c.timecompleted for c in status.completions if c.complete and c.timecompleted]
    if not times:
        return None
    return min(times) if status.aggregation == 2 else max(times)


def _stale(checked: str | None, cutoff: str) -> bool:
    """Checked at or before the cutoff. Checks carry the stamp of the pull that made them (its start), so a
    weekly pull with ``sweep_days=7`` sweeps every week, and ``sweep_days=0`` sweeps everything."""
    return checked is None or checked <= cutoff


def _due(person: CoursePerson, cutoff: str) -> bool:
    visited = person.checked_access is None or person.lastcourseaccess > person.checked_access
    return visited or _stale(person.last_checked, cutoff)


def pull(api: MoodleApi, specs: SpecSet, store: StateStore, *, workers: int = 4, sweep_days: int = 7,
         now: datetime.datetime | None = None, progress: Callable[[str], None] | None = None,
         report_name: str | None = None) -> PullResult:
    """Pull enrolments and completions of every course version the specs manage.

    With ``report_name`` (the completion report, see completions/report_setup.py) who is enrolled and every
    completion are read in bulk from the report's pages (completions/bulk.py); without it, or when the report
    cannot be used (``bulk_off`` says why), people are asked about one by one: those who visited the course since
    the last check, and at the sweep everyone open.

    A course that cannot be read (``result.not_read``) is skipped and the pull goes on; nothing stored about it
    changes, so its people are asked again next time.

    Raises:
        AuthError: the token is refused (nothing more can be asked); checks saved so far are kept.
        TransportError: Moodle gave no usable answer after the retries; checks saved so far are kept.
    """
    say = progress or (lambda _m: None)
    now = now or clock.now()
    stamp = now.isoformat(timespec="seconds")
    cutoff = (now - datetime.timedelta(days=sweep_days)).isoformat(timespec="seconds")
    completions = CompletionStore(store)
    settle_pending_enrolments(api, store, progress=say)  # an enrolment the tool made counts from its day
    result = PullResult()
    report: CompletionReport | None = None
    early: ReportPages | None = None
    page_workers = min(workers, PAGE_WORKERS) or 1
    if report_name:
        # the report's first pages are the longest wait of a pull (Moodle formats every date of every row): a routine
        # pull asks for them before it looks at the report, others once it is ready, and in both cases before the
        # courses and cohorts are read; read_report takes their answers
        early = read_early(api, store, page_workers, say)
        try:
            found = prepare_report(api, store, report_name)
        except BaseException:
            if early is not None:
                early.close(wait=False)
            raise
        if isinstance(found, ReportProblem):
            result.bulk_off = found.text()
        else:
            report = found
        if early is not None and (report is None or not early.fits(report)):
            say("completion report: the pages asked for early are not of the report as it is now; asking again")
            early.close(wait=False)
            early = None
    if report is not None:
        with early or read_ahead(api, store, report, page_workers, say) as ahead:
            actual = read_actual(api, specs, store, progress=say, plan=False)
            _pull_cohort_places(api, specs, actual, completions, stamp, say)
            _pull_with_report(api, specs, store, actual, report, completions, now, cutoff, result, workers, say,
                              ahead)
        return result
    actual = read_actual(api, specs, store, progress=say, plan=False)
    _pull_cohort_places(api, specs, actual, completions, stamp, say)
    for idnumber, course in sorted(actual.courses.items()):
        parsed = parse_course_idnumber(idnumber)
        if parsed is None or parsed[0] not in specs.courses:
            continue
        result.courses += 1
        _read_roster(api, store, completions, idnumber, course.id, now, result, say)
        spec = specs.courses[parsed[0]]
        if completion_off_in_spec(spec, idnumber):
            result.settle_not_tracked(idnumber, "spec")
            continue
        no_criteria, last_sweep = completions.course_state(idnumber)
        if no_criteria and not _stale(last_sweep, cutoff):
            result.settle_not_tracked(idnumber, "earlier")  # looked at again at the next sweep
            continue
        people = completions.people(idnumber)
        asker = _Asker(api, completions, course.id, idnumber, workers, now, stamp, result, say)
        todo = [p for p in people.values()
                if p.status == "active" and p.completed_at is None and _due(p, cutoff)]
        if todo:
            # one question first: a course without criteria or with completion off, or one the web-service
            # user cannot enter, answers the same for everyone, so one answer settles the whole list (and
            # tells, at each sweep, whether that changed since)
            asker.ask(todo[:1], everyone=todo)
            if asker.stopped:
                continue
            todo = todo[1:]
        swept = any(_stale(p.last_checked, cutoff) for p in todo)
        asker.ask(todo, everyone=todo)
        if asker.stopped:
            continue
        if swept:
            result.swept.append(idnumber)
        completions.set_course_state(idnumber, no_criteria=False, last_sweep=stamp)
    return result


def _read_roster(api: MoodleApi, store: StateStore, completions: CompletionStore, idnumber: str, course_id: int,
                 now: datetime.datetime, result: PullResult, say: Callable[[str], None], why: str = "") -> None:
    """Who is enrolled in the course and whether suspended, from core_enrol_get_enrolled_users (everyone, then only
    the active ones), with each person's last visit."""
    say(f"reading who is enrolled in {idnumber}" + (f" from core_enrol_get_enrolled_users: {why}" if why else ""))
    everyone = api.enrolled_users(course_id, only_active=False, fields="id,lastcourseaccess")
    listed = CourseEnrolments(everyone={u.id for u in everyone},
                              active={u.id for u in api.enrolled_users(course_id, only_active=True, fields="id")},
                              managed=store.managed_enrolments(idnumber))
    moment = int(now.timestamp())
    # onlyactive also leaves out enrolments outside their window: what the tool set tells those apart
    completions.save_roster(idnumber, {u.id: ("suspended" if is_suspended(listed, u.id, moment) else "active",
                                              u.lastcourseaccess or 0) for u in everyone},
                            now.isoformat(timespec="seconds"))
    result.people += len(everyone)


def _pull_with_report(api: MoodleApi, specs: SpecSet, store: StateStore, actual: ActualState,
                      report: CompletionReport, completions: CompletionStore, now: datetime.datetime, cutoff: str,
                      result: PullResult, workers: int, say: Callable[[str], None], ahead: ReportPages) -> None:
    """Read who is enrolled and every completion from the report's pages (completions/bulk.py; ``ahead``: its first
    pages, already asked for), then ask one question per course at the sweep (does it track completion, can it be
    read?) and one per person only whose completion is new and whose time the report could not give with
    certainty."""
    stamp = now.isoformat(timespec="seconds")
    courses = {idn: c for idn, c in sorted(actual.courses.items())
               if (parsed := parse_course_idnumber(idn)) is not None and parsed[0] in specs.courses}
    result.courses = len(courses)
    tracked: set[str] = set()
    for idnumber in courses:
        parsed = parse_course_idnumber(idnumber)
        assert parsed is not None
        no_criteria, last_sweep = completions.course_state(idnumber)
        if completion_off_in_spec(specs.courses[parsed[0]], idnumber):
            result.settle_not_tracked(idnumber, "spec")
        elif no_criteria and not _stale(last_sweep, cutoff):
            result.settle_not_tracked(idnumber, "earlier")  # looked at again at the next sweep
        else:
            tracked.add(idnumber)
    known = known_from(store, {idn: (c.startdate, c.enddate) for idn, c in courses.items()}, int(now.timestamp()))
    bulk = read_report(api, store, report, known, stamp, say=say, workers=ahead.workers, ahead=ahead)
    result.bulk = bulk
    if report.dates_wanted and bulk.first_rows and not bulk.changed_while_read and bulk.progress is not None:
        dates = read_course_dates(api, ReportPullStore(store), report, bulk.first_rows, ahead.workers)
        if dates:
            bulk.progress = replace(bulk.progress, course_dates=dates)
            bulk.course_columns = DATE_COLUMNS
    if bulk.changed_while_read:
        for idnumber, course in courses.items():  # pages of two different moments: whose rows are whose is unsure
            _read_roster(api, store, completions, idnumber, course.id, now, result, say,
                         why="the completion report's rows changed while it was read, twice")
    else:
        result.people = completions.enrolled(courses)
    for idnumber in sorted(tracked):
        _, last_sweep = completions.course_state(idnumber)
        if not _stale(last_sweep, cutoff):
            continue
        # one question (at the sweep) tells whether the course tracks completion and can be read; the report
        # does the rest, the completion's date too (the answer's is no better: a completion not made by a
        # criterion carries no time in it)
        open_ = [p for p in completions.people(idnumber).values() if p.status == "active"]
        first = ([p for p in open_ if p.completed_at is None] or open_)[:1]
        asker = _Asker(api, completions, courses[idnumber].id, idnumber, workers, now, stamp, result, say)
        asker.probe = True
        asker.ask(first, everyone=first)
        if asker.stopped:
            tracked.discard(idnumber)
            continue
        completions.set_course_state(idnumber, no_criteria=False, last_sweep=stamp)
    finish_report(store, known, bulk, tracked)
    result.new_completions += bulk.new_completions
    by_course: dict[str, list[int]] = {}
    for idnumber, userid in bulk.ask or []:
        by_course.setdefault(idnumber, []).append(userid)
    if by_course:
        say(f"asking Moodle one by one about {len(bulk.ask or [])} new completions"
            + ("" if bulk.dates_certain else " (the report's dates could not be read with certainty)"))
    for idnumber, userids in sorted(by_course.items()):
        people = completions.people(idnumber)
        todo = [people[(idnumber, u)] for u in userids if (idnumber, u) in people]
        _Asker(api, completions, courses[idnumber].id, idnumber, workers, now, stamp, result, say).ask(todo,
                                                                                                       everyone=[])


def _pull_cohort_places(api: MoodleApi, specs: SpecSet, actual: ActualState, completions: CompletionStore,
                        stamp: str, say: Callable[[str], None]) -> None:
    """Record who is in each tool cohort of a target group in the specs, whoever added them (batched reads)."""
    cohorts = {c.id: idn for idn, c in actual.cohorts.items()
               if (parsed := parse_cohort_idnumber(idn)) and parsed[0] in specs.target_groups}
    if not cohorts:
        return
    say(f"reading members of {len(cohorts)} cohorts")
    completions.save_cohort_places({cohorts[cid]: users for cid, users in api.cohort_members(cohorts).items()},
                                   stamp)


Answer = CompletionStatus | MoodleApiError | None  # None: not asked (the course was stopped meanwhile)


class _Asker:
    """Asks Moodle about the people of one course through a bounded pool and saves answers as they come.

    ``stopped`` turns true on the first answer that settles the whole course (not tracked, or not readable);
    questions not yet sent are then not sent.
    """

    def __init__(self, api: MoodleApi, completions: CompletionStore, course_id: int, idnumber: str, workers: int,
                 now: datetime.datetime, stamp: str, result: PullResult, say: Callable[[str], None]) -> None:
        self.api, self.completions, self.course_id, self.idnumber = api, completions, course_id, idnumber
        self.workers, self.now, self.stamp, self.result, self.say = workers, now, stamp, result, say
        #: only whether the course answers: a completion is kept from the completion report, never from here
        self.probe = False
        self._stop = threading.Event()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _one(self, person: CoursePerson) -> tuple[CoursePerson, Answer]:
        if self._stop.is_set():
            return person, None
        try:
            return person, self.api.completion_status(self.course_id, person.userid)
        except AuthError:
            raise  # the token itself is refused: no other course can be read either
        except MoodleApiError as e:
            if e.errorcode not in PERSON_ERRORS:
                self._stop.set()  # the same answer would come for everyone left
            return person, e

    def ask(self, todo: list[CoursePerson], *, everyone: list[CoursePerson]) -> None:
        """Ask about each person in ``todo``; ``everyone`` (the course's people due) is settled by a
        not-tracked answer."""
        asked = 0
        for start in range(0, len(todo), SAVE_EVERY):
            with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
                answers = list(pool.map(self._one, todo[start:start + SAVE_EVERY]))
            rows: list[tuple[int, int, int | None, str | None]] = []
            settled: MoodleApiError | None = None
            for person, answer in answers:
                if answer is None:
                    continue
                asked += 1
                self.result.asked += 1
                if isinstance(answer, MoodleApiError):
                    if answer.errorcode in PERSON_ERRORS:
                        self.result.kept[answer.errorcode] += 1
                        rows.append((person.userid, person.lastcourseaccess, None, None))  # kept as is
                    else:
                        settled = settled or answer
                    continue
                if answer.completed and not self.probe:
                    at = completion_time(answer)
                    source = "criteria" if at else "first_seen"
                    rows.append((person.userid, person.lastcourseaccess, at or int(self.now.timestamp()), source))
                    self.result.new_completions += person.completed_at is None
                else:
                    rows.append((person.userid, person.lastcourseaccess, None, None))
            self.completions.save_checks(self.idnumber, rows, checked_at=self.stamp)
            if settled is not None:
                self._settle(settled, everyone)
                return
            self.say(f"{self.idnumber}: asked {asked}/{len(todo)}")

    def _settle(self, answer: MoodleApiError, everyone: list[CoursePerson]) -> None:
        if answer.errorcode in NOT_TRACKED:
            # reported once, not per person; the course is asked again at the next sweep
            self.completions.set_course_state(self.idnumber, no_criteria=True, last_sweep=self.stamp)
            self.result.settle_not_tracked(self.idnumber, answer.errorcode)
            self.completions.save_checks(self.idnumber, [(p.userid, p.lastcourseaccess, None, None)
                                                         for p in everyone], checked_at=self.stamp)
            return
        # the whole course cannot be read: no more questions; whoever was not answered is asked again next time
        self.result.not_read[self.idnumber] = CourseProblem(answer.errorcode or answer.exception, answer.message,
                                                            COURSE_HINTS.get(answer.errorcode, ""))
