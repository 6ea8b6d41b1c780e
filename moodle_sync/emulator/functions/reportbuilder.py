"""Report builder (Moodle 4.1+): read a custom report's rows, add and delete columns, set their sorting, list reports.

reportbuilder/classes/external/: reports/retrieve.php, columns/add.php, columns/delete.php, columns/sort/toggle.php,
reports/listing.php. Each loads the report first (a missing one is dml_missing_record_exception), then checks
permissions (reportbuilder/classes/permission.php: custom reports on, the reportbuilder capabilities; a
failure is report_access_exception 'errorreportview' or 'errorreportedit', lang/en/reportbuilder.php). Report
audiences are not emulated: someone who may neither edit a report nor edit all reports cannot view it.
"""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import MoodleError
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.reportbuilder import TYPE_CUSTOM_REPORT, Report
from moodle_sync.emulator.moodlelib import reportbuilder as rb
from moodle_sync.emulator.moodlelib.reportbuilder_columns import Viewer
from moodle_sync.emulator.moodlelib.userdate import user_timezone

_REPORT_ACCESS = {"errorreportview": "You cannot view this report", "errorreportedit": "You cannot edit this report"}
_VIEW_CAPS = ("moodle/reportbuilder:editall", "moodle/reportbuilder:edit", "moodle/reportbuilder:view")


def report_access_exception(errorcode: str = "errorreportview") -> MoodleError:
    """core_reportbuilder\\report_access_exception."""
    return MoodleError("core_reportbuilder\\report_access_exception", errorcode, _REPORT_ACCESS[errorcode])


def _can_view_list(call: Call) -> bool:
    return any(call.can(cap) for cap in _VIEW_CAPS)


def _can_edit(call: Call, report: Report) -> bool:
    if report.type != TYPE_CUSTOM_REPORT:
        return False
    if report.usercreated == call.user.id:
        return call.can("moodle/reportbuilder:edit") or call.can("moodle/reportbuilder:editall")
    return call.can("moodle/reportbuilder:editall")


def _require_edit(call: Call, report: Report) -> None:
    if not _can_edit(call, report):
        raise report_access_exception("errorreportedit")


@implements("core_reportbuilder_retrieve_report")
def retrieve_report(call: Call, params: Params) -> dict[str, Any]:
    report = rb.get_report(call.state, params["reportid"])
    if not (_can_view_list(call) and _can_edit(call, report)):
        raise report_access_exception("errorreportview")
    viewer = Viewer(call.state, call.now, user_timezone(call.user, call.state.config.timezone,
                                                        requested=call.timezone,
                                                        forced=call.state.config.forcetimezone),
                    call.site_url)
    return {"details": rb.details(call.state, call.site_url, report),
            "data": rb.data(call.state, viewer, report, params["page"], params["perpage"]),
            "warnings": []}


@implements("core_reportbuilder_columns_add")
def columns_add(call: Call, params: Params) -> dict[str, Any]:
    report = rb.get_report(call.state, params["reportid"])
    _require_edit(call, report)
    rb.add_column(call.state, call.now, call.user.id, report, params["uniqueidentifier"])
    return rb.sorting(call.state, report)


@implements("core_reportbuilder_columns_delete")
def columns_delete(call: Call, params: Params) -> dict[str, Any]:
    report = rb.get_report(call.state, params["reportid"])
    _require_edit(call, report)
    rb.delete_column(call.state, report, params["columnid"])
    return rb.sorting(call.state, report)


@implements("core_reportbuilder_columns_sort_toggle")
def columns_sort_toggle(call: Call, params: Params) -> dict[str, Any]:
    report = rb.get_report(call.state, params["reportid"])
    _require_edit(call, report)
    rb.toggle_sorting(call.state, call.now, call.user.id, report, params["columnid"], bool(params["enabled"]),
                      params["direction"])
    return rb.sorting(call.state, report)


@implements("core_reportbuilder_list_reports")
def list_reports(call: Call, params: Params) -> dict[str, Any]:
    if not _can_view_list(call):
        raise report_access_exception()
    reports = sorted((r for r in call.state.reports if r.type == TYPE_CUSTOM_REPORT),
                     key=lambda r: (r.name, r.id))
    if not call.can("moodle/reportbuilder:editall"):
        reports = [r for r in reports if r.usercreated == call.user.id and call.can("moodle/reportbuilder:edit")]
    start = max(0, params["page"] * params["perpage"])
    page = reports[start:start + params["perpage"]] if params["perpage"] > 0 else reports[start:]
    return {"reports": [rb.details(call.state, call.site_url, r) for r in page], "warnings": []}
