"""`roster import` speaks the reader's language: a row's problem in English on the command line, in Swedish
when the locale says Swedish (``LANG=sv_SE.UTF-8``), the same words the portal shows a coordinator."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.commands.exits import EXIT_ERROR

from .conftest import Site, run
from .test_rosters import person, write_roster


def bad_rows(path: Path) -> Path:
    return write_roster(path, [person(1), person(2, **{"Anställningsdatum": "i höstas"}),
                               person(3, **{"Målgrupp": "socialsekretare"})])


@pytest.mark.parametrize(("lang", "said", "unsaid"), [
    ("C.UTF-8", ['row 3, column "Anställningsdatum": \'i höstas\' is not a date in the form YYYY-MM-DD',
                 "write dates as YYYY-MM-DD", 'row 4, column "Målgrupp": \'socialsekretare\' is not a known target '
                 'group (hint: did you mean "socialsekreterare"', "2 problem(s); nothing was written",
                 "hint: fix the rows", "Error: "],
     ["rad", "ÅÅÅÅ", "Fel: "]),
    ("sv_SE.UTF-8", ['rad 3, kolumn "Anställningsdatum": \'i höstas\' är inget datum på formen ÅÅÅÅ-MM-DD',
                     "skriv datum som ÅÅÅÅ-MM-DD", 'rad 4, kolumn "Målgrupp": \'socialsekretare\' är ingen känd '
                     "målgrupp (tips: menar du Socialsekreterare", "2 problem; inget har skrivits",
                     "tips: rätta raderna", "Fel: "],
     ["is not a date", "row 3", "hint:", "did you mean", "known target group", "Error: "]),
])
def test_a_bad_row_is_told_in_the_locales_language(served: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], lang: str, said: list[str],
                                                   unsaid: list[str]) -> None:
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)
    path = bad_rows(tmp_path / "dalarna.csv")
    assert run("roster", "import", "--county", "W", str(path), "--dry-run") == EXIT_ERROR
    err = capsys.readouterr().err
    for words in said:
        assert words in err, err
    for words in unsaid:
        assert words not in err, err
