"""Charts as inline SVG text, drawn in Python: nothing to fetch, no script, no fonts to load.

A hidden value is never drawn to scale: its bar is a short hatched stub labelled with the marker
("<5" or ".."), so the chart tells no more than the table does.
"""

from __future__ import annotations

import math
import textwrap
from html import escape

from moodle_sync.reports.render._format import UNDEFINED, count_text, percent_number
from moodle_sync.reports.table import Chart, ChartPoint, Suppressed

__all__ = ["chart_svg"]

_WIDTH = 760
_CHAR = 7.0  # a generous average width of a 12px character, to fit labels without measuring text
_BAR = "#2b6cb0"
_GRID = "#d0d7de"
_INK = "#1f2328"
_STUB = 16


def chart_svg(chart: Chart, *, ident: str) -> str:
    """The chart as an ``<svg>`` element; ``ident`` makes its element ids unique in the page."""
    if chart.kind == "columns":
        return _columns(chart, ident)
    return _hbars(chart, ident)


def _open(ident: str, title: str, height: int) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" '
        f'role="img" aria-labelledby="{ident}-title">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<defs><pattern id="{ident}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e5e7eb"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#6b7280" stroke-width="2"/></pattern></defs>',
    ]


def _value_text(chart: Chart, value: float) -> str:
    if chart.unit == "rate":
        return percent_number(value) + "\u00a0%"
    return count_text(int(value), thousands="\u00a0")


def _tick_text(chart: Chart, tick: float) -> str:
    return f"{round(tick * 100)}\u00a0%" if chart.unit == "rate" else count_text(int(tick), thousands="\u00a0")


def _scale(chart: Chart) -> tuple[float, list[float]]:
    """The axis maximum and its ticks: 0–100 % for rates, a round number above the largest count."""
    if chart.unit == "rate":
        return 1.0, [0.0, 0.25, 0.5, 0.75, 1.0]
    numbers = [float(p.value) for p in chart.points if isinstance(p.value, int | float)]
    top = max(numbers, default=0.0)
    if top <= 0:
        return 1.0, [0.0, 1.0]
    raw = top / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = max(next(m * magnitude for m in (1.0, 2.0, 5.0, 10.0) if m * magnitude >= raw), 1.0)
    top = step * math.ceil(top / step)
    return top, [step * k for k in range(int(round(top / step)) + 1)]


def _lines(label: str, width: float) -> list[str]:
    """A label wrapped at spaces to the room it has, whole (never cut short)."""
    room = max(int(width / _CHAR), 4)
    return textwrap.wrap(label, room, break_long_words=False, break_on_hyphens=False) or [""]


def _hidden(point: ChartPoint) -> Suppressed | None:
    return point.value if isinstance(point.value, Suppressed) else None


def _hbars(chart: Chart, ident: str) -> str:
    longest = max((len(p.label) for p in chart.points), default=4)
    label_w = min(340, max(80, math.ceil(longest * _CHAR) + 12))
    value_w = 70
    span = _WIDTH - label_w - value_w - 10
    bar_h, line_h, top = 14, 14, 26
    labels = [_lines(p.label, label_w - 10) for p in chart.points]
    rows = [max(22, len(lines) * line_h + 8) for lines in labels]  # a long label gets more lines, not cut
    height = top + (sum(rows) if rows else 22) + 8
    axis_max, ticks = _scale(chart)
    out = _open(ident, chart.title, height)
    for tick in ticks:
        x = label_w + span * tick / axis_max
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6}" stroke="{_GRID}"/>')
        out.append(f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" font-size="11" fill="{_INK}">'
                   f"{escape(_tick_text(chart, tick))}</text>")
    y = top
    for point, lines, row_h in zip(chart.points, labels, rows, strict=True):
        mid = y + row_h / 2 + 4
        first = mid - (len(lines) - 1) * line_h / 2
        spans = "".join(f'<tspan x="{label_w - 8}" y="{first + k * line_h:.1f}">{escape(line)}</tspan>'
                        for k, line in enumerate(lines))
        out.append(f'<g><title>{escape(point.label)}</title><text class="label" x="{label_w - 8}" '
                   f'y="{first:.1f}" text-anchor="end" font-size="12" fill="{_INK}">{spans}</text></g>')
        y0 = y + (row_h - bar_h) / 2 - 4
        y += row_h
        mark = _hidden(point)
        if mark is not None:
            out.append(f'<rect class="hidden" x="{label_w}" y="{y0 + 4:.1f}" width="{_STUB}" height="{bar_h}" '
                       f'fill="url(#{ident}-hatch)" stroke="#6b7280"/>')
            out.append(f'<text x="{label_w + _STUB + 4}" y="{mid:.1f}" font-size="12" fill="{_INK}">'
                       f"{escape(str(mark))}</text>")
        elif isinstance(point.value, int | float):
            w = span * min(float(point.value), axis_max) / axis_max
            out.append(f'<rect x="{label_w}" y="{y0 + 4:.1f}" width="{w:.1f}" height="{bar_h}" fill="{_BAR}"/>')
            out.append(f'<text x="{label_w + w + 4:.1f}" y="{mid:.1f}" font-size="12" fill="{_INK}">'
                       f"{escape(_value_text(chart, point.value))}</text>")
        else:
            out.append(f'<text x="{label_w + 4}" y="{mid:.1f}" font-size="12" fill="{_INK}">{UNDEFINED}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _columns(chart: Chart, ident: str) -> str:
    left, right, top, plot_h, bottom = 56, 10, 20, 220, 64
    height = top + plot_h + bottom
    n = max(len(chart.points), 1)
    slot = (_WIDTH - left - right) / n
    col_w = max(2.0, slot * 0.7)
    base = top + plot_h
    every = math.ceil(n / 24)  # at most 24 month labels under the axis
    axis_max, ticks = _scale(chart)
    out = _open(ident, chart.title, height)
    for tick in ticks:
        y = base - plot_h * tick / axis_max
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{_WIDTH - right}" y2="{y:.1f}" stroke="{_GRID}"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{_INK}">'
                   f"{escape(_tick_text(chart, tick))}</text>")
    for i, point in enumerate(chart.points):
        x = left + i * slot + (slot - col_w) / 2
        centre = x + col_w / 2
        mark = _hidden(point)
        if mark is not None:
            out.append(f'<rect class="hidden" x="{x:.1f}" y="{base - 14}" width="{col_w:.1f}" height="14" '
                       f'fill="url(#{ident}-hatch)" stroke="#6b7280"/>')
            out.append(f'<text x="{centre:.1f}" y="{base - 18}" text-anchor="middle" font-size="10" '
                       f'fill="{_INK}">{escape(str(mark))}</text>')
        elif isinstance(point.value, int | float):
            h = plot_h * min(float(point.value), axis_max) / axis_max
            out.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{col_w:.1f}" height="{h:.1f}" fill="{_BAR}">'
                       f"<title>{escape(point.label)}: {escape(_value_text(chart, point.value))}</title></rect>")
            if slot >= 22:
                out.append(f'<text x="{centre:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" font-size="10" '
                           f'fill="{_INK}">{escape(_value_text(chart, point.value))}</text>')
        if i % every == 0:
            out.append(f'<text x="{centre:.1f}" y="{base + 14}" text-anchor="end" font-size="11" fill="{_INK}" '
                       f'transform="rotate(-45 {centre:.1f} {base + 14})">{escape(point.label)}</text>')
    out.append(f'<line x1="{left}" y1="{base}" x2="{_WIDTH - right}" y2="{base}" stroke="{_INK}"/>')
    out.append("</svg>")
    return "\n".join(out)
