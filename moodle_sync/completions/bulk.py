"""The bulk pull: every enrolment and completion of every managed course version, read from the completion report
(completions/report_setup.py) a page at a time with core_reportbuilder_retrieve_report.

Each pass reads all pages, so it sees every completion however it was made (a visit, a teacher, an override, cron)
and Moodle's own completion time. A page is saved as it comes with where the pass stands, so an interrupted pull
goes on from the next page (when the report still has the same number of rows; else it starts over). Dates are kept
only when they can be read with certainty (completions/report_dates.py); otherwise the people whose completion is
new are asked about one by one (core_completion_get_course_completion_status), and no enrolment date is kept.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from moodle_sync.completions.report_dates import Anchors, parse_userdate
from moodle_sync.completions.report_setup import CompletionReport
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import ReportRow
from moodle_sync.store.db import ManagedEnrolment, StateStore
from moodle_sync.store.report_pull import Pass, ReportPullStore, Seen

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
    #: (course idnumber, user id) whose completion is new and whose time must be asked for one by one
    ask: list[tuple[str, int]] | None = None
    new_completions: int = 0
    changed_while_read: bool = False


@dataclass(frozen=True)
class Known:
    """What the tool knows of the managed courses: who is enrolled (username → id) and what it sent."""

    usernames: dict[str, dict[str, int]]
    managed: dict[str, dict[int, ManagedEnrolment]]
    enrolled_at: dict[str, dict[int, int]]


def known_from(store: StateStore, usernames: dict[str, dict[str, int]]) -> Known:
    enrolled_at = {idn: {uid: int(datetime.datetime.fromisoformat(at).timestamp())
                         for uid, at in store.enrolled_at(idn).items()} for idn in usernames}
    return Known(usernames, {idn: store.managed_enrolments(idn) for idn in usernames}, enrolled_at)


def read_report(api: MoodleApi, store: StateStore, report: CompletionReport, known: Known, stamp: str, *,
                say: Callable[[str], None], page_size: int | None = None) -> BulkResult:
    """Read every page of the report into the store; return what the pass found (completions are kept by
    :func:`keep`, once the dates are known to be certain or not)."""
    page_size = page_size or PAGE_SIZE
    saved = ReportPullStore(store)
    result = BulkResult()
    progress = saved.open_pass()
    if progress is not None and (progress.reportid != report.id or progress.per_page != page_size):
        progress = None
    restarts = 0
    while True:
        if progress is None:
            progress = Pass(report.id, stamp, 0, page_size, -1, 0, 0)
        elif progress.next_page:
            result.resumed_at = progress.next_page
            say(f"completion report: going on from page {progress.next_page + 1} of an interrupted pull")
        anchors = Anchors(progress.anchors, progress.anchors_ok)
        page = progress.next_page
        restart = False
        while True:
            answer = api.retrieve_report(report.id, page, page_size)
            total = answer.data.totalrowcount
            if progress.total not in (-1, total):
                restart = True  # rows came or went since the pass began: pages may overlap or skip
                break
            rows = _page_rows(answer.data.rows, report.positions, known, anchors)
            result.pages += 1
            result.rows += len(answer.data.rows)
            pages = max(1, -(-total // page_size))
            progress = Pass(report.id, progress.stamp, page + 1, page_size, total, anchors.seen, anchors.agree)
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
    result.anchors, result.anchors_agree = anchors.seen, anchors.agree
    result.dates_certain = anchors.certain and not restart
    stamp_read = progress.stamp
    saved.close_pass()
    new = saved.newly_completed(stamp_read)
    if result.dates_certain:
        result.new_completions = saved.keep_completions([(i, u, at) for i, u, at in new if at], "report", stamp_read)
        result.ask = [(i, u) for i, u, at in new if not at]  # "Yes" without a readable time
    else:
        result.ask = [(i, u) for i, u, _ in new]
        saved.forget_dates(stamp_read)
    return result


def _page_rows(rows: list[ReportRow], positions: dict[str, int], known: Known, anchors: Anchors) -> list[Seen]:
    """One Seen per person and managed course on this page (a person enrolled by several methods has several rows:
    the completion is on each, the manual method's row gives the enrolment's dates and status)."""
    at = {uid: positions[uid] for uid in positions}
    out: dict[tuple[str, int], Seen] = {}
    for row in rows:
        cols = row.columns

        def col(uid: str, cols: list[str | None] = cols) -> str:
            return cols[at[uid]] or "" if at[uid] < len(cols) else ""

        idnumber = col("course:idnumber")
        users = known.usernames.get(idnumber)
        userid = users.get(col("user:username")) if users else None
        if userid is None:
            continue  # not a managed course, a deleted user, a method without enrolments, someone new since
        done = col("completion:completed") == "Yes"
        completed = (parse_userdate(col("completion:timecompleted")) or 0) if done else None
        previous = out.get((idnumber, userid))
        if col("enrol:plugin") != MANUAL:
            if previous is None:
                out[(idnumber, userid)] = Seen(idnumber, userid, completed, None, None, None)
            continue
        start = parse_userdate(col("enrolment:timestarted"))
        ended = col("enrolment:timeended")
        end = 0 if ended == "" else parse_userdate(ended)
        status = STATUS.get(col("enrolment:status"))
        sent = known.managed.get(idnumber, {}).get(userid)
        if sent is not None:
            if sent.timestart:
                anchors.exact(start, sent.timestart)
            elif userid in known.enrolled_at.get(idnumber, {}):
                anchors.created(start, known.enrolled_at[idnumber][userid])
            if sent.timeend:
                anchors.exact(end, sent.timeend)
        out[(idnumber, userid)] = Seen(idnumber, userid, completed, start, end, status)
    return list(out.values())
