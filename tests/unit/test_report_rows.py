"""A page of the completion report as the tool reads it: every row's cells, as Moodle recorded them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.moodle.models import RetrievedReport

CONTRACTS = Path(__file__).parents[1] / "contract"


def recorded_pages(moodle: str) -> list[dict[str, Any]]:
    steps = json.loads((CONTRACTS / f"contract-reportbuilder-{moodle}.json").read_text())["steps"]
    return [s["response"] for s in steps
            if s["wsfunction"] == "core_reportbuilder_retrieve_report" and s["response"].get("data", {}).get("rows")]


@pytest.mark.parametrize("moodle", ["4.5", "4.3"])
def test_each_recorded_row_is_read_as_its_cells_in_order(moodle: str) -> None:
    pages = recorded_pages(moodle)
    assert pages, "the contract records pages with rows"
    for answer in pages:
        page = RetrievedReport.model_validate(answer)
        assert page.data.rows == [row["columns"] for row in answer["data"]["rows"]]
        assert page.data.headers == answer["data"]["headers"]
        assert page.data.totalrowcount == answer["data"]["totalrowcount"]


def test_a_null_cell_stays_null_and_a_row_without_cells_has_none() -> None:
    answer = {"details": {"id": 7}, "data": {"headers": ["Course ID number", "Status"], "totalrowcount": 3,
                                             "rows": [{"columns": ["c-1", None]}, {"columns": None}, {}]}}
    page = RetrievedReport.model_validate(answer)
    assert page.data.rows == [["c-1", None], [], []]


def test_a_page_without_rows_reads_as_empty() -> None:
    page = RetrievedReport.model_validate({"details": {"id": 7}, "data": {"headers": [], "rows": None}})
    assert page.data.rows == [] and page.data.totalrowcount == 0
