"""Plain-text rendering for the terminal: aligned columns, wrapped headings, notes below.

A table fits :data:`WIDTH` columns: long measure headings have short forms here (explained below the
table), and long names (target groups, counties) wrap within their column. Colour (bold headings and
totals, dim hidden cells) only when asked, which the CLI does on a terminal.
"""

from __future__ import annotations

import textwrap

from moodle_sync.reports.render._format import as_report, cell_text, split_notes, totals_row
from moodle_sync.reports.table import Column, Report, Suppressed, Table

__all__ = ["to_text"]

_GAP = "  "
#: the terminal width a table fits in
WIDTH = 100
_NOTE_WIDTH = WIDTH
#: short forms of measure headings for the terminal (words short enough to keep the columns narrow)
SHORT_HEADINGS = {  # "~" marks where a word may break (with a hyphen) when its column is narrow
    "Inskrivna där slutförandet följs": "Följda",
    "Genomförda": "Genom~förda",
    "Andel genomförda": "Andel genom~förda",
    "Genomförda, aktuell version": "Aktuell version",
    "Genomförda, äldre version": "Äldre version",
    "Ej genomförda, sista dag passerad": "Efter sista dag",
    "Dags för repetition": "Dags att repe~tera",
}
#: a dimension column is at most this wide when a table has to be split to fit
_SPLIT_DIMENSION = 24
#: a dimension column is never narrower than this (its values wrap at it)
_MIN_DIMENSION = 12
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def to_text(content: Table | Report, *, colour: bool = False) -> str:
    """Render a table, or a report with all its tables, as aligned text ending in a newline.

    Args:
        content: one table, or a report.
        colour: ANSI colour (a terminal only: never in files or pipes).
    """
    report = as_report(content)
    common, own = split_notes(report.tables, header=report.header)
    lines: list[str] = []
    if isinstance(content, Table):
        lines += _heading(content.title, "=", colour)
        lines += _grid(content, colour)
        lines += _notes(content.notes + _legend(content))
        return "\n".join(lines).rstrip() + "\n"

    lines += _heading(report.title, "=", colour)
    if report.generated_on is not None:
        lines.append(f"Skapad {report.generated_on:%Y-%m-%d}")
    for line in report.header:
        lines += textwrap.wrap(line, _NOTE_WIDTH) or [""]
    lines += _notes(common)
    for table, notes in zip(report.tables, own, strict=True):
        lines.append("")
        lines += _heading(table.title, "-", colour)
        lines += _grid(table, colour)
        lines += _notes(notes + _legend(table))
    return "\n".join(lines).rstrip() + "\n"


def _heading(title: str, underline: str, colour: bool) -> list[str]:
    if not title:
        return []
    wrapped = textwrap.wrap(title, WIDTH)
    shown = [f"{_BOLD}{line}{_RESET}" for line in wrapped] if colour else wrapped
    return [*shown, underline * max(len(line) for line in wrapped), ""]


def _legend(table: Table) -> list[str]:
    """What the short headings of this table stand for."""
    used = [(short, c.title) for c in table.columns if c.kind != "dimension"
            and (short := SHORT_HEADINGS.get(c.title, c.title).replace("~", "")) != c.title]
    if not used:
        return []
    return ["Kolumner: " + "; ".join(f"{short} = {full}" for short, full in used) + "."]


def _notes(notes: list[str]) -> list[str]:
    if not notes:
        return []
    lines = ["", "Noter:"]
    for note in notes:
        lines += textwrap.wrap(note, _NOTE_WIDTH, initial_indent="- ", subsequent_indent="  ")
    return lines


