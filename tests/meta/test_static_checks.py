"""ruff and mypy (strict) as part of the suite: `pytest -n auto` runs them beside the other tests instead of one
after another in their own environments (benchmarks/README.md, "Test suite time"). Each fails with the checker's own
report, file and line first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: what each checker reads: the package, the tests and benchmarks for ruff; the package for mypy (pyproject.toml
#: holds both configurations)
CHECKS = {
    "ruff": [sys.executable, "-m", "ruff", "check", "--no-cache", "moodle_sync", "tests", "benchmarks", "cli.py"],
    "mypy": [sys.executable, "-m", "mypy", "moodle_sync"],
}


@pytest.mark.parametrize("checker", sorted(CHECKS))
def test_the_code_passes_the_checker(checker: str) -> None:
    done = subprocess.run(CHECKS[checker], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{checker} found problems:\n{done.stdout}{done.stderr}"
