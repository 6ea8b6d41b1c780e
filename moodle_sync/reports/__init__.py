"""Reports on course completions: aggregation, random rounding and renderers (pure, no I/O but writing).

Facts in (:class:`CompletionFact`, one per person and course version), tables out
(:func:`build_table`, :func:`build_pivot`), and the same table or :class:`Report` as text, CSV, XLSX or a
self-contained HTML page. Reports that leave the tool have their counts randomly rounded in groups
(:func:`round_tables`, :mod:`.groups`); small published counts show as ``<threshold`` (:class:`Suppressed`).
:data:`PRESETS` holds the ready-made reports (``redovisning`` to the ministry, ``uppfoljning`` for follow-up).
"""

from __future__ import annotations

from moodle_sync.reports.aggregate import build_pivot, build_table
from moodle_sync.reports.charts import chart_from_table, chart_from_totals
from moodle_sync.reports.dimensions import DIMENSIONS
from moodle_sync.reports.measures import DEFAULT_MEASURES, MEASURES, qualifies
from moodle_sync.reports.model import COUNTY_CODES, COUNTY_NAMES, CompletionFact, Labels
from moodle_sync.reports.presets import PRESETS, redovisning, uppfoljning
from moodle_sync.reports.render import html_document, to_csv, to_html, to_text, to_xlsx
from moodle_sync.reports.rounding import random_round, round_tables
from moodle_sync.reports.table import TOTALS, Chart, ChartPoint, Column, Report, Suppressed, Table

__all__ = [
    "COUNTY_CODES",
    "COUNTY_NAMES",
    "DEFAULT_MEASURES",
    "DIMENSIONS",
    "MEASURES",
    "PRESETS",
    "TOTALS",
    "Chart",
    "ChartPoint",
    "Column",
    "CompletionFact",
    "Labels",
    "Report",
    "Suppressed",
    "Table",
    "build_pivot",
    "build_table",
    "chart_from_table",
    "chart_from_totals",
    "html_document",
    "qualifies",
    "random_round",
    "redovisning",
    "round_tables",
    "to_csv",
    "to_html",
    "to_text",
    "to_xlsx",
    "uppfoljning",
]
