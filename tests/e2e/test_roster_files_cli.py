"""`roster import` given a hostile file: one line naming the file and what to do, exit 1, at once; never a
problem "it did not foresee", never a wait (a FIFO) and never the sync lock held while the file is read."""

from __future__ import annotations

import contextlib
import os
import threading
import zipfile
from pathlib import Path

import openpyxl
import pytest

from moodle_sync.commands.exits import EXIT_ERROR
from moodle_sync.writing.synclock import acquire

from .conftest import Site, run

HEADER = ["E-post", "Förnamn", "Efternamn", "Organisation", "Målgrupp"]
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY l0 "lollollollol">'
          + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)) + "]>")


def doctype_workbook(path: Path) -> Path:
    """A roster workbook whose worksheet declares a billion-laughs entity and uses it in a cell."""
    plain = path.with_name("plain.xlsx")
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(["a@falun.example.se", "Anna", "Berg", "Falu kommun", "socialsekreterare"])
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = LAUGHS.encode() + data.replace(b"Berg", b"&l9;", 1)
            target.writestr(info, data)
    return path


def test_a_workbook_with_a_doctype_is_refused_in_one_line_naming_the_file_and_part(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = doctype_workbook(tmp_path / "dalarna.xlsx")
    assert run("roster", "import", "--county", "W", str(path), "--dry-run") == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("Error: dalarna.xlsx: the workbook contains a DOCTYPE (in its part "
                          "xl/worksheets/sheet1.xml)")
    assert "save it again" in err and "did not foresee" not in err and "Traceback" not in err


def test_the_file_is_read_before_the_sync_lock_is_taken(served: Site, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = doctype_workbook(tmp_path / "dalarna.xlsx")
    with acquire(served.state_path, "pull (scheduled: 02:30)"):
        assert run("roster", "import", "--county", "W", str(path), "--yes") == EXIT_ERROR
    err = capsys.readouterr().err
    assert "contains a DOCTYPE" in err and "another sync is running" not in err


def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(served: Site, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "dalarna.csv"
    os.mkfifo(fifo)
    done = threading.Event()

    def let_a_waiting_reader_go() -> None:  # so that a command that did open it fails this test instead of hanging
        if not done.wait(20):
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    helper = threading.Thread(target=let_a_waiting_reader_go, daemon=True)
    helper.start()
    try:
        code = run("roster", "import", "--county", "W", str(fifo), "--dry-run")
    finally:
        done.set()
        helper.join()
    err = capsys.readouterr().err
    assert code == EXIT_ERROR and f"Error: {fifo}: is a named pipe (FIFO), not a roster file" in err
    assert served.emulator.write_calls() == 0
