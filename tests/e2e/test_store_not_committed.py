"""The state store holds names and e-mail addresses: it is ignored by git, and moodle-sync warns when it is not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import TOKEN, run

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git on PATH")
ROOT = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_the_projects_gitignore_ignores_the_default_store() -> None:
    if git(ROOT, "rev-parse", "--show-toplevel").returncode != 0:
        pytest.skip("not a git checkout")
    assert git(ROOT, "check-ignore", "-q", ".moodle-sync/state.db").returncode == 0


@pytest.fixture
def work_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert git(tmp_path, "init", "-q").returncode == 0
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOODLE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
    monkeypatch.delenv("MOODLE_SYNC_STATE_PATH", raising=False)
    return tmp_path


def test_warns_when_the_store_is_in_a_work_tree_that_does_not_ignore_it(
        work_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("runs") in (0, 1)  # no store yet is fine: the warning comes first
    err = capsys.readouterr().err
    assert "Warning: the state store .moodle-sync/state.db" in err
    assert "git does not ignore it" in err and ".gitignore" in err


def test_no_warning_once_git_ignores_it(work_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work_tree / ".gitignore").write_text(".moodle-sync/\n", encoding="utf-8")
    assert run("runs") in (0, 1)  # no store yet is fine: the warning comes first
    assert "Warning: the state store" not in capsys.readouterr().err


def test_no_warning_outside_a_work_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOODLE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert run("runs") in (0, 1)  # no store yet is fine: the warning comes first
    assert "Warning: the state store" not in capsys.readouterr().err
