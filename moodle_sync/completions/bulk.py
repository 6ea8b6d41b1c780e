"""The bulk pull: every enrolment and completion of every managed course version, read from the completion report
(completions/report_setup.py) a page at a time with core_reportbuilder_retrieve_report.

Each pass reads all pages, so it sees every completion however it was made (a visit, a teacher, an override, cron,
a migration) and Moodle's own completion time. A page is saved as it comes with where the pass stands, so an
interrupted pull goes on from the next page (when the report still has the same number of rows; else it starts
over). Pages hold dates as the report shows them; once every page is read, the timezone they are shown in is found
from times Moodle also gives as numbers (completions/report_dates.py), on any site, whoever made its enrolments.
Dates are kept only where that is certain: Moodle's completion time replaces a day a pull first saw a completion,
and the earliest enrolment start replaces the day a pull first saw someone the tool did not enrol. A new completion
whose time is not certain is asked about one by one (core_completion_get_course_completion_status).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from moodle_sync.completions.report_dates import CREATED_SLACK, Anchor, Calibration, calibrate, parse_shown
from moodle_sync.completions.report_setup import CompletionReport
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import ReportRow
from moodle_sync.store.db import ManagedEnrolment, StateStore
from moodle_sync.store.report_pull import Pass, Read, ReportPullStore, Seen, Shown

#: rows per retrieve_report call: a 2-core site answered 5 000 rows in 0.6 s
PAGE_SIZE = 5000

MANUAL = "Manual enrolments"  # enrol_manual pluginname (enrol/manual/lang/en/enrol_manual.php)
STATUS = {"Active": "active", "Suspended": "suspended", "Not current": "not current"}  # lang/en/enrol.php


@dataclass
class BulkResult:
    pages: int = 0
    rows: int = 0
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


@dataclass(frozen=True)
class Known:
    """What the tool knows of the managed courses: who is enrolled (username → id), what it sent, and each course
    version's start and end date as core_course_get_courses_by_field gives them (0: none)."""

    usernames: dict[str, dict[str, int]]
    managed: dict[str, dict[int, ManagedEnrolment]]
    enrolled_at: dict[str, dict[int, int]]
    courses: dict[str, tuple[int, int]] = field(default_factory=dict)


def _unix(iso: str) -> int:
    moment = datetime.datetime.fromisoformat(iso)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)).timestamp())


def known_from(store: StateStore, usernames: dict[str, dict[str, int]],
               courses: dict[str, tuple[int, int]] | None = None) -> Known:
    enrolled_at = {idn: {uid: _unix(at) for uid, at in store.enrolled_at(idn).items()} for idn in usernames}
    return Known(usernames, {idn: store.managed_enrolments(idn) for idn in usernames}, enrolled_at, courses or {})


