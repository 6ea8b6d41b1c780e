"""The course dates a pull reads, after its pass, to find the timezone of the completion report's dates.

Each managed course's start and end date, as the report shows them beside what core_course_get_courses_by_field
answers as numbers, tell the timezone the report's dates are shown in (completions/report_dates.py) while the store
holds too few completions and enrolments read with certainty (report_setup.ENOUGH_ANCHORS): on a first pull, or
after the store was lost. The dates are the same on every row of a course, so instead of a column formatted on
every row of the pass (a third of Moodle's time for the report), the pull adds the two columns once the pass is
read and reads the first row of each course (its place in the pass is known, since the report is sorted by course).
The next pull deletes the columns the tool added once the store's anchors find the timezone alone (report_setup
``drop_date_columns``; never an admin's), and reads them in its pass until then. A row that is not the course's any
more (enrolments came or went since the pass) gives no dates.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from moodle_sync.completions.report_dates import parse_shown, parse_shown_end
from moodle_sync.completions.report_setup import (
    COLUMNS,
    DATE_COLUMNS,
    CompletionReport,
    add_column,
    added_id,
    positions,
)
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import ColumnSorting
from moodle_sync.store.report_pull import ReportPullStore

log = logging.getLogger(__name__)


def read_course_dates(api: MoodleApi, saved: ReportPullStore, report: CompletionReport, first_rows: dict[str, int],
                      workers: int) -> dict[str, tuple[int | None, int | None]]:
    """Course idnumber → its start and end date as the report shows them (wall-clock minutes, end 0: none), read
    from the row ``first_rows`` gives for it (its place in the report, 0-based), ``workers`` rows at a time; empty
    when the columns could not be added."""
    columns, sorted_ = saved.report_columns(report.id)
    shown = [uid for uid in DATE_COLUMNS if uid in report.positions]
    for uid in DATE_COLUMNS:
        if uid in shown:
            continue
        added = add_column(api, report.id, uid)
        if added is None:
            log.info(f"completion report: Moodle's answer to adding the column {COLUMNS[uid]!r} was lost and it "
                     f"does not show; the course dates are read by the next pull")
            return {}
        if isinstance(added, ColumnSorting) and added.sortablecolumns:
            columns[uid] = added_id(added)
        saved.set_report_columns(report.id, columns, sorted_)  # the tool's: the next pull deletes it when done
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="course-date") as pool:
        answers = {idn: pool.submit(api.retrieve_report, report.id, row, 1) for idn, row in first_rows.items()}
        rows = {idn: future.result().data for idn, future in answers.items()}
    dates: dict[str, tuple[int | None, int | None]] = {}
    for idnumber, data in sorted(rows.items()):
        found, _missing, _twice = positions(data.headers)
        cells = data.rows[0] if data.rows else []
        at = [found.get(uid, -1) for uid in ("course:idnumber", *DATE_COLUMNS)]
        course, start, end = ((cells[i] or "") if 0 <= i < len(cells) else "" for i in at)
        if course == idnumber and at[1] >= 0:
            dates[idnumber] = (parse_shown(start), parse_shown_end(end))
    log.info(f"completion report: read the start and end date of {len(dates)} of {len(first_rows)} course(s) from "
             f"one row each, to find the timezone of its dates")
    return dates
