"""Make a report from the state store: aggregate (counts randomly rounded) or, with personal data,
person rows within the caller's scope – each such export logged."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Sequence
from pathlib import Path

from moodle_sync import clock
from moodle_sync.completions.facts import build_facts, labels_for
from moodle_sync.errors import ConfigError
from moodle_sync.reports import PRESETS, CompletionFact, build_table, round_tables, to_csv, to_html, to_text, to_xlsx
from moodle_sync.reports.render._format import inert
from moodle_sync.reports.table import Report, Table
from moodle_sync.scope import Scope
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.completions import CompletionStore
from moodle_sync.store.db import StateStore

_PERIOD_HINT = ("write a calendar year (2026), quarter (2026-Q2) or month (2026-06): reports are cut only at "
                "those, so that no two reports differ by a few days whose small counts subtraction would show")


def parse_period(text: str | None) -> tuple[datetime.date, datetime.date] | None:
    """``2026`` → the calendar year, ``2026-Q2`` → April–June, ``2026-06`` → June; None → all time.

    Raises:
        ConfigError: anything else, such as a range of days.
    """
    if not text:
        return None
    if m := re.fullmatch(r"(\d{4})", text):
        year = int(m.group(1))
        return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", text):
        year, quarter = int(m.group(1)), int(m.group(2))
        return datetime.date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter)
    if (m := re.fullmatch(r"(\d{4})-(\d{2})", text)) and 1 <= int(m.group(2)) <= 12:
        year, month = int(m.group(1)), int(m.group(2))
        return datetime.date(year, month, 1), _month_end(year, month)
    raise ConfigError(f"{text!r} is not a report period", key="--period", hint=_PERIOD_HINT)


def _month_end(year: int, month: int) -> datetime.date:
    following = datetime.date(year + 1, 1, 1) if month == 12 else datetime.date(year, month + 1, 1)
    return following - datetime.timedelta(days=1)


def make_report(specs: SpecSet, store: StateStore, *, scope: Scope, preset: str | None, dimensions: Sequence[str],
                period: str | None, fmt: str, out: str | None, threshold: int = 5, minimum_threshold: int = 5,
                personal_data: bool = False, today: datetime.date | None = None, colour: bool = False) -> str | None:
    """Render the report; returns text for the terminal, or None when it was written to ``out``.

    Raises:
        ConfigError: a bad period or format, or a hub asking for a threshold below ``minimum_threshold``.
    """
    today = today or clock.today()
    if scope.is_hub and threshold < minimum_threshold:
        raise ConfigError(f"hub {scope.name!r} may not lower the threshold below {minimum_threshold}, "
                          f"not to {threshold}", key="--threshold",
                          hint=f"leave --threshold out, or give {minimum_threshold} or more (report_threshold in "
                               "moodle-sync.toml sets the minimum)")
    if fmt in {"xlsx", "html"} and not out:
        raise ConfigError(f"--format {fmt} needs --out FILE")
    if personal_data and fmt not in {"table", "csv"}:
        # person rows are only ever written as CSV: refuse rather than put CSV in a .xlsx/.html file
        raise ConfigError(f"--personal-data is written as CSV, not {fmt}", key="--format",
                          hint="use --format csv (or leave --format out)")
    facts = build_facts(specs, store, scope, kept=not personal_data)  # counts include the people purged
    if personal_data:
        return _personal(specs, store, scope, facts, out)
    span = parse_period(period)
    labels = labels_for(specs, scope)
    secret = CompletionStore(store).rounding_secret()
    document: Table | Report
    if preset:
        if preset == "redovisning":
            if span is None or not re.fullmatch(r"\d{4}", period or ""):
                raise ConfigError("the redovisning preset needs --period YEAR", key="--period")
            document = PRESETS[preset](facts, year=span[0].year, labels=labels, threshold=threshold, as_of=today,
                                       secret=secret)
        else:
            document = PRESETS[preset](facts, labels=labels, as_of=today, period=span, threshold=threshold,
                                       secret=secret)
    else:
        table = build_table(facts, dimensions=list(dimensions), as_of=today, period=span, labels=labels)
        document = round_tables([table], secret=secret, threshold=threshold)[0]
    if fmt == "table":
        text = to_text(document)
        if out:
            Path(out).write_text(text + "\n", encoding="utf-8")
            return None
        if colour:  # a terminal: the same table, coloured
            return to_text(document, colour=True)
        return text
    if fmt == "csv":
        if out:
            to_csv(document, out)
            return None
        buf = io.StringIO()
        to_csv(document, buf)
        return buf.getvalue()
    assert out is not None
    (to_xlsx if fmt == "xlsx" else to_html)(document, out)
    return None


COLUMNS = ["userid", "email", "county", "target_groups", "organisation", "course", "version", "status",
           "enrolled_since", "completed_on", "completed_source", "deadline", "deadline_kind"]


def _personal(specs: SpecSet, store: StateStore, scope: Scope, facts: list[CompletionFact],
              out: str | None) -> str | None:
    persons = store.persons()
    rows = [[f.person, persons[f.person].email if f.person in persons else "", f.county or "",
             " ".join(f.target_groups), f.organisation, f.course_key, f.major, f.status,
             f.enrolled_since.isoformat() if f.enrolled_since else "", f.completed_on.isoformat() if f.completed_on
             else "", f.completed_source or "", f.deadline.isoformat() if f.deadline else "", f.deadline_kind or ""]
            for f in facts]
    CompletionStore(store).log_personal_export(scope=scope.county or "all counties",
                                               what=f"person-level completions -> {out or 'stdout'}", rows=len(rows))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(COLUMNS)
    writer.writerows([[inert(str(cell)) for cell in row] for row in rows])
    if out:
        Path(out).write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
        return None
    return buf.getvalue()
