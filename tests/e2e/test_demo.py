from __future__ import annotations

import pytest

from moodle_sync.cli import main


def test_demo_runs_to_the_end_and_converges(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["demo"])
    assert e.value.code == 0
    err = capsys.readouterr().err
    assert "== 4. plan again" in err
    assert "No changes. Moodle matches the specs." in err
    assert "of which writes: 0" in err
