"""The dates a finished pass through the completion report read (completions/bulk.py): the timezone its dates are
shown in, found from times Moodle also gives as numbers (completions/report_dates.py), then every person's
completion, start and end as Moodle holds them where that is certain. Moodle's completion time replaces a day a pull
first saw a completion; the earliest enrolment start replaces the day a pull first saw someone the tool did not
enrol; a new completion whose time is not certain is listed to be asked about one by one.
"""

from __future__ import annotations

import datetime

from moodle_sync.completions.bulk import BulkResult, Known, unix_of
from moodle_sync.completions.report_dates import CREATED_SLACK, Anchor, Calibration, calibrate
from moodle_sync.completions.report_setup import DATE_COLUMNS
from moodle_sync.store.db import StateStore
from moodle_sync.store.report_pull import Pass, Read, ReportPullStore, Shown

#: about as many people of a pass whose anchors check that its dates are shown in the timezone the last pass read
#: them in (then only the dates shown otherwise are read again): their anchors' share that agrees is known to about
#: a percent, and report_dates.AGREE asks for 90%
CONFIRM_SAMPLE = 2000


def finish_report(store: StateStore, known: Known, result: BulkResult, tracked: set[str]) -> None:
    """Read the pass's dates (completions/report_dates.py) and keep Moodle's completion times of the courses in
    ``tracked`` (completion is not tracked in the others, or they could not be read)."""
    saved = ReportPullStore(store)
    assert result.progress is not None
    _read_dates(saved, known, result.progress, result, tracked)
    saved.close_pass()


def _read_dates(saved: ReportPullStore, known: Known, progress: Pass, result: BulkResult, tracked: set[str]) -> None:
    """Find the timezone of the pass's dates, store what they read as, and keep Moodle's completion times (of the
    courses in ``tracked``). When a sample of the anchors finds the timezone(s) the last finished pass read its dates
    in, a date shown as then reads as then, so only the people with a date not read yet are read (see ``_UNREAD`` in
    store/report_pull.py); otherwise every person of the pass is."""
    shown: list[Shown] | None = None
    before = saved.read_in(progress.reportid)
    if before is not None and not result.changed_while_read:
        clock = _calibrate(progress, known, result, saved.shown(progress.stamp, sample=CONFIRM_SAMPLE))
        if clock.certain and _zones(clock) == before:
            shown = saved.shown(progress.stamp, unread=True)
    if shown is None:
        shown = saved.shown(progress.stamp)
        clock = _calibrate(progress, known, result, shown)
        if result.changed_while_read:
            clock = Calibration([], clock.anchors, clock.agree)  # two passes' pages: no date is certain
    result.dates_certain, result.anchors, result.anchors_agree = clock.certain, clock.anchors, clock.agree
    result.timezone, result.forced = (clock.zone_names() if clock.certain else ""), clock.forced
    reads: list[Read] = []
    earlier: list[tuple[str, int, str]] = []
    unix, made = clock.unix, known.enrolled_at
    for s in shown:
        completed = s.completed and (unix(s.completed) or 0)  # None: not completed; 0: its time unknown
        mine = s.userid in made.get(s.course_idnumber, {})
        enrolled = None if mine else unix(s.enrolled)
        reads.append(Read(s.course_idnumber, s.userid, completed, unix(s.start), 0 if s.end == 0 else unix(s.end),
                          enrolled))
        if enrolled is not None and enrolled < unix_of(s.enrolled_since):
            iso = datetime.datetime.fromtimestamp(enrolled, datetime.UTC).isoformat(timespec="seconds")
            earlier.append((s.course_idnumber, s.userid, iso))
    saved.save_read([r for s, r in zip(shown, reads, strict=True) if s.read != r[2:]], earlier)
    result.unsettled = saved.unsettled(progress.stamp) if clock.certain else 0
    result.enrolled_since = len(earlier)
    better = [(s, r.completed_at) for s, r in zip(shown, reads, strict=True) if r.completed_at is not None
              and s.course_idnumber in tracked and (s.completed_at is None or s.completed_source == "first_seen")]
    kept = [(s.course_idnumber, s.userid, at) for s, at in better if at]
    saved.keep_completions(kept, "report", progress.stamp)
    result.new_completions = sum(1 for s, at in better if at and s.completed_at is None)
    result.upgraded = len(kept) - result.new_completions
    result.ask = [(s.course_idnumber, s.userid) for s, at in better if not at and s.completed_at is None]
    saved.set_read_in(progress.reportid, _zones(clock) if clock.certain else None)


def _calibrate(progress: Pass, known: Known, result: BulkResult, shown: list[Shown]) -> Calibration:
    return calibrate(_course_anchors(progress, known, result.course_columns),
                     _enrolment_anchors(shown, known) + _completion_anchors(shown))


def _zones(clock: Calibration) -> str:
    return "\n".join(sorted(str(zone) for zone in clock.zones))


def _course_anchors(progress: Pass, known: Known, columns: tuple[str, ...]) -> list[Anchor]:
    """Each managed course's start and end date as the report showed them, against Moodle's numbers (of the date
    ``columns`` it showed)."""
    out: list[Anchor] = []
    for idnumber, (start, end) in sorted(progress.course_dates.items()):
        numbers = known.courses.get(idnumber)
        if numbers is None:
            continue
        out += [Anchor(shown, number) for shown, number, uid in zip((start, end), numbers, DATE_COLUMNS, strict=True)
                if number and uid in columns]
    return out


def _completion_anchors(shown: list[Shown]) -> list[Anchor]:
    """The completions the store holds with Moodle's time (the report's, read by an earlier pull, or the criteria's)
    against what the report shows now: a completion reset or redone in Moodle since disagrees, so they count as
    enrolment anchors do (report_dates.AGREE of them)."""
    return [Anchor(s.completed, s.completed_at) for s in shown
            if s.completed and s.completed_at and s.completed_source in ("report", "criteria")]


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
