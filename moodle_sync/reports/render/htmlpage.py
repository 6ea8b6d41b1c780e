"""One self-contained HTML5 page: inline CSS, charts as inline SVG, tables, all text escaped.

Nothing in the page is fetched: no script, no web font, no image or style sheet by address, no
link out, so it opens the same offline, from an e-mail attachment or an archive.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from html import escape
from typing import TextIO

from moodle_sync import clock
from moodle_sync.reports.render._format import cell_text, split_notes, totals_row
from moodle_sync.reports.render.svg import chart_svg
from moodle_sync.reports.table import Chart, Report, Suppressed, Table

__all__ = ["html_document", "to_html"]

_NBSP = "\u00a0"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2328;
       margin: 2rem auto; max-width: 80rem; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
.generated { color: #57606a; margin-top: 0; }
.notes { background: #f6f8fa; border-left: 4px solid #2b6cb0; padding: .5rem 1rem; }
figure { margin: 1.5rem 0; }
figcaption { font-weight: 600; margin-bottom: .25rem; }
svg.chart { max-width: 100%; height: auto; font-family: inherit; }
.table-wrap { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: collapse; font-size: .85rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { padding: .25rem .45rem; border-bottom: 1px solid #d0d7de; vertical-align: bottom; }
thead th { background: #eaeef2; text-align: left; }
thead th.num { text-align: right; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.hidden { color: #57606a; font-style: italic; }
tfoot td, tfoot th { font-weight: 700; border-top: 2px solid #1f2328; }
tbody th, tfoot th, td.nowrap { white-space: nowrap; text-align: left; }
tbody th.wrap { white-space: normal; min-width: 14rem; }
.table-notes { font-size: .85rem; color: #57606a; }
@media screen and (max-width: 48rem) {
  body { margin: 1rem auto; padding: 0 .75rem; }
  figure { overflow-x: auto; }
  svg.chart { min-width: 680px; max-width: none; }
}
@page { size: A4 landscape; margin: 10mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9pt; }
  h1 { font-size: 14pt; } h2 { font-size: 11pt; break-after: avoid; }
  .table-wrap { overflow: visible; }
  table { width: 100%; font-size: 7pt; }
  th, td { padding: 1px 3px; }
  thead th { hyphens: manual; font-size: 6.5pt; }
  figure, tr { break-inside: avoid; }
  svg.chart { max-width: 100%; }
}
"""

HtmlContent = Report | Table | Sequence[Table | Chart]


