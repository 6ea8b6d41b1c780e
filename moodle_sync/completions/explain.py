"""How `pull` says which way it read completions, and what the other way costs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from moodle_sync.completions.pull import PullResult
from moodle_sync.completions.report_setup import COLUMNS, ReportProblem, prepare_report
from moodle_sync.moodle.functions import MoodleApi

if TYPE_CHECKING:
    from moodle_sync.moodle.doctor_report import DoctorReport

#: a real 2-core Moodle 4.3 answered core_completion_get_course_completion_status in about 23 ms a call
SECONDS_PER_PERSON = 0.023

#: rows of courses the tool does not manage are worth a condition once they are a quarter of the report (Moodle
#: formats every row: the lab's 41 319 rows took 14 s of its CPU)
OTHERS_WORTH_LEAVING_OUT = 4


def bulk_text(result: PullResult) -> str:
    bulk = result.bulk
    if bulk is None:
        why = result.bulk_off or "no completion report is configured (setting completion_report)"
        cost = result.asked * SECONDS_PER_PERSON
        return (f"Completions were read one person at a time ({result.asked} calls, about {cost:.0f} s on a 2-core "
                f"site), because {why}. Only people who visited a course since the last check are asked, and "
                f"everyone at the weekly sweep; `moodle-sync doctor` shows how to set up the report.")
    text = f"Completion report: {bulk.pages} page(s), {bulk.rows} rows; who is enrolled was read from it"
    if bulk.other_rows * OTHERS_WORTH_LEAVING_OUT >= bulk.rows > 0:
        text += (f" ({bulk.other_rows} of its rows are of courses moodle-sync does not manage, and Moodle formats "
                 f"them on every pull: the condition Course category > Select category in the report builder, "
                 f"the programme's top category with Include subcategories, leaves them out)")
    if bulk.looked_up:
        text += f" ({bulk.looked_up} person(s) whose link named nobody looked up by username)"
    if bulk.resumed_at:
        text += f", going on from page {bulk.resumed_at + 1}"
    agree = f"{bulk.anchors_agree} of {bulk.anchors} times Moodle also gives as numbers agree"
    if bulk.dates_certain and bulk.forced:
        text += (f"; the site forces its own timezone ({bulk.timezone}) instead of Europe/Stockholm, which the tool "
                 f"asks for, and its dates were read in it ({agree})")
    elif bulk.dates_certain:
        text += f"; its dates were read as Moodle's, in {bulk.timezone} ({agree})"
    elif not bulk.anchors:
        text += ("; its dates could not be checked (no managed course has a start date and the tool made no "
                 "enrolment it shows), so no enrolment date was kept")
    else:
        text += (f"; its dates could not be read with certainty ({agree} with Europe/Stockholm and no timezone fits "
                 f"them all: are they English, gregorian dates?), so no enrolment date was kept")
    if bulk.unsettled:
        text += f"; the timezones that fit read {bulk.unsettled} completion time(s) differently"
    if bulk.upgraded:
        text += f"; {bulk.upgraded} completion(s) now carry Moodle's time instead of the day first seen"
    text += (f"; {len(bulk.ask)} new completion(s) were asked about one by one." if bulk.ask else ".")
    if bulk.changed_while_read:
        text += (" Its rows changed while it was read twice, so who is enrolled was read from "
                 "core_enrol_get_enrolled_users; the next pull reads the report again.")
    return text


def report_doctor(api: MoodleApi, name: str, report: DoctorReport) -> str:
    """The completion report's state for doctor: a line when it is ready, else a warning with the clicks (pull
    then asks Moodle one person at a time)."""
    if not name:
        report.warnings.append("no completion report is configured (completion_report = \"\"): `pull` asks Moodle "
                               "one person at a time")
        return ""
    if not all(api.has_function(f) for f in MoodleApi.REPORT_FUNCTIONS):
        return ""  # the optional functions' warning says what is missing and what it costs
    found = prepare_report(api, None, name, shape=False)
    if isinstance(found, ReportProblem):
        report.warnings.append(f"completion report: {found.reason}, so `pull` asks Moodle one person at a time "
                               f"(about 23 ms a person); to read every completion in a few calls, {found.hint}")
        return ""
    text = f"Completion report {found.name!r} (id {found.id}): found"
    if found.added:
        text += "; `pull` adds its columns " + ", ".join(COLUMNS[u] for u in found.added)
    return text
