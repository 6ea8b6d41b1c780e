"""Renderers: the same :class:`~moodle_sync.reports.table.Table` or report as text, CSV, XLSX or HTML."""

from __future__ import annotations

from moodle_sync.reports.render.csvfile import to_csv
from moodle_sync.reports.render.htmlpage import html_document, to_html
from moodle_sync.reports.render.text import to_text
from moodle_sync.reports.render.xlsx import to_xlsx

__all__ = ["html_document", "to_csv", "to_html", "to_text", "to_xlsx"]
