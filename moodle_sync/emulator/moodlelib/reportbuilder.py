"""Custom reports: the report, column and condition store, and the rows a report answers.

As reportbuilder/classes/local/helpers/report.php (add_report_column, delete_report_column,
toggle_report_column_sorting), the
exporters in reportbuilder/classes/external/ (custom_report_details_exporter, custom_report_columns_sorting_
exporter, custom_report_data_exporter) and the tables in reportbuilder/classes/table/ (custom_report_table:
a report without columns selects nothing; sorting by the enabled columns in their sort order, NULL first
ascending and last descending as pgsql's sql_order_by_null(); a page is LIMIT perpage OFFSET page*perpage,
perpage 0 meaning no limit). Conditions are the text filter's (reportbuilder/classes/local/filters/text.php):
case-insensitive, ignored when a value is needed and empty.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from moodle_sync.emulator.errors import invalid_parameter, missing_record
from moodle_sync.emulator.model.reportbuilder import (
    SORT_ASC,
    SORT_DESC,
    TYPE_CUSTOM_REPORT,
    Report,
    ReportColumn,
    ReportCondition,
)
from moodle_sync.emulator.model.state import SITEID, SYSCONTEXTID, State
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.moodlelib.reportbuilder_columns import (
    COLUMNS,
    COURSE,
    ENROL,
    PARTICIPANTS,
    PARTICIPANTS_NAME,
    ColumnDef,
    Joined,
    Viewer,
)

# text filter operators (reportbuilder/classes/local/filters/text.php)
TEXT_OPERATORS = {"contains": 1, "does_not_contain": 2, "is_equal_to": 3, "is_not_equal_to": 4, "starts_with": 5,
                  "ends_with": 6, "is_empty": 7, "is_not_empty": 8}
_NO_VALUE_NEEDED = {0, 7, 8}

# $OUTPUT->help_icon('sorting', 'core_reportbuilder') as the recorded sites render it (theme boost): 4.3's, then
# 4.5's (other classes, the FontAwesome 6 icon name, the template's lines ending in CRLF)
SORTING_HELP_ICON = (
    '<a class="btn btn-link p-0" role="button"\n    data-container="body" data-toggle="popover"\n'
    '    data-placement="right" data-content="&lt;div class=&quot;no-overflow&quot;&gt;&lt;p&gt;You can set the '
    'initial sort order of columns in the report, which can then be changed by users by clicking on column names.'
    '&lt;/p&gt;\n&lt;/div&gt; "\n    data-html="true" tabindex="0" data-trigger="focus" aria-label="Help">\n'
    '  <i class="icon fa fa-question-circle text-info fa-fw "  title="Help with Sorting" role="img" '
    'aria-label="Help with Sorting"></i>\n</a>')
SORTING_HELP_ICON_45 = (
    '<a class="btn btn-link p-0 me-2 icon-no-margin" role="button"\r\n    data-container="body" '
    'data-toggle="popover"\r\n    data-placement="right" data-content="&lt;div class=&quot;no-overflow&quot;&gt;'
    '&lt;p&gt;You can set the initial sort order of columns in the report, which can then be changed by users by '
    'clicking on column names.&lt;/p&gt;\n&lt;/div&gt; "\r\n    data-html="true" tabindex="0" data-trigger="focus" '
    'aria-label="Help">\r\n  <i class="icon fa fa-circle-question text-info fa-fw "  title="Help with Sorting" '
    'role="img" aria-label="Help with Sorting"></i>\r\n</a>')


def php_json(value: object) -> str:
    """json_encode() as PHP writes it: no spaces, '/' and non-ASCII escaped."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/")


# --- the store --------------------------------------------------------------------------------------------
def create_report(state: State, now: int, userid: int, name: str, source: str,
                  conditions: Sequence[tuple[str, int, str]] = ()) -> Report:
    """A custom report without default setup, with text conditions (column, operator, value) set as the
    report editor's form would; raises ValueError for what the emulator cannot set up."""
    if source != PARTICIPANTS:
        raise ValueError(f"report source {source!r} is not emulated (only {PARTICIPANTS!r})")
    values: dict[str, Any] = {}
    for uniqueidentifier, operator, value in conditions:
        column = COLUMNS.get(uniqueidentifier)
        if column is None or not column.text:
            raise ValueError(f"condition {uniqueidentifier!r} is not an emulated text condition")
        if operator not in TEXT_OPERATORS.values():
            raise ValueError(f"text condition operator {operator!r} is unknown")
        values[f"{uniqueidentifier}_operator"] = operator
        values[f"{uniqueidentifier}_value"] = value
    report = state.reports.insert(Report(
        id=state.reports.new_id(), name=name.strip(), source=source, type=TYPE_CUSTOM_REPORT, uniquerows=False,
        conditiondata=php_json(values) if values else None, settingsdata=None, contextid=SYSCONTEXTID, component="",
        area="", itemid=0, usercreated=userid, usermodified=userid, timecreated=now, timemodified=now))
    for order, (uniqueidentifier, _, _) in enumerate(conditions, start=1):
        state.report_conditions.insert(ReportCondition(state.report_conditions.new_id(), report.id, uniqueidentifier,
                                                       order, userid, now))
    return report


