"""MoodleApi: one typed method per Moodle web-service function; the only class that calls ``MoodleClient.call``.

Each method's docstring names the function it calls (``Calls: <wsfunction>``); a meta-test checks
that every name exists in Moodle 4.3's declared signatures, and that no other class calls the client.
The methods are written in one module per Moodle area (:mod:`.api_courses`, :mod:`.api_cohorts`,
:mod:`.api_people`, :mod:`.api_completion`) and put together here, with the site's information, the
functions ``doctor`` checks for, and batching within ``max_input_vars``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from moodle_sync.moodle.answers import read_one
from moodle_sync.moodle.api_cohorts import CohortCalls
from moodle_sync.moodle.api_completion import CompletionCalls
from moodle_sync.moodle.api_courses import CourseCalls
from moodle_sync.moodle.api_people import PeopleCalls
from moodle_sync.moodle.client import MoodleClient
from moodle_sync.moodle.models import Request, SiteInfo

__all__ = ["DELETE_COST", "REPORT_COST", "MoodleApi"]

T = TypeVar("T")


#: what a pull costs without the report builder functions (doctor and pull say it)
REPORT_COST = ("`pull` cannot read completions in bulk through the completion report and asks Moodle one "
               "person at a time instead (about 23 ms a person on a 2-core site: an hour for 150 000 enrolments), "
               "and completions made without a visit wait for the weekly sweep")


#: what a pull costs without core_reportbuilder_columns_delete (completions/report_setup.py DATE_COLUMNS)
DELETE_COST = ("`pull` cannot take the course date columns it added out of the completion report once it no longer "
               "needs them, and Moodle keeps formatting them on every pull (about a third of the report's time)")


class MoodleApi(CourseCalls, CohortCalls, PeopleCalls, CompletionCalls):
    """Typed access to the web-service functions moodle-sync uses (the calls of each area come from its part)."""

    #: every function this class can call: `doctor` checks that the token's service has them
    FUNCTIONS: tuple[str, ...] = (
        "core_webservice_get_site_info",
        "core_course_get_categories",
        "core_course_create_categories",
        "core_course_update_categories",
        "core_course_get_courses_by_field",
        "core_course_create_courses",
        "core_course_update_courses",
        "core_course_import_course",
        "core_course_get_contents",
        "core_cohort_search_cohorts",
        "core_cohort_get_cohorts",
        "core_cohort_create_cohorts",
        "core_cohort_update_cohorts",
        "core_cohort_get_cohort_members",
        "core_cohort_add_cohort_members",
        "core_cohort_delete_cohort_members",
        "core_user_get_users_by_field",
        "core_user_create_users",
        "core_user_update_users",
        "core_enrol_get_enrolled_users",
        "enrol_manual_enrol_users",
        "core_group_get_course_groups",
        "core_group_create_groups",
        "core_group_get_group_members",
        "core_group_add_group_members",
        "core_completion_get_course_completion_status",
        "core_message_send_instant_messages",
    )

    #: used when the token's service has them, else their check is skipped (and doctor says what that costs)
    OPTIONAL_FUNCTIONS: dict[str, str] = {
        "core_user_get_users": "roster imports cannot see an account whose e-mail differs only in capitals before "
                               "creating (Moodle then refuses that row, and the rest of its batch is sent one by one)",
        **{name: REPORT_COST for name in (
            "core_reportbuilder_list_reports", "core_reportbuilder_retrieve_report",
            "core_reportbuilder_columns_add", "core_reportbuilder_columns_sort_toggle")},
        "core_reportbuilder_columns_delete": DELETE_COST,
    }

    #: the functions the bulk completion pull needs (completions/report_setup.py)
    REPORT_FUNCTIONS: tuple[str, ...] = ("core_reportbuilder_list_reports", "core_reportbuilder_retrieve_report",
                                         "core_reportbuilder_columns_add", "core_reportbuilder_columns_sort_toggle")

    def __init__(self, client: MoodleClient) -> None:
        self.client = client
        self._functions: set[str] | None = None
        self._siteurl: str | None = None

    # --- site -----------------------------------------------------------------------------------

    def site_info(self) -> SiteInfo:
        """Calls: core_webservice_get_site_info."""
        return read_one("core_webservice_get_site_info", self.client.call("core_webservice_get_site_info"), SiteInfo)

    def has_function(self, name: str) -> bool:
        """Whether the token's service offers ``name`` (site info is read once per API object)."""
        if self._functions is None:
            self._remember(self.site_info())
        assert self._functions is not None
        return name in self._functions

    def siteurl(self) -> str:
        """The site's own address (site info's ``siteurl``, its ``$CFG->wwwroot``), read once per API object.

        Moodle answers its wwwroot whatever address it was reached at (webservice/externallib.php
        get_site_info); it redirects a request for another host to it (lib/setuplib.php initialise_fullme).
        """
        if self._siteurl is None:
            self._remember(self.site_info())
        assert self._siteurl is not None
        return self._siteurl

    def _remember(self, info: SiteInfo) -> None:
        self._functions = info.function_names()
        self._siteurl = info.siteurl or self.client.transport.base_url

    def batches(self, wsfunction: str, listkey: str, items: Sequence[T],
                to_request: Callable[[T], Request], *, max_items: int | None = None) -> list[list[T]]:
        """Group ``items`` so that each call of ``wsfunction`` stays under Moodle's ``max_input_vars``.

        Args:
            wsfunction: the function the requests go to.
            listkey: the list parameter they go under (``courses``, ``categories`` …).
            items: anything (e.g. plan actions); ``to_request`` turns one into its request model.
            max_items: at most this many per call.
        """
        params = [to_request(i).to_params() for i in items]
        out: list[list[T]] = []
        pos = 0
        for chunk in self.client.chunk(wsfunction, listkey, params, max_items=max_items):
            out.append(list(items[pos:pos + len(chunk)]))
            pos += len(chunk)
        return out