def _grid(table: Table, colour: bool = False) -> list[str]:
    """The table as lines at most WIDTH wide: dimension values wrap; a table with more measure
    columns than fit is split into parts, each repeating the dimension columns."""
    columns = table.columns
    body = [[cell_text(c, row.get(c.key)) for c in columns] for row in table.rows]
    total_row = totals_row(table)
    total = [cell_text(c, total_row.get(c.key)) for c in columns]
    hidden = [[isinstance(row.get(c.key), Suppressed) for c in columns] for row in table.rows]

    widths: list[int] = [0] * len(columns)
    headings: list[list[str]] = [[] for _ in columns]
    for i, column in enumerate(columns):
        if column.kind == "dimension":
            continue
        title = SHORT_HEADINGS.get(column.title, column.title)
        value_width = max((len(r[i]) for r in [*body, total]), default=0)
        widths[i] = max(value_width, _narrowest(title))
        headings[i] = _wrap_words(title, widths[i])
    dims = [i for i, c in enumerate(columns) if c.kind == "dimension"]
    measures = [i for i, c in enumerate(columns) if c.kind != "dimension"]
    natural = {i: max([len(columns[i].title)] + [len(r[i]) for r in [*body, total]]) for i in dims}
    gap = len(_GAP)
    room = WIDTH - sum(widths) - gap * (len(columns) - 1)
    if room >= _MIN_DIMENSION * len(dims):
        parts = [measures]
        for n, i in enumerate(sorted(dims, key=lambda d: natural[d])):
            left = len(dims) - n  # the narrowest first: a county keeps its line when it fits
            share = max(room // left, _MIN_DIMENSION)
            fair = max(share, room - _MIN_DIMENSION * (left - 1)) if natural[i] <= room * 0.6 else share
            widths[i] = min(natural[i], fair)
            room -= widths[i]
    else:
        for i in dims:
            widths[i] = min(natural[i], _SPLIT_DIMENSION)
        room = WIDTH - sum(widths[i] + gap for i in dims)
        parts, used = [[]], 0
        for i in measures:
            if parts[-1] and used + gap + widths[i] > room:
                parts.append([])
                used = 0
            parts[-1].append(i)
            used += widths[i] + gap
    for i in dims:
        headings[i] = textwrap.wrap(columns[i].title, widths[i]) or [""]

    lines: list[str] = []
    for n, part in enumerate(parts):
        shown = dims + part
        if len(parts) > 1:
            lines += ([""] if n else []) + [f"(del {n + 1} av {len(parts)})"]
        lines += _part(shown, columns, widths, headings, body, hidden, total, colour)
    return lines


def _part(shown: list[int], columns: list[Column], widths: list[int], headings: list[list[str]],
          body: list[list[str]], hidden: list[list[bool]], total: list[str], colour: bool) -> list[str]:
    def lines_of(cells: list[str], marks: list[bool] | None = None, strong: bool = False) -> list[str]:
        wrapped = {i: (textwrap.wrap(cells[i], widths[i], break_long_words=True) or [""])
                   if columns[i].kind == "dimension" else [cells[i]] for i in shown}
        out = []
        for k in range(max(len(w) for w in wrapped.values())):
            parts = []
            for i in shown:
                piece = wrapped[i][k] if k < len(wrapped[i]) else ""
                text = piece.ljust(widths[i]) if columns[i].kind == "dimension" else piece.rjust(widths[i])
                if colour and piece and marks and marks[i]:
                    text = f"{_DIM}{text}{_RESET}"
                parts.append(text)
            line = _GAP.join(parts).rstrip()
            out.append(f"{_BOLD}{line}{_RESET}" if colour and strong else line)
        return out

    height = max((len(headings[i]) for i in shown), default=1)
    head = []
    for k in range(height):
        cells = []
        for i in shown:
            padded = [""] * (height - len(headings[i])) + headings[i]
            cells.append(padded[k].ljust(widths[i]) if columns[i].kind == "dimension" else padded[k].rjust(widths[i]))
        head.append(_GAP.join(cells).rstrip())
    lines = [f"{_BOLD}{line}{_RESET}" for line in head] if colour else head
    rule = _GAP.join("-" * widths[i] for i in shown)
    lines.append(rule)
    for cells, marks in zip(body, hidden, strict=True):
        lines += lines_of(cells, marks)
    if body:
        lines.append(rule)
    lines += lines_of(total, strong=True)
    return lines


def _narrowest(title: str) -> int:
    """The narrowest a heading can be: its longest word, or piece of a "~"-marked word with its hyphen."""
    return max((max(len(p) + (1 if k < len(w.split("~")) - 1 else 0) for k, p in enumerate(w.split("~")))
                for w in title.split()), default=0)


def _wrap_words(title: str, width: int) -> list[str]:
    """Wrap a heading at spaces, and at "~" (shown as a hyphen) only where a word does not fit whole."""
    lines: list[str] = []

    def put(word: str, glue: bool = True) -> None:
        if lines and glue and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)

    for token in title.split():
        whole = token.replace("~", "")
        if len(whole) <= width or "~" not in token:
            put(whole)
            continue
        pieces = token.split("~")
        for k, piece in enumerate(pieces):
            put(piece + ("-" if k < len(pieces) - 1 else ""), glue=k == 0)
    return lines or [""]
