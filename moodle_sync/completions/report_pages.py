"""The completion report's pages: how a pass through it is cut into pages and asked for, ``workers`` at a time.

A pass reads the whole report once, in the fewest pages the lab site answered fastest (PAGE_SIZE), pages of equal
size so that no small page is read alone at the end. The report's pages are the longest wait of a pull (Moodle
formats every date of every row), so the first of them are asked for (read_ahead) before the pull reads the site's
courses and cohorts, which Moodle answers meanwhile, and on a routine pull (read_early) even before it looks at the
report, in pages of the last finished pass's row count. An interrupted pass goes on in its own page size
(pass_start). completions/bulk.py reads the pages' rows into the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from moodle_sync.completions import report_setup
from moodle_sync.completions.report_setup import CompletionReport
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import RetrievedReport
from moodle_sync.store.db import StateStore
from moodle_sync.store.report_pull import Pass, ReportPullStore

#: the most rows per retrieve_report call. On the 2-core lab site (41 319 rows, the report's 11 columns) PHP spent
#: 28.1 s answering the report in pages of 5 000, 26.6 s in 10 000, 24.5 s in 20 000 and 25.0 s in one page: the
#: time goes into formatting rows (dates above all: per 2 000 rows course:startdate 0.30 s, enrolment:timestarted
#: 0.29 s, completion:timecompleted 0.11 s, of 0.91 s in all), each page adds about 0.4 s. With pages of 20 000 the
#: two pages took ~11 s each side by side and a third of 1 319 rows ~1 s alone at the end, so a pass is cut into
#: pages of equal size, as many as a multiple of the workers, none larger than this: 41 319 rows are 2 pages of
#: 20 660 (one page of all 41 319 was answered fine, so 25 000 is within what PHP handles; benchmarks/README.md,
#: issue 25)
PAGE_SIZE = 25000

#: a report smaller than this is read in one page (two pages of a few rows each cost more than one)
SPLIT_FROM = 2000

#: pages asked for at a time: the lab's PHP server has 4 workers on 2 cores
PAGE_WORKERS = 2


def page_size_for(rows: int, workers: int) -> int:
    """Rows per page for a report of ``rows`` rows (-1: unknown) read ``workers`` pages at a time: as many pages of
    equal size as a multiple of the workers, none larger than :data:`PAGE_SIZE`, so that no small page is read alone
    at the end; a report smaller than :data:`SPLIT_FROM` in as few pages as :data:`PAGE_SIZE` allows."""
    if rows <= 0:
        return PAGE_SIZE
    pages = -(-rows // PAGE_SIZE)
    if rows >= SPLIT_FROM:
        pages = -(-pages // max(1, workers)) * max(1, workers)
    return -(-rows // pages)


@dataclass(frozen=True)
class PassStart:
    """Where the next pass through the report begins: ``progress``, an interrupted pass that goes on in its own page
    size (None: a new pass from the first page, in pages of :func:`page_size_for`), and how many rows to expect."""

    progress: Pass | None
    page_size: int
    rows: int

    def first_pages(self, workers: int) -> list[int]:
        """The pages the pass asks for first (what :func:`pages_in_order` asks for before any answer comes)."""
        first = self.progress.next_page if self.progress is not None else 0
        if self.rows < 0:
            return [first]  # read alone, to learn how many rows there are
        return list(_page_numbers(first, self.page_size, self.rows)[:max(1, workers)])


def pass_start(saved: ReportPullStore, report: CompletionReport, workers: int, page_size: int | None = None
               ) -> PassStart:
    """Where a pass through ``report`` read ``workers`` pages at a time begins (``page_size``: rows per page instead
    of the computed ones)."""
    progress = saved.open_pass()
    if progress is not None and progress.reportid != report.id:
        progress = None
    # an interrupted pass goes on in its own page size; a new one in pages of equal size (page_size_for)
    page_size = page_size or (min(PAGE_SIZE, progress.per_page) if progress is not None
                              else page_size_for(report.rows, workers))
    if progress is not None and progress.per_page != page_size:
        progress = None
    return PassStart(progress, page_size, rows_expected(report, progress))


def rows_expected(report: CompletionReport, progress: Pass | None) -> int:
    """How many rows the pass expects: as many as its pages saw so far, or as the report had when looked at."""
    if progress is None or (progress.next_page == 0 and progress.total == -1):
        return report.rows
    return progress.total


def _page_numbers(first: int, page_size: int, rows: int) -> range:
    """The pages from ``first`` to the last of ``rows`` rows (``first`` at least)."""
    return range(first, max(first + 1, -(-rows // page_size)))


class ReportPages:
    """The report's pages, asked for in a pool of ``workers`` threads. Pages asked for ahead (:meth:`ask_ahead`) are
    answered from the first :meth:`ask` for them. A context manager: on the way out, pages not yet sent are
    cancelled and the pool's threads end (once the calls already sent are answered)."""

    def __init__(self, api: MoodleApi, reportid: int, workers: int, begun: PassStart | None = None) -> None:
        self.api, self.reportid, self.workers = api, reportid, max(1, workers)
        #: where the pass whose first pages were asked for ahead begins (read_ahead)
        self.begun = begun
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="report-page")
        self._ahead: dict[tuple[int, int], Future[RetrievedReport]] = {}

    def fits(self, report: CompletionReport) -> bool:
        """Whether the pages asked for ahead are of ``report`` as prepared: the same report, to which the tool added
        no column, whose dates it does not read (a pass reads any number of rows in pages of any size)."""
        return report.id == self.reportid and not report.added and not report.dates_wanted and self.begun is not None

    def ask(self, page: int, page_size: int) -> Future[RetrievedReport]:
        """One page (0-based) of ``page_size`` rows: the one asked for ahead, else asked for now."""
        return self._ahead.pop((page, page_size), None) or self._submit(page, page_size)

    def ask_ahead(self, pages: list[int], page_size: int) -> None:
        for page in pages:
            self._ahead[(page, page_size)] = self._submit(page, page_size)

    def _submit(self, page: int, page_size: int) -> Future[RetrievedReport]:
        return self._pool.submit(self.api.retrieve_report, self.reportid, page, page_size)

    def close(self, *, wait: bool = True) -> None:
        """Cancel the pages not yet sent; ``wait``: until the ones sent are answered (else they are left to end in
        their threads, their answers unread)."""
        for future in self._ahead.values():
            future.cancel()
        self._ahead.clear()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> ReportPages:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def read_ahead(api: MoodleApi, store: StateStore, report: CompletionReport, workers: int,
               say: Callable[[str], None]) -> ReportPages:
    """Ask for the first pages :func:`read_report` will read (the same page size and first page, an interrupted pass
    going on), so that Moodle formats them while the pull reads the rest: the report is the longest call of a pull.
    Use it as a context manager and hand it to :func:`read_report`."""
    begun = pass_start(ReportPullStore(store), report, workers)
    reader, pages = _ask_first(api, report.id, workers, begun)
    total = f" of {max(1, -(-begun.rows // begun.page_size))}" if begun.rows >= 0 else ""
    say(f"completion report: asking for {pages}{total} while the rest is read")
    return reader


