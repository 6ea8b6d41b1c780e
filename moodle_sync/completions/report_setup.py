"""The completion report: one custom report an admin creates once in Moodle's UI, shaped by the tool.

No web service creates a custom report (lib/db/services.php has none; the UI's form needs a browser session), so
an admin makes one from the source "Course participants" without default setup and names it as the setting
``completion_report`` says (default ``moodle-sync``). The tool finds it by name (core_reportbuilder_list_reports),
adds each column it reads that the report lacks (core_reportbuilder_columns_add) and sorts the rows by course,
enrolment method and username (core_reportbuilder_columns_sort_toggle), so that pages do not overlap. Any other
column, condition or sort an admin added is left alone. Columns are found by their English titles (the tool asks
for every page in English): Moodle 4.3's lang/en strings of the entities in course/classes/reportbuilder/
datasource/participants.php.

The course start and end dates (:data:`DATE_COLUMNS`) are read only to find the timezone the report's dates are
shown in (completions/report_dates.py), and Moodle spends about a third of the report's time formatting them on
every row. While the store holds fewer than :data:`ENOUGH_ANCHORS` completions and enrolments the last pull read as
Moodle holds them (their times are known: store/report_pull.py ``anchors``), a pull that does not show them reads
them after its pass, from one row of each course (completions/course_dates.py), and the next pull reads them in its
pass; once the anchors find the timezone alone, a pull deletes the date columns the tool added
(core_reportbuilder_columns_delete; never a column an admin added, which is simply read). A column earlier versions
added and the pull no longer reads (:data:`RETIRED`) is deleted the same way.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from moodle_sync.errors import AuthError, MoodleApiError, MoodleSyncError, PermissionDenied
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import ColumnSorting, ReportDetails
from moodle_sync.store.db import StateStore
from moodle_sync.store.report_pull import ReportPullStore
from moodle_sync.writing.send import send_bisecting
from moodle_sync.writing.settle import settle

PARTICIPANTS = "core_course\\reportbuilder\\datasource\\participants"

#: the columns the pull reads: uniqueidentifier → title (lang/en/moodle.php, enrol.php, completion.php)
COLUMNS: dict[str, str] = {
    "course:idnumber": "Course ID number",
    "user:username": "Username",
    "enrol:plugin": "Plugin",
    "enrolment:status": "Status",
    "enrolment:timestarted": "Time started",
    "enrolment:timeended": "Time ended",
    "completion:timecompleted": "Time completed",
    # times Moodle also gives as numbers (core_course_get_courses_by_field): the report's timezone is found from them
    "course:startdate": "Course start date",
    "course:enddate": "Course end date",
    # who the row is: the link to the person's profile carries their user id (lang/en/reportbuilder.php), so the pull
    # needs neither core_enrol_get_enrolled_users nor a lookup by username
    "user:fullnamewithlink": "Full name with link",
}

#: the columns read only as anchors of the report's timezone, needed while the store holds too few of its own
DATE_COLUMNS = ("course:startdate", "course:enddate")

#: columns earlier versions of the tool added and no longer read (uniqueidentifier → title): "Completed" tells no more
#: than whether "Time completed" shows a time (course/classes/reportbuilder/local/entities/completion.php: it is
#: ``timecompleted > 0``), and Moodle formatted it on every row. A pull deletes one whose id the store kept when the
#: tool added it; one an admin added is left alone (and not read)
RETIRED: dict[str, str] = {"completion:completed": "Completed"}

#: the title of each column the tool adds or added
TITLES = {**COLUMNS, **RETIRED}

#: anchors (completions and the tool's enrolments the last pull read as Moodle holds them) enough to find the report's
#: timezone without the course dates: at report_dates.AGREE (0.9), ten still agree when one completion was redone
ENOUGH_ANCHORS = 10

DELETE = "core_reportbuilder_columns_delete"

log = logging.getLogger(__name__)

#: the one deterministic order: course, enrolment method, person (one row per course × method × person)
SORT_BY = ("course:idnumber", "enrol:plugin", "user:username")


def clicks(name: str) -> str:
    """What an admin does in Moodle's UI, once, for the bulk pull."""
    return (f"as a site administrator: Site administration > Reports > Report builder > Custom reports > "
            f"New report; Name: {name}; Report source: Course participants; untick \"Include default setup\"; "
            f"Save. moodle-sync adds the columns it needs itself; do not add conditions that leave out courses "
            f"or people it manages. On a site with other courses, the condition Course category > Select category: "
            f"the programme's top category, Include subcategories, leaves their rows out (Moodle formats every row "
            f"on each pull)")