def read_report(api: MoodleApi, store: StateStore, report: CompletionReport, known: Known, stamp: str, *,
                say: Callable[[str], None], page_size: int | None = None) -> BulkResult:
    """Read every page of the report into the store, then its dates where they are certain; return what the pass
    found (``ask``: the new completions whose time must be asked for)."""
    page_size = page_size or PAGE_SIZE
    saved = ReportPullStore(store)
    result = BulkResult()
    progress = saved.open_pass()
    if progress is not None and (progress.reportid != report.id or progress.per_page != page_size):
        progress = None
    restarts = 0
    while True:
        if progress is None:
            progress = Pass(report.id, stamp, 0, page_size, -1)
        elif progress.next_page:
            result.resumed_at = progress.next_page
            say(f"completion report: going on from page {progress.next_page + 1} of an interrupted pull")
        dates = dict(progress.course_dates)
        page = progress.next_page
        restart = False
        while True:
            answer = api.retrieve_report(report.id, page, page_size)
            total = answer.data.totalrowcount
            if progress.total not in (-1, total):
                restart = True  # rows came or went since the pass began: pages may overlap or skip
                break
            rows = _page_rows(answer.data.rows, report.positions, known, dates)
            result.pages += 1
            result.rows += len(answer.data.rows)
            pages = max(1, -(-total // page_size))
            progress = Pass(report.id, progress.stamp, page + 1, page_size, total, dict(dates))
            saved.save_page(progress, rows)
            say(f"completion report: page {page + 1}/{pages} ({len(answer.data.rows)} rows)")
            page += 1
            if page * page_size >= total or not answer.data.rows:
                break
        if restart and restarts < 1:
            restarts += 1
            say("completion report: its rows changed while it was read; reading it again from the first page")
            progress = None
            continue
        result.changed_while_read = restart
        break
    _read_dates(saved, known, progress, result)
    saved.close_pass()
    return result


def _read_dates(saved: ReportPullStore, known: Known, progress: Pass, result: BulkResult) -> None:
    """Find the timezone of the pass's dates, store what they read as, and keep Moodle's completion times."""
    shown = saved.shown(progress.stamp)
    clock = calibrate(_course_anchors(progress, known), _enrolment_anchors(shown, known))
    if result.changed_while_read:
        clock = Calibration([], clock.anchors, clock.agree)  # two passes' pages: no date is certain
    result.dates_certain, result.anchors, result.anchors_agree = clock.certain, clock.anchors, clock.agree
    result.timezone, result.forced = (clock.zone_names() if clock.certain else ""), clock.forced
    reads: list[Read] = []
    earlier: list[tuple[str, int, str]] = []
    for s in shown:
        completed = s.completed and (clock.unix(s.completed) or 0)  # None: not completed; 0: its time unknown
        result.unsettled += bool(clock.certain and s.completed and not completed)
        reads.append(Read(s.course_idnumber, s.userid, completed, clock.unix(s.start),
                          0 if s.end == 0 else clock.unix(s.end)))
        enrolled = clock.unix(s.enrolled)
        if (enrolled is not None and s.userid not in known.enrolled_at.get(s.course_idnumber, {})
                and enrolled < _unix(s.enrolled_since)):
            iso = datetime.datetime.fromtimestamp(enrolled, datetime.UTC).isoformat(timespec="seconds")
            earlier.append((s.course_idnumber, s.userid, iso))
    saved.save_read(reads, earlier)
    result.enrolled_since = len(earlier)
    better = [(s, r.completed_at) for s, r in zip(shown, reads, strict=True) if r.completed_at is not None
              and (s.completed_at is None or s.completed_source == "first_seen")]
    kept = [(s.course_idnumber, s.userid, at) for s, at in better if at]
    saved.keep_completions(kept, "report", progress.stamp)
    result.new_completions = sum(1 for s, at in better if at and s.completed_at is None)
    result.upgraded = len(kept) - result.new_completions
    result.ask = [(s.course_idnumber, s.userid) for s, at in better if not at and s.completed_at is None]


def _course_anchors(progress: Pass, known: Known) -> list[Anchor]:
    """Each managed course's start and end date as the report showed them, against Moodle's numbers."""
    out: list[Anchor] = []
    for idnumber, (start, end) in sorted(progress.course_dates.items()):
        numbers = known.courses.get(idnumber)
        if numbers is None:
            continue
        out += [Anchor(shown, number) for shown, number in zip((start, end), numbers, strict=True) if number]
    return out


def _enrolment_anchors(shown: list[Shown], known: Known) -> list[Anchor]:
    """The manual enrolments the tool made: the start and end it sent, or when it made one without a start."""
    out: list[Anchor] = []
    for s in shown:
        sent = known.managed.get(s.course_idnumber, {}).get(s.userid)
        if sent is None or s.status is None:
            continue  # not the tool's, or no manual enrolment shown
        made = known.enrolled_at.get(s.course_idnumber, {}).get(s.userid)
        if sent.timestart:
            out.append(Anchor(s.start, sent.timestart))
        elif made is not None:
            out.append(Anchor(s.start, made, CREATED_SLACK))
        if sent.timeend:
            out.append(Anchor(s.end, sent.timeend))
    return out


def _page_rows(rows: list[ReportRow], positions: dict[str, int], known: Known,
               dates: dict[str, tuple[int | None, int | None]]) -> list[Seen]:
    """One Seen per person and managed course on this page (a person enrolled by several methods has several rows:
    the completion is on each, the manual method's row gives the enrolment's dates and status, every row a start);
    each managed course's dates the first time one of its rows shows them (into ``dates``)."""
    at = {uid: positions[uid] for uid in positions}
    out: dict[tuple[str, int], Seen] = {}
    for row in rows:
        cols = row.columns

        def col(uid: str, cols: list[str | None] = cols) -> str:
            return cols[at[uid]] or "" if at[uid] < len(cols) else ""

        idnumber = col("course:idnumber")
        if idnumber in known.courses and idnumber not in dates:
            dates[idnumber] = (parse_shown(col("course:startdate")), _end(col("course:enddate")))
        users = known.usernames.get(idnumber)
        userid = users.get(col("user:username")) if users else None
        if userid is None:
            continue  # not a managed course, a deleted user, a method without enrolments, someone new since
        done = col("completion:completed") == "Yes"
        completed = (parse_shown(col("completion:timecompleted")) or 0) if done else None
        start = parse_shown(col("enrolment:timestarted"))
        previous = out.get((idnumber, userid))
        enrolled = min((t for t in (start, previous.enrolled if previous else None) if t is not None), default=None)
        if col("enrol:plugin") != MANUAL:
            out[(idnumber, userid)] = (dataclasses.replace(previous, enrolled=enrolled) if previous is not None
                                       else Seen(idnumber, userid, completed, None, None, None, enrolled))
            continue
        status = STATUS.get(col("enrolment:status"))
        out[(idnumber, userid)] = Seen(idnumber, userid, completed, start, _end(col("enrolment:timeended")), status,
                                       enrolled)
    return list(out.values())


def _end(shown: str) -> int | None:
    """An end date as shown: 0 when none is set (empty), None when unreadable."""
    return 0 if shown == "" else parse_shown(shown)
