"""Fixtures that write roster files into the test's temporary directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from roster_files import WriteCsv, WriteXlsx, write_csv_in, write_xlsx_in


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    def write(rows: Sequence[Sequence[str]], **kwargs: Any) -> Path:
        return write_csv_in(tmp_path, rows, **kwargs)
    return write


@pytest.fixture
def write_xlsx(tmp_path: Path) -> WriteXlsx:
    def write(rows: Sequence[Sequence[Any]], **kwargs: Any) -> Path:
        return write_xlsx_in(tmp_path, rows, **kwargs)
    return write
