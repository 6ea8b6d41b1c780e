"""One sync at a time: apply, pull and roster import on the command line take the lock the portal's scheduler
takes (moodle_sync/writing/synclock.py), and refuse, writing nothing, while another holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.writing.synclock import acquire

from .conftest import Site, run


def test_apply_pull_and_roster_import_refuse_while_another_sync_runs(served: Site, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    roster = tmp_path / "w.csv"
    roster.write_text("E-post;Förnamn;Efternamn;Organisation;Målgrupp\n"
                      "a@falun.example.se;A;B;Falu kommun;socialsekreterare\n", encoding="utf-8")
    lock = acquire(served.state_path, "pull (scheduled: 02:30)")
    try:
        for args in (["apply", "--yes"], ["pull"], ["roster", "import", "--county", "W", str(roster), "--yes"]):
            assert run(*args) == 1, args
            assert "another sync is running (pull (scheduled: 02:30)" in capsys.readouterr().err
        assert [c for c in served.courses() if c["idnumber"].endswith("@1")] == [], "nothing was applied"
    finally:
        lock.release()
    assert run("apply", "--yes") == 0
    assert run("pull") == 0, "the lock is released when each command ends"
