"""A hostile roster upload: refused on the page in Swedish with a 4xx (never a 500 and a traceback in the log),
and read before the sync lock is taken, so reading it never holds up the scheduled syncs or other counties."""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from moodle_sync.writing.synclock import acquire

from .conftest import Served, get, hidden, person, write_xlsx

XXE = '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def with_doctype(path: Path) -> bytes:
    """The workbook at ``path`` with an external entity declared in its worksheet and used in a cell."""
    out = path.with_name("doctype.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = XXE.encode() + data.replace(b"Efternamn1", b"&x;", 1)
            target.writestr(info, data)
    return out.read_bytes()


def post(http: requests.Session, portal: Served, name: str, body: bytes) -> requests.Response:
    page = get(http, f"{portal.url}/lan/W/personallista")
    return http.post(f"{portal.url}/lan/W/personallista", data={"csrf": hidden(page.text, "csrf"), "mode": "replace"},
                     files={"file": (name, body)}, timeout=120)  # 303 to the plan page, followed


@pytest.fixture
def server_log() -> Iterator[list[logging.LogRecord]]:
    """What the server logs while the test runs (uvicorn logs an unhandled exception with its traceback)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn", "starlette", "")]
    for logger in loggers:
        logger.addHandler(handler)
    yield records
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_workbook_with_a_doctype_is_refused_on_the_page_in_swedish_not_with_a_500(
        portal: Served, server_log: list[logging.LogRecord]) -> None:
    http = portal.login(portal.accounts["dalarna"])
    body = with_doctype(write_xlsx(portal.tmp / "lista.xlsx", [person(1)]))
    response = post(http, portal, "lista.xlsx", body)
    assert response.status_code == 422, response.status_code
    assert "Arbetsboken innehåller en DOCTYPE-deklaration (i delen xl/worksheets/sheet1.xml)" in response.text
    assert "spara den igen" in response.text and 'id="bekrafta"' not in response.text
    assert not [r for r in server_log if r.exc_info or r.levelno >= logging.ERROR], \
        [r.getMessage() for r in server_log]
    assert ("anna@dalarna.example.se", "roster-preview") in [(e["who"], e["action"]) for e in portal.db.audit()]


def test_a_preview_reads_the_file_before_it_waits_for_the_sync_lock(portal: Served,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that cannot be read is refused at once even while another sync runs: it was read without the lock."""
    monkeypatch.setattr("moodle_sync.portal.rosters.LOCK_WAIT", 0.0)
    http = portal.login(portal.accounts["dalarna"])
    body = with_doctype(write_xlsx(portal.tmp / "lista.xlsx", [person(1)]))
    with acquire(portal.site.state_path, "apply (scheduled: 02:00)"):
        refused = post(http, portal, "lista.xlsx", body)
        busy = post(http, portal, "lista2.xlsx", write_xlsx(portal.tmp / "lista2.xlsx", [person(1)]).read_bytes())
    assert "DOCTYPE" in refused.text and "En annan synkronisering pågår" not in refused.text
    assert "En annan synkronisering pågår just nu (synkroniseringen av kurserna, schemalagd kl. 02:00)" in busy.text


def test_the_sync_lock_is_free_while_the_file_is_read(portal: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    from moodle_sync.portal import rosters

    free: list[bool] = []
    real = rosters.read_roster_file

    def read_and_look(*args: object, **kwargs: object) -> object:
        try:
            acquire(portal.site.state_path, "test: is the lock free?").release()
            free.append(True)
        except Exception:  # noqa: BLE001 - SyncBusy: the preview holds it
            free.append(False)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rosters, "read_roster_file", read_and_look)
    http = portal.login(portal.accounts["dalarna"])
    response = post(http, portal, "lista.xlsx", write_xlsx(portal.tmp / "lista.xlsx", [person(1)]).read_bytes())
    assert 'id="bekrafta"' in response.text and free == [True]
