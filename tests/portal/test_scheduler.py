"""The scheduled sync: apply when the specs change, pull at set times, one run at a time under the lock the
command line takes, and a failed run recorded, shown and sent to the named admins as a Moodle message."""

from __future__ import annotations

import datetime
from pathlib import Path

import requests
from e2e.conftest import TOKEN

from moodle_sync.config import load_settings
from moodle_sync.emulator import Fault
from moodle_sync.emulator.server import STOP_POLL
from moodle_sync.portal.app import create_app
from moodle_sync.portal.config import ScheduleConfig, load_portal_config
from moodle_sync.portal.scheduler import TZ, Scheduler, next_time
from moodle_sync.portal.site import Site
from moodle_sync.writing.synclock import acquire

from .conftest import Served, get


def scheduler(portal: Served, **config: object) -> Scheduler:
    settings = load_settings({"token": TOKEN}, config_path=portal.config)
    return Scheduler(Site(settings), portal.db, ScheduleConfig(**config))  # type: ignore[arg-type]


def runs(portal: Served) -> list[dict[str, object]]:
    store = portal.store()
    try:
        return store.runs(50)
    finally:
        store.close()


def test_next_time_is_the_next_of_the_days_times_in_stockholm() -> None:
    times = [datetime.time(2, 30), datetime.time(18, 0)]
    at = datetime.datetime(2026, 3, 28, 23, 0, tzinfo=TZ)
    assert next_time(times, at) == datetime.datetime(2026, 3, 29, 2, 30, tzinfo=TZ)
    assert next_time(times, datetime.datetime(2026, 3, 29, 2, 30, tzinfo=TZ)) == \
        datetime.datetime(2026, 3, 29, 18, 0, tzinfo=TZ)
    assert next_time([], at) is None


def test_specs_that_change_are_applied_once_and_a_failure_is_recorded_and_sent(portal: Served) -> None:
    sync = scheduler(portal, apply_on_change=True, notify_moodle_users=["admin"])
    sync.tick()
    assert portal.db.scheduled() == [], "the specs the fixture applied are in Moodle already: nothing to do"

    portal.site.edit_course("hrv-socialtjanst", title="Hedersrelaterat våld – socialtjänsten (ny titel)")
    sync.tick()
    [applied] = portal.db.scheduled()
    assert (applied["job"], applied["reason"], applied["status"]) == ("apply", "the specs changed", "done")
    courses = {c["idnumber"]: c for c in portal.site.courses()}
    assert courses["hrv-socialtjanst@1"]["fullname"].endswith("(ny titel)")
    sync.tick()
    assert len(portal.db.scheduled()) == 1, "unchanged specs are not applied again"

    broken = next((portal.site.specs_dir / "courses").glob("*.yaml"))
    broken.write_text(broken.read_text(encoding="utf-8") + "\n  : [unbalanced\n", encoding="utf-8")
    sync.tick()
    failed = portal.db.scheduled()[0]
    assert failed["status"] == "failed" and broken.name in failed["detail"]
    assert failed["notified"] == "Moodle message to admin"
    messages = [m for m in portal.site.emulator.state.messages if "slutade med failed" in m.text]
    assert len(messages) == 1 and TOKEN not in messages[0].text
    assert any(r["command"] == "apply (scheduled)" and r["status"] == "failed" for r in runs(portal))
    sync.tick()
    assert len(portal.db.scheduled()) == 2, "a broken spec is reported once, not at every look"

    # the status page shows it to an admin
    admin = portal.login(portal.accounts["admin"])
    page = get(admin, f"{portal.url}/status").text
    assert "kursspecifikationerna ändrades" in page and "status-failed" in page and "Moodle message to admin" in page


def test_a_scheduled_run_waits_while_another_sync_holds_the_lock(portal: Served) -> None:
    sync = scheduler(portal, pull_at=["02:30"])
    held = acquire(portal.site.state_path, "apply by someone on the command line")
    try:
        assert sync.run("pull", "scheduled 02:30") == "busy"
        assert "apply by someone on the command line" in portal.db.scheduled()[0]["detail"]
    finally:
        held.release()
    assert [job for job, _ in sync.due()] == ["pull"], "a busy run is tried again at the next look"
    assert sync.run("pull", "scheduled 02:30") == "done"
    assert any(r["command"] == "pull (scheduled)" and r["status"] == "done" for r in runs(portal))


def test_pull_runs_at_its_time_of_day(portal: Served) -> None:
    now = [datetime.datetime(2026, 3, 10, 2, 0, tzinfo=TZ)]
    settings = load_settings({"token": TOKEN}, config_path=portal.config)
    sync = Scheduler(Site(settings), portal.db, ScheduleConfig(pull_at=["02:30"]), now=lambda: now[0])
    assert sync.due() == []
    now[0] = datetime.datetime(2026, 3, 10, 2, 31, tzinfo=TZ)
    assert sync.due() == [("pull", "scheduled 02:30")]
    assert sync.due() == [], "once a night"
    assert sync.next_runs() == {"pull": "2026-03-11 02:30", "purge": "2026-03-10 03:45"}


