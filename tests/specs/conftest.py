"""Fixtures for the spec tests (helpers live in spec_tree.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_tree import make_tree


@pytest.fixture
def spec_root(tmp_path: Path) -> Path:
    """A valid spec tree in ``tmp_path/specs``: two categories, two target groups, courses/a.yaml."""
    return make_tree(tmp_path / "specs")
