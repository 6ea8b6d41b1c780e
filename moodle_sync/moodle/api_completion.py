"""MoodleApi's calls about completion: one person's status, the custom completion report, reminder messages.

A part of :class:`.functions.MoodleApi` (the one class that calls ``MoodleClient.call``), kept here by
the Moodle area it talks to; each method's docstring names the function it calls (``Calls: …``).
"""

from __future__ import annotations

from collections.abc import Sequence

from moodle_sync.moodle.answers import read_list, read_one
from moodle_sync.moodle.client import MoodleClient
from moodle_sync.moodle.models import (
    ColumnSorting,
    CompletionStatus,
    InstantMessage,
    ReportDetails,
    RetrievedReport,
    SentMessage,
)

__all__ = ["CompletionCalls"]


class CompletionCalls:
    """Course completion, the report builder (Moodle 4.1+) and instant messages: a part of MoodleApi."""

    client: MoodleClient

    # --- completion and messages -------------------------------------------------------------

    def completion_status(self, courseid: int, userid: int) -> CompletionStatus:
        """One user's completion in one course (one user per call on core web services).

        Moodle 4.3 checks, in order: the user is active (``userdeleted``), the web-service user may enter
        the course (``requireloginerror``), completion is on for the site and the course and may be viewed
        (``cannotviewreport``, also the answer when completion is off), separate groups (``accessdenied``),
        the user is tracked – an active enrolment with moodle/course:isincompletionreports, so teachers are
        not – (``usernotenroled``), and the course has criteria (``nocriteriaset``). CompletionError is
        raised for ``nocriteriaset``, ``usernotenroled`` and ``cannotviewreport``.

        Calls: core_completion_get_course_completion_status.
        """
        answer = self.client.call("core_completion_get_course_completion_status",
                                  {"courseid": courseid, "userid": userid})
        return read_one("core_completion_get_course_completion_status", answer, CompletionStatus)

    # --- report builder (Moodle 4.1+) --------------------------------------------------------------

    def list_reports(self, *, per_page: int = 50) -> list[ReportDetails]:
        """Every custom report the token's user may see, page by page.

        Calls: core_reportbuilder_list_reports.
        """
        out: list[ReportDetails] = []
        page = 0
        while True:
            answer = self.client.call("core_reportbuilder_list_reports", {"page": page, "perpage": per_page})
            got = read_list("core_reportbuilder_list_reports", answer, ReportDetails)
            out += got
            if len(got) < per_page:
                return out
            page += 1

    def retrieve_report(self, reportid: int, page: int, per_page: int, *, lang: str = "en",
                        timezone: str = "Europe/Stockholm") -> RetrievedReport:
        """One page of a custom report, its values formatted in ``lang`` and ``timezone`` (sent as the request's
        moodlewssettinglang/-timezone; Moodle ignores the timezone when the site forces one).

        Calls: core_reportbuilder_retrieve_report.
        """
        answer = self.client.call("core_reportbuilder_retrieve_report",
                                  {"reportid": reportid, "page": page, "perpage": per_page},
                                  settings={"lang": lang, "timezone": timezone})
        return read_one("core_reportbuilder_retrieve_report", answer, RetrievedReport)

    def add_report_column(self, reportid: int, uniqueidentifier: str) -> ColumnSorting:
        """Add one column (e.g. ``course:idnumber``) at the end of a custom report: not idempotent (a second call
        adds a second column).

        Calls: core_reportbuilder_columns_add.
        """
        answer = self.client.call("core_reportbuilder_columns_add",
                                  {"reportid": reportid, "uniqueidentifier": uniqueidentifier})
        return read_one("core_reportbuilder_columns_add", answer, ColumnSorting)

    def delete_report_column(self, reportid: int, columnid: int) -> ColumnSorting:
        """Delete one column of a custom report (the columns after it move up one place): not idempotent (a second
        call is refused: 'Invalid column').

        Calls: core_reportbuilder_columns_delete.
        """
        answer = self.client.call("core_reportbuilder_columns_delete", {"reportid": reportid, "columnid": columnid})
        return read_one("core_reportbuilder_columns_delete", answer, ColumnSorting)

    def sort_report_column(self, reportid: int, columnid: int, *, enabled: bool, direction: int = 4) -> ColumnSorting:
        """Turn a column's initial sorting on or off (direction 4 = ascending).

        Calls: core_reportbuilder_columns_sort_toggle.
        """
        answer = self.client.call("core_reportbuilder_columns_sort_toggle",
                                  {"reportid": reportid, "columnid": columnid, "enabled": int(enabled),
                                   "direction": direction})
        return read_one("core_reportbuilder_columns_sort_toggle", answer, ColumnSorting)

    def send_messages(self, items: Sequence[InstantMessage]) -> list[SentMessage]:
        """Send Moodle messages from the web-service user; failures per message come back as errormessage.

        Calls: core_message_send_instant_messages.
        """
        answer = self.client.call("core_message_send_instant_messages",
                                  {"messages": [i.to_params() for i in items]}, items=list(items))
        return read_list("core_message_send_instant_messages", answer, SentMessage)