def _ask_first(api: MoodleApi, reportid: int, workers: int, begun: PassStart) -> tuple[ReportPages, str]:
    """The reader of a pass that begins as ``begun``, its first pages asked for; and which they are ("pages 1-2")."""
    pages = begun.first_pages(workers)
    reader = ReportPages(api, reportid, workers, begun)
    try:
        reader.ask_ahead(pages, begun.page_size)
    except BaseException:
        reader.close()
        raise
    return reader, (f"page{'s' if len(pages) > 1 else ''} {pages[0] + 1}"
                    + (f"-{pages[-1] + 1}" if len(pages) > 1 else ""))


#: room in the pages :func:`read_early` asks for, for rows that came since the last pass (a percent of them): more
#: than that are read in one more page at the end
EARLY_ROOM = 100


def early_start(rows: int, workers: int) -> PassStart:
    """The pass :func:`read_early` begins after a finished pass of ``rows`` rows: in pages of that count with a percent
    of room."""
    return PassStart(None, page_size_for(rows + rows // EARLY_ROOM, workers), rows)


def read_early(api: MoodleApi, store: StateStore, workers: int, say: Callable[[str], None]) -> ReportPages | None:
    """On a routine pull, ask for the first pages of the report the last finished pass read before the report is
    looked at (prepare_report: a list and a one-row page), in pages of that pass's row count with a percent of room.
    Only when no pass goes on and nothing tells that the pull will change the report (report_setup.left_as_it_is).
    :meth:`ReportPages.fits` then tells whether the report prepared is the one asked; if not, the pages are read in
    vain (an admin removed a column, or another report took the name), which costs that pull a page's time."""
    saved = ReportPullStore(store)
    last = saved.last_pass()
    if (last is None or saved.open_pass() is not None
            or not all(api.has_function(f) for f in MoodleApi.REPORT_FUNCTIONS)
            or not report_setup.left_as_it_is(saved, last[0])):
        return None
    reportid, rows = last
    reader, pages = _ask_first(api, reportid, workers, early_start(rows, workers))
    say(f"completion report: asking for {pages} as the last pull read it, while the report is looked at")
    return reader


def pages_in_order(reader: ReportPages, first: int, page_size: int, rows: int,
                   ready: Callable[[int, RetrievedReport], None] | None = None
                   ) -> Iterator[tuple[int, RetrievedReport]]:
    """The pages from ``first`` on, in order, ``reader.workers`` at a time; ``rows``: how many rows the report had
    when it was looked at (-1: unknown, so the first page is read alone to learn it). Every page tells how many rows
    there are now: a page past the end comes back empty and ends the pass. Stopping early leaves at most ``workers``
    pages read in vain. ``ready`` is given a page that came while the one before it is still awaited (once each)."""
    if rows < 0:
        answer = reader.ask(first, page_size).result()
        yield first, answer
        if not answer.data.rows:
            return
        rows, first = answer.data.totalrowcount, first + 1
    pending = iter(_page_numbers(first, page_size, rows))
    running = [(p, reader.ask(p, page_size)) for p in (next(pending, None) for _ in range(reader.workers))
               if p is not None]
    handed: set[int] = set()
    try:
        while running:
            page, future = running.pop(0)
            while ready is not None and not future.done():
                later = [(p, f) for p, f in running if p not in handed]
                if not later:
                    break
                wait([future, *(f for _, f in later)], return_when=FIRST_COMPLETED)
                for p, f in later:
                    if f.done() and not f.cancelled() and f.exception() is None:
                        handed.add(p)
                        ready(p, f.result())
            answer = future.result()
            more = next(pending, None)
            if more is not None:
                running.append((more, reader.ask(more, page_size)))
            yield page, answer
            if not answer.data.rows:
                return
    finally:
        for _, future in running:
            future.cancel()