def get_report(state: State, reportid: int) -> Report:
    """new report($reportid): a missing one is dml_missing_record_exception (contract 'retrieve missing report')."""
    report = state.reports.get(reportid)
    if report is None:
        raise missing_record("reportbuilder_report")
    return report


def columns_of(state: State, reportid: int) -> list[ReportColumn]:
    return sorted(state.report_columns.by("reportid", reportid), key=lambda c: (c.columnorder, c.id))


def add_column(state: State, now: int, userid: int, report: Report, uniqueidentifier: str) -> ReportColumn:
    if uniqueidentifier not in COLUMNS:
        raise invalid_parameter("Invalid column")
    existing = state.report_columns.by("reportid", report.id)
    return state.report_columns.insert(ReportColumn(
        id=state.report_columns.new_id(), reportid=report.id, uniqueidentifier=uniqueidentifier,
        columnorder=max((c.columnorder for c in existing), default=0) + 1, sortenabled=False, sortdirection=SORT_ASC,
        sortorder=max((c.sortorder for c in existing), default=0) + 1, usercreated=userid, usermodified=userid,
        timecreated=now, timemodified=now))


def delete_column(state: State, report: Report, columnid: int) -> None:
    """delete_report_column(): the column must be the report's ('Invalid column' otherwise); the columns after it
    move up one place (columnorder - 1), sort orders keep their gap."""
    column = state.report_columns.get(columnid)
    if column is None or column.reportid != report.id:
        raise invalid_parameter("Invalid column")
    state.report_columns.delete(column)
    for other in state.report_columns.by("reportid", report.id):
        if other.columnorder > column.columnorder:
            state.report_columns.update(other, columnorder=other.columnorder - 1)


def toggle_sorting(state: State, now: int, userid: int, report: Report, columnid: int, enabled: bool,
                   direction: int) -> None:
    column = state.report_columns.get(columnid)
    if column is None or column.reportid != report.id:
        raise invalid_parameter("Invalid column")
    state.report_columns.update(column, sortenabled=enabled, sortdirection=direction, usermodified=userid,
                                timemodified=now)


# --- what the exporters answer -------------------------------------------------------------------------
def sorting(state: State, report: Report) -> dict[str, Any]:
    """custom_report_columns_sorting_exporter: every sortable column in sort order."""
    items = []
    for column in sorted(columns_of(state, report.id), key=lambda c: (c.sortorder, c.id)):
        title = COLUMNS[column.uniqueidentifier].title
        ascending = column.sortdirection == SORT_ASC
        newer = state.config.moodle.newer_sorting_editor
        named = f"'{title}'" if newer else title
        other = "descending" if ascending else "ascending"
        icon = {"key": f"t/sort_{'asc' if ascending else 'desc'}", "component": "moodle",
                "title": f"Change initial sorting for column '{title}' to {other}"} if newer else {
                "key": "t/uplong" if ascending else "t/downlong", "component": "moodle",
                "title": f"Sort column '{title}' {other}"}
        items.append({
            "id": column.id, "title": title, "heading": column.heading or title,
            "sortdirection": column.sortdirection, "sortenabled": column.sortenabled, "sortorder": column.sortorder,
            # lang/en/reportbuilder.php columnsortdirectiondesc/asc, movesorting, columnsortdisable/enable
            "sorticon": icon,
            "movetitle": f"Move sorting for column '{title}'",
            "sortenabledtitle": f"{'Disable' if column.sortenabled else 'Enable'} initial sorting for column {named}"})
    helpicon = SORTING_HELP_ICON_45 if state.config.moodle.newer_sorting_editor else SORTING_HELP_ICON
    return {"hassortablecolumns": bool(items), "sortablecolumns": items, "helpicon": helpicon}


