"""Plain-text rendering for the terminal: aligned columns, wrapped headings, notes below."""

from __future__ import annotations

import textwrap

from moodle_sync.reports.render._format import as_report, cell_text, split_notes, totals_row
from moodle_sync.reports.table import Report, Table

__all__ = ["to_text"]

_GAP = "  "
#: measure headings longer than this are wrapped over several lines
_HEADING_WIDTH = 16
_NOTE_WIDTH = 100


def to_text(content: Table | Report) -> str:
    """Render a table, or a report with all its tables, as aligned text ending in a newline."""
    report = as_report(content)
    common, own = split_notes(report.tables, header=report.header)
    lines: list[str] = []
    if isinstance(content, Table):
        lines += _heading(content.title, "=")
        lines += _grid(content)
        lines += _notes(content.notes)
        return "\n".join(lines).rstrip() + "\n"

    lines += _heading(report.title, "=")
    if report.generated_on is not None:
        lines.append(f"Skapad {report.generated_on:%Y-%m-%d}")
    for line in report.header:
        lines += textwrap.wrap(line, _NOTE_WIDTH) or [""]
    lines += _notes(common)
    for table, notes in zip(report.tables, own, strict=True):
        lines.append("")
        lines += _heading(table.title, "-")
        lines += _grid(table)
        lines += _notes(notes)
    return "\n".join(lines).rstrip() + "\n"


def _heading(title: str, underline: str) -> list[str]:
    return [title, underline * len(title), ""] if title else []


def _notes(notes: list[str]) -> list[str]:
    if not notes:
        return []
    lines = ["", "Noter:"]
    for note in notes:
        lines += textwrap.wrap(note, _NOTE_WIDTH, initial_indent="- ", subsequent_indent="  ")
    return lines


def _grid(table: Table) -> list[str]:
    columns = table.columns
    body = [[cell_text(c, row.get(c.key)) for c in columns] for row in table.rows]
    total_row = totals_row(table)
    total = [cell_text(c, total_row.get(c.key)) for c in columns]

    widths: list[int] = []
    headings: list[list[str]] = []
    for i, column in enumerate(columns):
        value_width = max((len(r[i]) for r in [*body, total]), default=0)
        if column.kind == "dimension":
            width = max(value_width, len(column.title))
            heading = [column.title]
        else:
            longest_word = max((len(w) for w in column.title.split()), default=0)
            width = max(value_width, longest_word, min(len(column.title), _HEADING_WIDTH))
            heading = textwrap.wrap(column.title, width) or [""]
        widths.append(width)
        headings.append(heading)

    def line(cells: list[str]) -> str:
        out = [cell.ljust(w) if c.kind == "dimension" else cell.rjust(w)
               for cell, w, c in zip(cells, widths, columns, strict=True)]
        return _GAP.join(out).rstrip()

    height = max((len(h) for h in headings), default=1)
    lines = [line([(([""] * (height - len(h))) + h)[k] for h in headings]) for k in range(height)]
    rule = _GAP.join("-" * w for w in widths)
    lines.append(rule)
    lines += [line(r) for r in body]
    if body:
        lines.append(rule)
    lines.append(line(total))
    return lines
