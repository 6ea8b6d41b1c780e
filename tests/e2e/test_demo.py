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


def test_nobody_the_demo_enrols_today_is_past_their_deadline_today(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo's rosters hold staff employed years ago: enrolled today, they are not late today (issue 10)."""
    with pytest.raises(SystemExit) as e:
        main(["demo"])
    assert e.value.code == 0
    err = capsys.readouterr().err
    table = err[err.index("== 6. report"):]
    heading = next(line for line in table.splitlines() if line.startswith("Län "))
    # a table wider than the terminal comes in parts: the last columns are in the last part's totals row
    total = [line for line in table.splitlines() if line.startswith("Totalt")][-1]
    assert "Inskrivna" in heading and "Totalt" in total
    # the totals row's last two cells: "Ej genomförda, sista dag passerad" and "Dags för repetition"
    assert total.split()[-2:] == ["0", "0"]


@pytest.mark.parametrize("moodle", ["4.5", "4.3"])
def test_the_demo_runs_on_either_moodle_release(moodle: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 20: `demo --moodle 4.3` runs the same round against an emulated 4.3 (4.5 by default), and says which."""
    with pytest.raises(SystemExit) as e:
        main(["demo", "--moodle", moodle])
    assert e.value.code == 0
    err = capsys.readouterr().err
    assert f"(in-memory Moodle {moodle})" in err
    assert "No changes. Moodle matches the specs." in err and "of which writes: 0" in err
