"""An admin edits the completion report while a pull reads its pages: no page is read by columns it does not have."""

from __future__ import annotations

import pytest

from moodle_sync.completions import pull as pull_module
from moodle_sync.completions.report_setup import CompletionReport, ReportChanged, ReportProblem
from moodle_sync.store.report_pull import ReportPullStore

from .conftest import Site
from .test_bulk_pull import NAME, make_report
from .test_completions import SOC, course_people, run_pull


def test_a_report_edited_while_its_pages_are_read_stops_the_pull_before_it_keeps_the_page(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin deletes the "Course ID number" column after the pull looked at the report's columns, so every column
    after it moves: a page showing that is not read by the columns found before, and the pull says what to do; the
    next pull adds the column again."""
    site.apply()
    report = make_report(site)
    run_pull(site, report_name=NAME)
    prepare = pull_module.prepare_report

    def then_edited(*args: object, **kwargs: object) -> CompletionReport | ReportProblem:
        found = prepare(*args, **kwargs)  # type: ignore[arg-type]
        site.api().delete_report_column(report, tool_column(site, report, "course:idnumber"))
        return found

    monkeypatch.setattr(pull_module, "prepare_report", then_edited)
    before = course_people(site, SOC)
    with pytest.raises(ReportChanged, match="changed while the pull read its pages") as raised:
        run_pull(site, report_name=NAME)
    assert "run the pull again" in str(raised.value)
    assert course_people(site, SOC) == before
    monkeypatch.setattr(pull_module, "prepare_report", prepare)
    again, spy = run_pull(site, report_name=NAME)  # adds the column again and reads the report
    assert again.bulk is not None and again.bulk.rows > 0, again.to_dict()
    assert [p["uniqueidentifier"] for f, p in spy.calls if f == "core_reportbuilder_columns_add"] == ["course:idnumber"]
    assert course_people(site, SOC) == before


def tool_column(site: Site, report: int, uid: str) -> int:
    """The id of a column the tool added to the report."""
    api = site.api()
    store = site.store(api)
    try:
        return ReportPullStore(store).report_columns(report)[0][uid]
    finally:
        store.close()