@dataclass
class CompletionReport:
    """The report found and ready: its id and where each column the pull reads is among its columns."""

    id: int
    name: str
    positions: dict[str, int]
    sorted: bool
    added: list[str] = field(default_factory=list)
    #: how many rows the report had when it was looked at (-1: not known), so its pages can be asked for at once
    rows: int = -1
    #: the store holds too few anchors to find the timezone of the report's dates: after the pass, each course's
    #: dates are read from one row (completions/course_dates.py) unless the report shows them
    dates_wanted: bool = False

    def shown_in(self, headers: list[str]) -> bool:
        """Whether a page with these headers has each column the pull reads where it was found (a column added at
        the end moves none)."""
        return all(i < len(headers) and headers[i] == COLUMNS[uid] for uid, i in self.positions.items())


class ReportChanged(MoodleSyncError):
    """The report's columns moved while a pull read its pages (an admin edited it)."""

    def __init__(self, name: str) -> None:
        self.hint = "run the pull again: it looks at the report's columns first"
        super().__init__(f"the columns of the completion report {name!r} changed while the pull read its pages; "
                         "nothing of the page that showed it was kept")


@dataclass
class ReportProblem:
    """Why the bulk pull cannot be used now, and what to do about it."""

    reason: str
    hint: str = ""

    def text(self) -> str:
        return self.reason + (f"; {self.hint}" if self.hint else "")


def find_report(api: MoodleApi, name: str) -> ReportDetails | ReportProblem:
    """The one custom report called ``name`` (the token's user must see it)."""
    missing = [f for f in MoodleApi.REPORT_FUNCTIONS if not api.has_function(f)]
    if missing:
        return ReportProblem(f"the token's service lacks {', '.join(missing)} (Moodle 4.1 or later has them)",
                             "add them under Site administration > Server > Web services > External services")
    try:
        found = [r for r in api.list_reports() if r.name == name]
    except MoodleApiError as e:
        return ReportProblem(f"Moodle refused to list custom reports ({e.errorcode}: {e.message})",
                             "custom reports must be on (Site administration > Advanced features) and the web-service "
                             "user needs moodle/reportbuilder:editall")
    if not found:
        return ReportProblem(f"there is no custom report named {name!r}", clicks(name))
    if len(found) > 1:
        return ReportProblem(f"{len(found)} custom reports are named {name!r} (ids "
                             f"{', '.join(str(r.id) for r in found)})", "rename all but one")
    report = found[0]
    if report.source != PARTICIPANTS:
        return ReportProblem(f"the custom report {name!r} (id {report.id}) has the source "
                             f"{report.sourcename or report.source!r}, not Course participants",
                             "rename it and create a new one: " + clicks(name))
    return report


