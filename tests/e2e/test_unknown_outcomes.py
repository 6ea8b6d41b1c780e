"""Writes that are not idempotent (creates, template imports, messages) whose answer is not Moodle's own:
a reverse proxy that answers 502/503/504 after it forwarded the call, or a lost answer. They are settled
by reading Moodle, never sent again in the same run."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from moodle_sync import clock
from moodle_sync.completions.remind import plan_reminders
from moodle_sync.emulator import Fault
from moodle_sync.jobs.reminders import send_reminders
from moodle_sync.scope import Scope
from moodle_sync.store.completions import CompletionStore
from moodle_sync.writing import settle as settle_module

from .conftest import URL, Site
from .test_apply import assert_no_duplicates
from .test_completions import SEND, SOC, import_county, reminded, run_pull
from .test_rosters import do_import, person, write_roster

IMPORT = "core_course_import_course"
CREATE_USERS = "core_user_create_users"


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settle_module, "LOST_ANSWER_WAIT", 0.05)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_proxy_error_after_the_template_import_ran_imports_it_once_and_plan_is_in_sync(
        site: Site, status: int) -> None:
    site.emulator.faults.add(Fault.gateway(status, IMPORT, ran=True))
    report = site.apply()
    templated = sum(1 for s in site.specs().courses.values() if s.template)
    assert site.emulator.call_counts()[IMPORT] == templated, "the content was copied twice into one course"
    assert report.result.ok
    plan, _ = site.plan()
    assert plan.actions == ()
    assert_no_duplicates(site)


def test_a_proxy_503_before_the_import_ran_leaves_it_to_the_next_run(site: Site, short_wait: None,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settle_module, "LOST_ANSWER_WAIT", 0.05)
    site.emulator.faults.add(Fault.gateway(503, IMPORT, ran=False))
    with pytest.raises(Exception, match="finished partly"):
        site.apply()
    templated = sum(1 for s in site.specs().courses.values() if s.template)
    assert site.emulator.call_counts()[IMPORT] == templated - 1  # not sent again in that run
    assert site.apply().result.ok  # the next run sees an empty course and imports into it
    assert site.emulator.call_counts()[IMPORT] == templated
    assert site.plan()[0].actions == ()


def reminders_due(site: Site, tmp_path: Path) -> list[int]:
    """Three social workers in Dalarna whose SOC deadline is in 10 days, pulled into the store."""
    site.apply()
    recent = (clock.today() - datetime.timedelta(days=80)).isoformat()
    ids = import_county(site, tmp_path, [person(n, **{"Anställningsdatum": recent}) for n in range(3)], "W")
    run_pull(site)
    return ids


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_proxy_error_after_the_messages_went_out_sends_each_one_once(site: Site, tmp_path: Path,
                                                                       status: int) -> None:
    ids = reminders_due(site, tmp_path)
    site.emulator.faults.add(Fault.gateway(status, SEND, ran=True))
    api = site.api()
    store = site.store(api)
    kw: dict[str, Any] = {"before": datetime.timedelta(days=14), "interval": datetime.timedelta(days=30)}
    result = reminded(api, site.specs(), store, scope=Scope(), **kw)
    assert sorted(m.useridto for m in site.emulator.state.messages) == sorted(ids), "a reminder went out twice"
    assert sorted(result.maybe_sent) == sorted(ids) and result.sent == 0
    # recorded: the next run does not send them again within the interval
    again = reminded(api, site.specs(), store, scope=Scope(), **kw)
    assert again.skipped_recent == 3 and len(site.emulator.state.messages) == 3
    assert all(CompletionStore(store).last_reminder(u, SOC) for u in ids)
    store.close()


def test_an_unreadable_answer_to_the_messages_counts_them_as_maybe_sent_never_twice(site: Site,
                                                                                   tmp_path: Path) -> None:
    # message/externallib.php send_instant_messages posts each message before it answers: Moodle answered, so
    # they went out, even when the tool cannot read what it said
    ids = reminders_due(site, tmp_path)
    site.emulator.faults.add(Fault("http", SEND, status=200, body='[{"msgid": "not a number"}]', headers={},
                                   ran=True))
    api = site.api()
    store = site.store(api)
    kw: dict[str, Any] = {"before": datetime.timedelta(days=14), "interval": datetime.timedelta(days=30)}
    result = reminded(api, site.specs(), store, scope=Scope(), **kw)
    assert sorted(result.maybe_sent) == sorted(ids) and result.sent == 0 and result.failures == []
    again = reminded(api, site.specs(), store, scope=Scope(), **kw)
    assert again.skipped_recent == 3 and len(site.emulator.state.messages) == 3
    store.close()


def test_a_reminder_plan_applied_twice_sends_each_message_once(site: Site, tmp_path: Path) -> None:
    ids = reminders_due(site, tmp_path)
    api = site.api()
    store = site.store(api)
    plan = plan_reminders(api, site.specs(), store, before=datetime.timedelta(days=14),
                          interval=datetime.timedelta(days=30), scope=Scope())
    assert send_reminders(api, store, plan).sent == 3
    second = send_reminders(api, store, plan)  # e.g. a saved plan, or two runs from one plan
    assert second.sent == 0 and second.skipped_recent == 3
    assert sorted(m.useridto for m in site.emulator.state.messages) == sorted(ids)
    store.close()


@pytest.mark.parametrize("status", [502, 503, 504])
def test_users_created_behind_a_proxy_error_are_reported_created(site: Site, tmp_path: Path, status: int) -> None:
    site.apply()
    site.emulator.faults.add(Fault.gateway(status, CREATE_USERS, ran=True))
    rows = [person(n) for n in range(4)]
    report = do_import(site, write_roster(tmp_path / "w.csv", rows))
    assert report.outcome is not None
    assert report.outcome.failures == [] and report.outcome.created == 4
    assert site.emulator.call_counts()[CREATE_USERS] == 1
    assert report.outcome.added == 4  # the people were taken on: members and enrolments follow
    assert report.enrolments is not None and report.enrolments.ok


def test_a_user_create_whose_answer_was_lost_waits_for_the_accounts_to_show(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a proxy gives up (504) while Moodle is still creating the accounts: they show a moment later
    site.apply()
    real = site.emulator.handle
    first: list[bytes] = []
    creates = 0

    def proxy(method: str, url: str, headers: Any, body: bytes) -> Any:
        nonlocal creates
        if f"wsfunction={CREATE_USERS}".encode() in body:
            creates += 1
            if not first:
                first.append(body)
                return 504, {"Content-Type": "text/html"}, b"<html>504 Gateway Time-out</html>"
        return real(method, url, headers, body)

    def moodle_finishes(_seconds: float) -> None:
        if len(first) == 1:
            first.append(b"")
            real("POST", f"{URL}/webservice/rest/server.php", {}, first[0])

    monkeypatch.setattr(site.emulator, "handle", proxy)
    monkeypatch.setattr(settle_module.time, "sleep", moodle_finishes)
    report = do_import(site, write_roster(tmp_path / "w.csv", [person(n) for n in range(3)]))
    assert report.outcome is not None and report.outcome.failures == [] and report.outcome.created == 3
    assert creates == 1  # re-read, never re-sent
    assert len(site.api().users_by_field("email", [person(n)["E-post"] for n in range(3)])) == 3