def test_a_hub_cannot_see_the_status_page_nor_start_a_run(portal: Served) -> None:
    hub = portal.login(portal.accounts["dalarna"])
    page = get(hub, f"{portal.url}/lan/W")
    assert get(hub, f"{portal.url}/status").status_code == 403
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert hub.post(f"{portal.url}/status/kor/apply", data={"csrf": csrf}, timeout=30,
                    allow_redirects=False).status_code == 403
    assert isinstance(hub, requests.Session) and Path(portal.config).exists()


class _SmtpSink:
    """A loopback SMTP server that keeps what it is sent (just enough of RFC 5321 for smtplib)."""

    def __init__(self) -> None:
        import socketserver
        import threading

        self.messages: list[str] = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 sink ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line.decode("ascii", "replace").strip().split(" ")[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.wfile.write(b"250 sink\r\n")
                    elif verb == "DATA":
                        self.wfile.write(b"354 go on\r\n")
                        body = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b""):
                            body.append(data.decode("utf-8", "replace"))
                        sink.messages.append("".join(body))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:  # MAIL, RCPT, RSET, NOOP
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": STOP_POLL}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_failed_run_is_e_mailed_to_the_named_admins(portal: Served) -> None:
    sink = _SmtpSink()
    try:
        sync = scheduler(portal, apply_on_change=True, notify_emails=["lms-admin@example.se"],
                         smtp_host="127.0.0.1", smtp_port=sink.port, smtp_from="moodle-sync@example.se")
        broken = next((portal.site.specs_dir / "courses").glob("*.yaml"))
        broken.write_text(broken.read_text(encoding="utf-8") + "\n  : [unbalanced\n", encoding="utf-8")
        sync.tick()
    finally:
        sink.close()
    failed = portal.db.scheduled()[0]
    assert failed["status"] == "failed" and failed["notified"] == "e-mailed lms-admin@example.se"
    [mail] = sink.messages
    assert "To: lms-admin@example.se" in mail and "Subject: moodle-sync: apply failed" in mail
    assert "slutade med failed" in mail and broken.name in mail and TOKEN not in mail


def test_an_e_mail_that_cannot_be_sent_is_said_on_the_run_not_hidden(portal: Served) -> None:
    sink = _SmtpSink()
    port = sink.port
    sink.close()  # nothing listens there any more
    sync = scheduler(portal, apply_on_change=True, notify_emails=["lms-admin@example.se"],
                     smtp_host="127.0.0.1", smtp_port=port)
    broken = next((portal.site.specs_dir / "courses").glob("*.yaml"))
    broken.write_text(broken.read_text(encoding="utf-8") + "\n  : [unbalanced\n", encoding="utf-8")
    sync.tick()
    failed = portal.db.scheduled()[0]
    assert failed["status"] == "failed" and str(failed["notified"]).startswith("e-mail not sent")


def test_a_notice_whose_answer_was_lost_is_said_as_maybe_sent_and_not_sent_again(portal: Served) -> None:
    sync = scheduler(portal, apply_on_change=True, notify_moodle_users=["admin"])
    portal.site.emulator.faults.add(Fault(kind="lost", wsfunction="core_message_send_instant_messages"))
    broken = next((portal.site.specs_dir / "courses").glob("*.yaml"))
    broken.write_text(broken.read_text(encoding="utf-8") + "\n  : [unbalanced\n", encoding="utf-8")
    sync.tick()
    failed = portal.db.scheduled()[0]
    assert failed["status"] == "failed"
    assert "may have been sent" in failed["notified"], failed["notified"]  # it was: the call ran, its answer lost
    assert len([m for m in portal.site.emulator.state.messages if "slutade med failed" in m.text]) == 1


def start_serving(portal: Served) -> None:
    """What `moodle-sync serve` does as it starts, as a new process on the same data directory."""
    settings = load_settings({"token": TOKEN}, config_path=portal.config)
    portal_config, schedule = load_portal_config(portal.config)
    create_app(settings, portal_config, schedule, scheduler=False).state.portal.db.close()


def test_a_scheduled_run_left_running_by_a_killed_serve_shows_as_interrupted_after_a_restart(portal: Served) -> None:
    left = portal.db.start_scheduled("apply", "scheduled 06:00")  # and then the process was killed (kill -9)
    with acquire(portal.site.state_path, "apply (another serve process)"):
        start_serving(portal)  # a sync runs elsewhere: the row may be its own, so it is left as it is
    assert portal.db.scheduled()[0]["status"] == "running"
    start_serving(portal)
    [row] = [r for r in portal.db.scheduled() if r["id"] == left]
    assert row["status"] == "interrupted" and row["finished_at"]
    assert row["detail"].startswith("avbruten: servern startades om")
    page = get(portal.login(portal.accounts["admin"]), f"{portal.url}/status")
    assert '<td class="status-interrupted">avbruten</td>' in page.text
    assert "avbruten: servern startades om" in page.text
    assert '<td class="status-running">' not in page.text


def test_a_scheduled_run_closes_a_row_a_killed_process_left_running(portal: Served) -> None:
    left = portal.db.start_scheduled("pull", "scheduled 02:30")
    scheduler(portal).run("pull", "started by admin")
    statuses = {r["id"]: r["status"] for r in portal.db.scheduled()}
    assert statuses[left] == "interrupted" and "running" not in statuses.values()
