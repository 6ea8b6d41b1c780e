"""The bulk pull: every enrolment and completion of every managed course version, read from the completion report
(completions/report_setup.py) a page at a time with core_reportbuilder_retrieve_report.

Each pass reads all pages, so it sees every completion however it was made (a visit, a teacher, an override, cron,
a migration) and Moodle's own completion time. A page is saved as it comes with where the pass stands, so an
interrupted pull goes on from the next page (when the report still has the same number of rows; else it starts
over). Pages hold dates as the report shows them; once every page is read, the timezone they are shown in is found
from times Moodle also gives as numbers (completions/report_dates.py, completions/pass_dates.py), on any site,
whoever made its enrolments. Dates are kept only where that is certain: Moodle's completion time replaces a day a
pull first saw a completion, and the earliest enrolment start replaces the day a pull first saw someone the tool did
not enrol. A new completion whose time is not certain is asked about one by one
(core_completion_get_course_completion_status).

The report is also who is enrolled: each row names its person by the link of the "Full name with link" column
(``/user/profile.php?id=N``), with its method and status, so a pull needs no core_enrol_get_enrolled_users. A person
counts as active when any of their methods shows "Active" (what core_enrol_get_enrolled_users' onlyactive
lists), judged against what the tool set for its own enrolments (reconcile/enrolments.py ``is_suspended``); people of
a managed course the pass did not show are gone. A row whose link names nobody (a customised column) is named by
its username in one batched core_user_get_users_by_field per page.

A routine pull cannot ask for only the rows that changed. A condition's value can be set only in the UI's form;
a filter's can (core_reportbuilder_filters_add, core_reportbuilder_set_filters), but no column or filter of the
source carries when an enrolment was last changed (user_enrolments.timemodified), so a filtered read would miss a
suspension, a new end date or an unenrolment made by someone else. The pull therefore reads the whole report once,
in pages asked for as completions/report_pages.py says. Every page's columns must be where the pull found them: an
admin may edit the report meanwhile (ReportChanged).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from operator import itemgetter

from moodle_sync.completions.report_dates import parse_shown, parse_shown_end
from moodle_sync.completions.report_pages import (
    PAGE_WORKERS,
    ReportPages,
    pages_in_order,
    pass_start,
    rows_expected,
)
from moodle_sync.completions.report_setup import DATE_COLUMNS, CompletionReport, ReportChanged
from moodle_sync.errors import MoodleSyncError
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import ReportRow, RetrievedReport
from moodle_sync.reconcile.enrolments import CourseEnrolments, is_suspended
from moodle_sync.store.db import ManagedEnrolment, StateStore
from moodle_sync.store.report_pull import Pass, ReportPullStore, Seen

MANUAL = "Manual enrolments"  # enrol_manual pluginname (enrol/manual/lang/en/enrol_manual.php)
STATUS = {"Active": "active", "Suspended": "suspended", "Not current": "not current"}  # lang/en/enrol.php

#: the id in the link "Full name with link" shows (html_writer::link(new moodle_url('/user/profile.php', ['id' => …])))
PROFILE_ID = re.compile(r'/user/profile\.php\?id=(\d+)"')


@dataclass
class BulkResult:
    pages: int = 0
    rows: int = 0
    #: rows of courses the tool does not manage: Moodle formats them too (a condition on the category leaves them out)
    other_rows: int = 0
    resumed_at: int = 0
    dates_certain: bool = False
    anchors: int = 0
    anchors_agree: int = 0
    #: the timezone(s) the dates were read in; ``forced``: not the one asked for (the site forces its own)
    timezone: str = ""
    forced: bool = False
    #: completions whose shown time the timezones found do not read alike (asked about one by one when new)
    unsettled: int = 0
    #: (course idnumber, user id) whose completion is new and whose time must be asked for one by one
    ask: list[tuple[str, int]] | None = None
    new_completions: int = 0
    #: completions whose first-seen day was replaced by Moodle's time
    upgraded: int = 0
    #: people the tool did not enrol whose enrolment day came from the report
    enrolled_since: int = 0
    changed_while_read: bool = False
    #: people named by username, not by the link (looked up in core_user_get_users_by_field)
    looked_up: int = 0
    #: the pass that was read (its dates are read by ``finish_report``)
    progress: Pass | None = None
    #: the course date columns the report showed (completions/report_setup.py DATE_COLUMNS: absent once not needed)
    course_columns: tuple[str, ...] = ()
    #: course idnumber → the place (0-based) of its first row in the pass, when its dates are read after it
    #: (completions/course_dates.py); a pass that went on from an interrupted one knows only its own pages'
    first_rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Known:
    """What the tool knows of the managed courses: what it sent, when it enrolled each person (ISO time), each course
    version's start and end date as core_course_get_courses_by_field gives them (0: none), and the moment (Unix time)
    enrolment windows are judged at."""

    managed: dict[str, dict[int, ManagedEnrolment]]
    enrolled_iso: dict[str, dict[int, str]]
    enrolled_at: dict[str, dict[int, int]]
    courses: dict[str, tuple[int, int]] = field(default_factory=dict)
    now: int = 0
    #: username → user id, of the people a lookup named (rows whose link names nobody)
    ids: dict[str, int] = field(default_factory=dict)


def unix_of(iso: str) -> int:
    moment = datetime.datetime.fromisoformat(iso)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)).timestamp())


def known_from(store: StateStore, courses: dict[str, tuple[int, int]], now: int) -> Known:
    """What the store knows of the managed course versions ``courses`` (idnumber → start and end date)."""
    iso = {idn: store.enrolled_at(idn) for idn in courses}
    at = {idn: {uid: unix_of(when) for uid, when in people.items()} for idn, people in iso.items()}
    return Known({idn: store.managed_enrolments(idn) for idn in courses}, iso, at, dict(courses), now)


def read_report(api: MoodleApi, store: StateStore, report: CompletionReport, known: Known, stamp: str, *,
                say: Callable[[str], None], page_size: int | None = None, workers: int = PAGE_WORKERS,
                ahead: ReportPages | None = None) -> BulkResult:
    """Read every page of the report into the store: who is enrolled in each managed course, with what the rows show.
    ``finish_report`` then reads the pass's dates. ``ahead``: the pages :func:`read_ahead` already asked for (their
    threads end when this returns or raises); without it the pages are asked for here, ``workers`` at a time."""
    saved = ReportPullStore(store)
    result = BulkResult(course_columns=tuple(uid for uid in DATE_COLUMNS if uid in report.positions))
    begun = (ahead.begun if ahead is not None and ahead.begun is not None and page_size is None
             else pass_start(saved, report, workers, page_size))
    progress, page_size = begun.progress, begun.page_size
    with ahead if ahead is not None else ReportPages(api, report.id, workers) as reader:
        progress = _read_pages(reader, saved, report, known, stamp, progress, page_size, result, say)
    saved.close_roster(progress.stamp, list(known.courses))
    result.progress = progress
    return result


def _read_pages(reader: ReportPages, saved: ReportPullStore, report: CompletionReport, known: Known, stamp: str,
                progress: Pass | None, page_size: int, result: BulkResult, say: Callable[[str], None]) -> Pass:
    """Every page of a pass (going on with ``progress``, or a new one), each saved as it comes; once more from the
    first page when the report's rows changed while it was read. Returns the pass read."""
    api = reader.api
    restarts = 0
    while True:
        if progress is None:
            progress = Pass(report.id, stamp, 0, page_size, -1)
            saved.begin_pass(stamp)
            result.first_rows.clear()
        elif progress.next_page:
            result.resumed_at = progress.next_page
            say(f"completion report: going on from page {progress.next_page + 1} of an interrupted pull")
        # who the store holds as the report last showed them: a page marks them seen (Moodle formats the first pages
        # meanwhile); again when the pass starts over
        before = saved.shown_before()
        dates = dict(progress.course_dates)
        restart = False
        rows_now = rows_expected(report, progress)
        # a page that comes before the one ahead of it is turned into rows meanwhile (its counts kept apart until
        # it is saved in its turn): the last page to come is then the only one left to turn
        early: dict[int, tuple[list[Seen], BulkResult]] = {}
        ready = _turn_early(early, api, report, known, dates, progress)
        while not restart:
            start = progress.next_page
            for page, answer in pages_in_order(reader, start, page_size, rows_now, ready):
                total = answer.data.totalrowcount
                if not report.shown_in(answer.data.headers):
                    raise ReportChanged(report.name)
                if progress.total not in (-1, total):
                    restart = True  # rows came or went since the pass began: pages may overlap or skip
                    break
                if page in early:
                    rows, counts = early.pop(page)
                    result.other_rows += counts.other_rows
                    result.looked_up += counts.looked_up
                else:
                    rows = _page_rows(api, answer.data.rows, report.positions, known, dates, result, progress.stamp)
                if report.dates_wanted:
                    _first_rows(answer.data.rows, report.positions.get("course:idnumber", -1), page * page_size,
                                known, result.first_rows)
                result.pages += 1
                result.rows += len(answer.data.rows)
                pages = max(1, -(-total // page_size))
                progress = Pass(report.id, progress.stamp, page + 1, page_size, total, dict(dates))
                saved.save_page(progress, rows, before)
                say(f"completion report: page {page + 1}/{pages} ({len(answer.data.rows)} rows)")
            if progress.next_page == start or progress.next_page * page_size >= progress.total:
                break
            rows_now = progress.total  # more rows than when the report was looked at: read on
        if restart and restarts < 1:
            restarts += 1
            say("completion report: its rows changed while it was read; reading it again from the first page")
            progress = None
            continue
        result.changed_while_read = restart
        return progress


def _turn_early(into: dict[int, tuple[list[Seen], BulkResult]], api: MoodleApi, report: CompletionReport,
                known: Known, dates: dict[str, tuple[int | None, int | None]], progress: Pass
                ) -> Callable[[int, RetrievedReport], None]:
    """What :func:`pages_in_order` gives a page that came early: its rows, and its counts apart (``into``), when its
    columns are where the pull found them and its rows as many as the pass has seen (else it is read in its turn,
    which stops or restarts the pass). A lookup Moodle does not answer leaves the page to its turn too, so that the
    pages before it are saved first."""

    def ready(page: int, answer: RetrievedReport) -> None:
        if report.shown_in(answer.data.headers) and progress.total in (-1, answer.data.totalrowcount):
            counts = BulkResult()
            try:
                rows = _page_rows(api, answer.data.rows, report.positions, known, dates, counts, progress.stamp)
            except MoodleSyncError:
                return  # asked again in its turn, where it stops the pull
            into[page] = (rows, counts)

    return ready


#: the columns a page is read by, in the order _page_rows unpacks them
_READ = ("course:idnumber", "user:username", "user:fullnamewithlink", "enrol:plugin", "enrolment:status",
         "enrolment:timestarted", "enrolment:timeended", "completion:timecompleted", "course:startdate",
         "course:enddate")

_Merged = tuple[int | None, int | None, int | None, str | None, int | None, bool]  # Seen's fields after userid


def _page_rows(api: MoodleApi, rows: list[ReportRow], positions: dict[str, int], known: Known,
               dates: dict[str, tuple[int | None, int | None]], result: BulkResult, stamp: str) -> list[Seen]:
    """One Seen per person and managed course on this page (a person enrolled by several methods has several rows:
    the completion is on each, the manual method's row gives the enrolment's dates and status, every row a start and
    whether it is active), with their state in the course as far as the page shows and since when someone new to the
    store is enrolled (the pass ``stamp``: see :func:`_since`); each managed course's dates the first time one of its
    rows shows them (into ``dates``)."""
    mine = _cells(rows, positions, known.courses)
    result.other_rows += len(rows) - len(mine)
    parsed: dict[str, int | None] = {}  # a page shows the same minute many times (enrolments made together)

    def shown(text: str) -> int | None:
        if text not in parsed:
            parsed[text] = parse_shown(text)
        return parsed[text]

    for cells in mine:
        if cells[0] not in dates:
            dates[cells[0]] = (shown(cells[8]), parse_shown_end(cells[9]))
    ids = [_linked(cells[2]) for cells in mine]
    unnamed = {name for cells, uid in zip(mine, ids, strict=True)
               if uid is None and (name := cells[1]) and name not in known.ids}
    if unnamed:  # the link names nobody (a customised column): one lookup for the page's new usernames
        found = {u.username: u.id for u in api.users_by_field("username", sorted(unnamed)) if u.username}
        known.ids.update(found)
        result.looked_up += len(found)
    out: dict[tuple[str, int], _Merged] = {}
    for cells, linked in zip(mine, ids, strict=True):
        userid = linked if linked is not None else known.ids.get(cells[1])
        if userid is None:
            continue  # a deleted user, a method without enrolments
        idnumber, _, _, plugin, state, started, ended, timecompleted, _, _ = cells
        # a time shows only for a completion (timecompleted > 0); 0: one whose time cannot be read
        completed = (shown(timecompleted) or 0) if timecompleted else None
        start = shown(started)
        status = STATUS.get(state)
        previous = out.get((idnumber, userid))
        earlier = previous[4] if previous is not None else None
        enrolled = earlier if start is None else start if earlier is None else min(start, earlier)
        active = status == "active" or (previous is not None and previous[5])
        if plugin != MANUAL:
            out[(idnumber, userid)] = ((previous[0], previous[1], previous[2], previous[3], enrolled, active)
                                       if previous is not None else (completed, None, None, None, enrolled, active))
            continue
        out[(idnumber, userid)] = (completed, start, parse_shown_end(ended), status, enrolled, active)
    listed = {idn: CourseEnrolments(everyone=set(), active=set(), managed=known.managed.get(idn, {}))
              for idn in {idn for idn, _ in out}}
    for (idnumber, userid), merged in out.items():
        if merged[5]:
            listed[idnumber].active.add(userid)
    # their state as far as this page shows: active when one of their methods shows Active here (a later page can
    # only make them active), judged against what the tool set for its own enrolments
    return [Seen(idnumber, userid, *merged,
                 roster="suspended" if is_suspended(listed[idnumber], userid, known.now) else "active",
                 since=_since(known, idnumber, userid, stamp))
            for (idnumber, userid), merged in out.items()]


def _cells(rows: list[ReportRow], positions: dict[str, int], courses: Container[str]) -> list[list[str]]:
    """The cells of each row of a managed course, in the order of :data:`_READ` (a column the report lacks, a null or
    a cell a short row lacks read as "")."""
    at = [positions.get(uid, -1) for uid in _READ]  # -1: the report lacks the column
    course_at, width = at[0], max(at) + 1
    if course_at < 0:
        return []
    present = [i for i in at if i >= 0]
    pick = itemgetter(*present)
    blanks = [n for n, i in enumerate(at) if i < 0]
    out: list[list[str]] = []
    for cols in rows:
        if len(cols) < width:  # a short row (never seen): cell by cell
            if course_at < len(cols) and (cols[course_at] or "") in courses:
                out.append([(cols[i] or "") if 0 <= i < len(cols) else "" for i in at])
            continue
        if cols[course_at] not in courses:
            continue
        cells = list(pick(cols)) if len(present) > 1 else [pick(cols)]
        for n in blanks:
            cells.insert(n, "")
        if None in cells:
            cells = [c or "" for c in cells]
        out.append(cells)
    return out


def _first_rows(rows: list[ReportRow], course_at: int, first: int, known: Known, into: dict[str, int]) -> None:
    """Where the first row of each managed course on this page is in the pass (the page's first row is ``first``)."""
    for place, cells in enumerate(rows, start=first):
        idnumber = cells[course_at] if 0 <= course_at < len(cells) else None
        if idnumber in known.courses and idnumber not in into:
            into[idnumber] = place


def _since(known: Known, idnumber: str, userid: int, stamp: str) -> str:
    """Since when a person new to the store is enrolled: when the tool enrolled them, else the pull's day (the
    report's earliest start replaces it once its dates are read)."""
    return min(known.enrolled_iso.get(idnumber, {}).get(userid, stamp), stamp)


def _linked(shown: str) -> int | None:
    """The user id in the profile link "Full name with link" shows; None when there is none."""
    m = PROFILE_ID.search(shown)
    return int(m.group(1)) if m else None