def positions(headers: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Where each column the pull reads is; the ones missing; the titles that appear more than once."""
    counts = Counter(headers)
    found = {uid: headers.index(title) for uid, title in COLUMNS.items() if counts[title] == 1}
    missing = [uid for uid, title in COLUMNS.items() if counts[title] == 0]
    twice = sorted({title for uid, title in COLUMNS.items() if counts[title] > 1})
    return found, missing, twice


def prepare_report(api: MoodleApi, store: StateStore | None, name: str, *, shape: bool = True
                   ) -> CompletionReport | ReportProblem:
    """Find the completion report; with ``shape``, add the columns it lacks and set the sort (doctor only looks).

    A column an admin renamed is not found by its title, so the tool adds it again (the renamed one is left alone).
    """
    report = find_report(api, name)
    if isinstance(report, ReportProblem):
        return report
    first = api.retrieve_report(report.id, 0, 1).data
    headers, rows = first.headers, first.totalrowcount
    found, missing, twice = positions(headers)
    if twice:
        return ReportProblem(f"the custom report {name!r} has more than one column titled "
                             f"{', '.join(repr(t) for t in twice)}, so the pull cannot tell them apart",
                             "delete the extra one in the report builder, or give it another title")
    saved = ReportPullStore(store) if store is not None else None
    columns, sorted_ = saved.report_columns(report.id) if saved is not None else ({}, False)
    dates = dates_needed(saved, report.id, shown=[uid for uid in DATE_COLUMNS if uid in found])
    missing = [uid for uid in missing if uid not in DATE_COLUMNS]  # read after the pass (course_dates.py)
    wanted = dates and not all(uid in found for uid in DATE_COLUMNS)
    if not shape:
        return CompletionReport(report.id, report.name, found, sorted_, added=missing, rows=rows, dates_wanted=wanted)
    sorting: ColumnSorting | None = None
    for uid in missing:
        added = add_column(api, report.id, uid)
        if added is None:
            return ReportProblem(f"Moodle's answer to adding the column {COLUMNS[uid]!r} to the custom report "
                                 f"{name!r} was lost, and the column does not show (yet)",
                                 "run the pull again: it looks at the report before adding anything")
        if isinstance(added, ColumnSorting):
            sorting = added
            columns[uid] = added_id(sorting)
        # else: the column shows after a lost answer, its id unknown: the sort stays unset (see add_column)
        if saved is not None:
            saved.set_report_columns(report.id, columns, sorted_)  # an added column is never added twice
    if missing:
        first = api.retrieve_report(report.id, 0, 1).data
        (found, still, _), rows = positions(first.headers), first.totalrowcount
        still = [uid for uid in still if uid not in DATE_COLUMNS]
        if still:
            return ReportProblem(f"the custom report {name!r} does not show the column(s) "
                                 f"{', '.join(COLUMNS[u] for u in still)} after moodle-sync added them",
                                 "look at the report in Moodle's report builder")
    if not dates and any(uid in found and uid in columns for uid in DATE_COLUMNS):
        assert saved is not None  # without a store the dates are always needed
        found = drop_columns(api, saved, report.id, columns, sorted_, found, DATE_COLUMNS,
                             "the course date columns it added, which it no longer needs")
    if saved is not None and any(uid in columns for uid in RETIRED):
        found = drop_columns(api, saved, report.id, columns, sorted_, found, tuple(RETIRED),
                             "the columns an earlier version added, which it no longer reads")
    if sort_to_set(columns, sorted_):
        enabled = {c.id: c.sortenabled for c in sorting.sortablecolumns} if sorting else {}
        for uid in SORT_BY:
            if not enabled.get(columns[uid], False) and not sort_column(api, report.id, columns[uid]):
                return CompletionReport(report.id, report.name, found, False, added=missing, rows=rows,
                                        dates_wanted=wanted)
        sorted_ = True
        if saved is not None:
            saved.set_report_columns(report.id, columns, sorted_)
    return CompletionReport(report.id, report.name, found, sorted_, added=missing, rows=rows, dates_wanted=wanted)


def sort_to_set(columns: dict[str, int], sorted_: bool) -> bool:
    """Whether a pull sets the report's sort: the tool added every column it sorts by (``columns``: their ids) and
    has not set it yet."""
    return not sorted_ and all(uid in columns for uid in SORT_BY)


def left_as_it_is(saved: ReportPullStore, report_id: int) -> bool:
    """Whether, as far as the store tells, a pull leaves the report as it is: no sort to set, no column of the tool's
    to delete (course dates once not needed, :data:`RETIRED`), no course dates to read (enough anchors); a pass
    going on is not asked about here."""
    columns, sorted_ = saved.report_columns(report_id)
    return (not sort_to_set(columns, sorted_) and not any(uid in columns for uid in (*DATE_COLUMNS, *RETIRED))
            and saved.anchors() >= ENOUGH_ANCHORS)


def dates_needed(saved: ReportPullStore | None, report_id: int, *, shown: list[str]) -> bool:
    """Whether this pull reads the course dates: without a store, or with fewer than :data:`ENOUGH_ANCHORS` anchors
    in it; a pass in progress keeps the report as it is (``shown``: the date columns it shows)."""
    if saved is None:
        return True
    progress = saved.open_pass()
    if progress is not None and progress.reportid == report_id:
        return bool(shown)
    anchors = saved.anchors()
    if anchors < ENOUGH_ANCHORS:
        log.info(f"completion report: the course dates are read ({anchors} completions and enrolments the last pull "
                 f"read with certainty, fewer than {ENOUGH_ANCHORS}, cannot alone tell the timezone of its dates)")
        return True
    return False


def drop_columns(api: MoodleApi, saved: ReportPullStore, report_id: int, columns: dict[str, int], sorted_: bool,
                 found: dict[str, int], uids: tuple[str, ...], what: str) -> dict[str, int]:
    """Delete the columns ``uids`` the tool added (their ids in ``columns``; :func:`delete_column`): the course date
    columns once the store's anchors find the timezone, the :data:`RETIRED` ones; where the columns read are then.
    ``what``: the columns, for the log when the service cannot delete them."""
    if not api.has_function(DELETE):
        log.info(f"completion report: keeps {what}: the token's service lacks {DELETE} (add it under Site "
                 f"administration > Server > Web services > External services; `moodle-sync doctor` lists it)")
        return found
    changed = False
    for uid in uids:
        if uid not in columns or (uid in COLUMNS and uid not in found):
            continue  # not the tool's (an admin's column is left as it is), or a date column not shown
        deleted = delete_column(api, report_id, uid, columns[uid])
        if deleted is None:
            continue  # the answer was lost and the column still shows: the next pull deletes it
        if deleted:
            log.info(f"completion report: deleted the column {TITLES[uid]!r}, one of {what}")
            changed = True
        del columns[uid]
        saved.set_report_columns(report_id, columns, sorted_)
    if changed:  # the columns after a deleted one moved up
        found, _missing, _twice = positions(api.retrieve_report(report_id, 0, 1).data.headers)
    return found


def delete_column(api: MoodleApi, report_id: int, uid: str, column_id: int) -> bool | None:
    """Delete one column the tool added: True when deleted, False when Moodle refused it ('Invalid column': the id
    names no column of the report any more; the one shown is someone else's), None when the answer was lost and it
    still shows. Deleting is not idempotent (a second call is refused), so a lost answer is settled by reading the
    report's headers, never by sending again."""
    answered: list[bool] = []

    def gone() -> dict[str, bool]:
        return {} if TITLES[uid] in api.retrieve_report(report_id, 0, 1).data.headers else {uid: True}

    try:
        send_bisecting([uid], lambda _one: api.delete_report_column(report_id, column_id),
                       on_sent=lambda _one, _answer: answered.append(True), on_refused=_never_refused,
                       on_unknown=lambda _one, _e: None, catch=())
    except (AuthError, PermissionDenied):
        raise
    except MoodleApiError as e:
        log.info(f"completion report: Moodle refused to delete the column {TITLES[uid]!r} by the id the tool kept "
                 f"({e.errorcode}: {e.message}); the one shown is left as someone else's")
        return False
    return True if answered or settle(1, gone, what="report columns") else None


def added_id(answer: ColumnSorting) -> int:
    """The id of the column columns_add just added: the highest of the report's sortable columns (0: none)."""
    return max((c.id for c in answer.sortablecolumns), default=0)


def add_column(api: MoodleApi, report_id: int, uid: str) -> ColumnSorting | bool | None:
    """Add one column at the end of the report through the one batch sender.

    Adding is not idempotent (a second call adds a second column), so a lost answer is settled by reading the
    report's headers, never by sending again: True when the column shows then (its id unknown, so the report's
    sort is left unset), None when it does not. Moodle's refusals propagate to the caller, as before.
    """
    answers: list[ColumnSorting] = []

    def shows() -> dict[str, bool]:
        found, _missing, _twice = positions(api.retrieve_report(report_id, 0, 1).data.headers)
        return {uid: True} if uid in found else {}

    send_bisecting([uid], lambda _one: api.add_report_column(report_id, uid),
                   on_sent=lambda _one, answer: answers.append(answer), on_refused=_never_refused,
                   on_unknown=lambda _one, _e: None, catch=())
    if answers:
        return answers[0]
    return True if settle(1, shows, what="report columns") else None


def sort_column(api: MoodleApi, report_id: int, column_id: int) -> bool:
    """Turn on the initial sort by one column; False when the answer was lost (the next pull sets it again:
    turning a sort on twice leaves it on)."""
    answered: list[bool] = []
    send_bisecting([column_id], lambda _one: api.sort_report_column(report_id, column_id, enabled=True),
                   on_sent=lambda _one, _answer: answered.append(True), on_refused=_never_refused,
                   on_unknown=lambda _one, _e: None, catch=())
    return bool(answered)


def _never_refused(_batch: object, error: BaseException) -> None:  # catch=() counts no error as a refusal
    raise error