def to_html(
    content: HtmlContent,
    path_or_stream: str | os.PathLike[str] | TextIO,
    *,
    title: str | None = None,
    generated_on: datetime.date | None = None,
) -> None:
    """Write :func:`html_document` to a path (UTF-8) or an open text stream."""
    page = html_document(content, title=title, generated_on=generated_on)
    if isinstance(path_or_stream, str | os.PathLike):
        with open(path_or_stream, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(page)
    else:
        path_or_stream.write(page)


def html_document(
    content: HtmlContent,
    *,
    title: str | None = None,
    generated_on: datetime.date | None = None,
) -> str:
    """Build the page: title, generation date, header and notes at the top, then charts, then tables.

    Args:
        content: a report, one table, or a list of tables and charts (shown in that order by kind).
        title: overrides the report's or table's title.
        generated_on: the date printed as "Skapad"; the report's own date, else today.
    """
    if isinstance(content, Report):
        report = content
    elif isinstance(content, Table):
        report = Report(title=content.title, header=[], tables=[content])
    else:
        report = Report(title=title or "Rapport", header=[],
                        tables=[c for c in content if isinstance(c, Table)],
                        charts=[c for c in content if isinstance(c, Chart)])
    heading = title or report.title or "Rapport"
    day = generated_on or report.generated_on or clock.today()
    common, own = split_notes(report.tables, header=report.header)

    parts = [
        "<!doctype html>",
        '<html lang="sv">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(heading)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(heading)}</h1>",
        f'<p class="generated">Skapad {day:%Y-%m-%d}</p>',
    ]
    parts += [f"<p>{escape(line)}</p>" for line in report.header]
    if common:
        parts.append('<section class="notes"><h2>Om siffrorna</h2><ul>')
        parts += [f"<li>{escape(note)}</li>" for note in common]
        parts.append("</ul></section>")
    parts.append("</header>")
    parts.append("<main>")
    charts = report.charts
    if charts:
        parts.append('<section class="charts"><h2>Diagram</h2>')
        for i, chart in enumerate(charts, start=1):
            parts.append(f"<figure><figcaption>{escape(chart.title)}</figcaption>")
            parts.append(chart_svg(chart, ident=f"chart{i}"))
            parts.append("</figure>")
        parts.append("</section>")
    if report.tables:
        parts.append('<section class="tables"><h2>Tabeller</h2>')
        for table, notes in zip(report.tables, own, strict=True):
            parts += _table(table, notes)
        parts.append("</section>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _table(table: Table, notes: list[str]) -> list[str]:
    out = ['<div class="table-wrap"><table>']
    if table.title:
        out.append(f"<caption>{escape(table.title)}</caption>")
    num = ' class="num"'
    heads = "".join(f'<th scope="col"{"" if c.kind == "dimension" else num}>{escape(breakable(c.title))}</th>'
                    for c in table.columns)
    out.append(f"<thead><tr>{heads}</tr></thead>")
    out.append("<tbody>")
    out += [f"<tr>{_cells(table, row)}</tr>" for row in table.rows]
    out.append("</tbody>")
    out.append(f"<tfoot><tr>{_cells(table, totals_row(table))}</tr></tfoot>")
    out.append("</table></div>")
    if notes:
        out.append('<ul class="table-notes">')
        out += [f"<li>{escape(note)}</li>" for note in notes]
        out.append("</ul>")
    return out


_VOWELS = frozenset("aeiouyåäöéü")
#: words up to this long never break; longer ones may, between two consonants
_WHOLE = 10


def breakable(text: str) -> str:
    """``text`` with soft hyphens in its long words, so that a narrow column of a printed page breaks
    "ungdomsmottagningar" as "ungdoms-mottagningar" instead of running off the page; short words
    ("Totalt", "Utbildare") stay whole. A soft hyphen is invisible unless the line breaks there."""
    def word(text: str) -> str:
        w = text.rstrip(",.;:)")
        tail = text[len(w):]
        if len(w) <= _WHOLE or not w.isalpha():
            return text
        out, since = [], 0
        for k, ch in enumerate(w):
            if (0 < k < len(w) - 3 and since >= 3 and ch.lower() not in _VOWELS
                    and w[k - 1].lower() not in _VOWELS and w[k + 1].lower() in _VOWELS):
                out.append("\u00ad")
                since = 0
            out.append(ch)
            since += 1
        return "".join(out) + tail

    return " ".join(word(w) for w in text.split(" "))


def _cells(table: Table, row: dict[str, object]) -> str:
    cells: list[str] = []
    first_dimension = True
    for column in table.columns:
        value = row.get(column.key)
        text = escape(cell_text(column, value, thousands=_NBSP, percent_sign=_NBSP + "%"))
        if column.kind == "dimension":
            tag = "th" if first_dimension else "td"
            # county names stay on one line; a course's long title may wrap (its table fits a screen)
            scope = ((' scope="row" class="wrap"' if column.key == "course" else ' scope="row"') if first_dimension
                     else (' class="nowrap"' if column.key == "county" else ""))
            cells.append(f"<{tag}{scope}>{text}</{tag}>")
            first_dimension = False
        elif isinstance(value, Suppressed):
            under = "under " + str(value.threshold)
            meaning = under if value.primary else "andelen bygger på ett värde " + under
            cells.append(f'<td class="num hidden" title="{escape(meaning)}">{text}</td>')
        else:
            cells.append(f'<td class="num">{text}</td>')
    return "".join(cells)
