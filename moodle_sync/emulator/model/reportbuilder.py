"""Row types of report builder's tables (reportbuilder_report, reportbuilder_column, reportbuilder_filter).

As reportbuilder/classes/local/models/*.php declare them; only custom reports (type 0) are emulated.
"""

from __future__ import annotations

from dataclasses import dataclass

TYPE_CUSTOM_REPORT = 0  # core_reportbuilder\local\report\base::TYPE_CUSTOM_REPORT
SORT_DESC = 3  # PHP's SORT_DESC
SORT_ASC = 4  # PHP's SORT_ASC, the default direction of a new column


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    name: str
    source: str
    type: int
    uniquerows: bool
    conditiondata: str | None  # JSON text of the conditions' form values, as Moodle stores it
    settingsdata: str | None
    contextid: int
    component: str
    area: str
    itemid: int
    usercreated: int
    usermodified: int
    timecreated: int
    timemodified: int


@dataclass(frozen=True, slots=True)
class ReportColumn:
    id: int
    reportid: int
    uniqueidentifier: str
    columnorder: int
    sortenabled: bool
    sortdirection: int
    sortorder: int
    usercreated: int
    usermodified: int
    timecreated: int
    timemodified: int
    heading: str | None = None
    aggregation: str | None = None


@dataclass(frozen=True, slots=True)
class ReportCondition:
    """A reportbuilder_filter row with iscondition = 1; its values live in the report's conditiondata."""

    id: int
    reportid: int
    uniqueidentifier: str
    filterorder: int
    usercreated: int
    timecreated: int