def details(state: State, site_url: str, report: Report) -> dict[str, Any]:
    """custom_report_details_exporter: the report's record, its source's name and who last changed it."""
    user = state.users.rows[report.usermodified]
    themerev = state.config.themerev
    modifiedby = {
        "id": user.id, "email": user.email, "idnumber": user.idnumber, "phone1": user.phone1, "phone2": user.phone2,
        "department": user.department, "institution": user.institution, "fullname": state.user_fullname(user),
        "identity": user.email,  # $CFG->showuseridentity = 'email'
        "profileurl": f"{site_url}/user/profile.php?id={user.id}",
        "profileimageurl": fmt.user_picture_url(site_url, themerev, "f1"),
        "profileimageurlsmall": fmt.user_picture_url(site_url, themerev, "f2")}
    return {"name": report.name, "source": report.source, "type": report.type, "uniquerows": report.uniquerows,
            "conditiondata": report.conditiondata, "settingsdata": report.settingsdata, "contextid": report.contextid,
            "component": report.component, "area": report.area, "itemid": report.itemid,
            "usercreated": report.usercreated, "id": report.id, "timecreated": report.timecreated,
            "timemodified": report.timemodified, "usermodified": report.usermodified,
            "sourcename": PARTICIPANTS_NAME if report.source == PARTICIPANTS else None, "modifiedby": modifiedby,
            "tags": []}  # 4.5: the report's tags (none can be set here; 4.3's signature drops the key)


def data(state: State, viewer: Viewer, report: Report, page: int, perpage: int) -> dict[str, Any]:
    """custom_report_data_exporter: headers, one page of formatted rows, and how many rows there are."""
    columns = columns_of(state, report.id)
    if not columns:
        return {"headers": [], "rows": [], "totalrowcount": 0}  # custom_report_table: '1=0' without columns
    defs = [COLUMNS[c.uniqueidentifier] for c in columns]
    conditions = _conditions(state, report)
    depth = max([d.depth for d in defs] + [d.depth for d, _, _ in conditions])
    rows = [row for row in joined_rows(state, depth) if all(_matches(d, op, v, row, viewer) for d, op, v in conditions)]
    for column in sorted(columns, key=lambda c: (c.sortorder, c.id), reverse=True):
        if column.sortenabled:
            key = _sort_key(COLUMNS[column.uniqueidentifier], viewer)
            rows.sort(key=key, reverse=column.sortdirection == SORT_DESC)
    start = max(0, page * perpage)
    shown = rows[start:start + perpage] if perpage > 0 else rows[start:]
    return {"headers": [c.heading or d.title for c, d in zip(columns, defs, strict=True)],
            "rows": [{"columns": [d.show(d.field(row, viewer), row, viewer) for d in defs]} for row in shown],
            "totalrowcount": len(rows)}


def joined_rows(state: State, depth: int) -> list[Joined]:
    """participants' joins down to ``depth``: LEFT JOINs keep a course without methods and a method without
    enrolments as one row; a deleted user's enrolment keeps its row with no user (u.deleted = 0 in the join)."""
    out: list[Joined] = []
    for course in sorted(state.courses, key=lambda c: c.id):
        if course.id == SITEID:
            continue  # the datasource's base condition
        instances = sorted(state.enrol.by("courseid", course.id), key=lambda i: i.id) if depth > COURSE else []
        if not instances:
            out.append(Joined(course))
            continue
        for instance in instances:
            enrolments = state.user_enrolments.by("enrolid", instance.id) if depth > ENROL else []
            if not enrolments:
                out.append(Joined(course, instance))
                continue
            for ue in enrolments:
                user = state.users.get(ue.userid)
                if user is not None and user.deleted:
                    user = None
                completion = state.course_completions.first_by("user_course", (user.id, course.id)) if user else None
                out.append(Joined(course, instance, ue, user, completion))
    return out


def _conditions(state: State, report: Report) -> list[tuple[ColumnDef, int, str]]:
    values = json.loads(report.conditiondata) if report.conditiondata else {}
    out = []
    for condition in sorted(state.report_conditions.by("reportid", report.id), key=lambda c: c.filterorder):
        uid = condition.uniqueidentifier
        operator = int(values.get(f"{uid}_operator", 0))
        value = str(values.get(f"{uid}_value", ""))
        if operator in TEXT_OPERATORS.values() and (value != "" or operator in _NO_VALUE_NEEDED):
            out.append((COLUMNS[uid], operator, value))
    return out


def _matches(column: ColumnDef, operator: int, wanted: str, row: Joined, viewer: Viewer) -> bool:
    raw = column.field(row, viewer)
    if operator in (7, 8):  # COALESCE(field, '') = '' / != ''
        return (raw in (None, "")) == (operator == 7)
    if raw is None:
        return False  # NULL LIKE … and NULL <> … are not true
    have, want = str(raw).casefold(), wanted.casefold()
    return {1: want in have, 2: want not in have, 3: have == want, 4: have != want,
            5: have.startswith(want), 6: have.endswith(want)}[operator]


def _sort_key(column: ColumnDef, viewer: Viewer) -> Any:
    def key(row: Joined) -> tuple[Any, ...]:
        value = column.field(row, viewer)
        if value is None:
            return (0,)  # NULLS FIRST ascending; reversed for descending, so NULLS LAST there
        if isinstance(value, str):
            return (1, value.casefold(), value)
        return (1, value)

    return key
