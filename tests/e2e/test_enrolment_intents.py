"""The tool never forgets an enrolment it made: each enrol call's intent is in the store before the call,
so a run killed right after Moodle ran it, or an answer lost twice, is settled by the next run from what
Moodle lists, and the person is suspended when they later leave the roster."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.emulator import Fault, SimulatedCrash
from moodle_sync.errors import ApplyError
from moodle_sync.writing import settle as settle_module

from .conftest import Site
from .test_rosters import course_id, do_import, enrolment, person, user_id, write_roster

ENROL = "enrol_manual_enrol_users"
SOC = "hrv-socialtjanst@1"


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settle_module, "LOST_ANSWER_WAIT", 0.0)


def leaver_is_suspended(site: Site, tmp_path: Path) -> None:
    """person 1 leaves the roster: the enrolment the tool made is suspended, never left active."""
    soc, leaver = course_id(site, SOC), user_id(site, person(1)["E-post"])
    assert enrolment(site, soc, leaver) is not None and enrolment(site, soc, leaver)[0] == 0  # type: ignore[index]
    do_import(site, write_roster(tmp_path / "left.csv", [person(0)]), allow_mass_removal=True)
    state = enrolment(site, soc, leaver)
    assert state is not None and state[0] == 1, "the leaver's enrolment stayed active"
    api = site.api()
    assert site.store(api).managed_enrolments(SOC)[leaver].suspended
    assert site.plan()[0].actions == ()


def test_a_run_killed_right_after_the_enrol_call_ran_still_owns_the_enrolments(site: Site, tmp_path: Path) -> None:
    site.apply()
    site.emulator.faults.add(Fault(kind="crash", wsfunction=ENROL))  # the call ran; the store was never told
    rows = [person(n) for n in range(2)]
    with pytest.raises(SimulatedCrash):
        do_import(site, write_roster(tmp_path / "w.csv", rows))
    site.emulator.faults.clear()
    plan, _ = site.plan()  # settles the pending intents from Moodle
    # the courses' calls go out side by side: the crash hit one that ran; another may have run before it or
    # never been sent. Whatever Moodle enrolled is the tool's, and only what it did not is planned again.
    enrolled, owned = enrolled_by_email(site, rows), managed_by_email(site, rows)
    assert any(len(people) == len(rows) for people in enrolled.values()), "the crashed call ran"
    assert {c: set(p) for c, p in owned.items() if p} == {c: p for c, p in enrolled.items() if p}
    ids = {user_id(site, r["E-post"]): r["E-post"] for r in rows}
    planned = {a.idnumber: {ids[i.userid] for i in a.enrol} for a in plan.actions}  # type: ignore[attr-defined]
    assert all(not (planned[c] & enrolled[c]) for c in planned), "an enrolment Moodle made is planned again"
    assert all(not a.reactivate and not a.suspend and not a.redate for a in plan.actions)  # type: ignore[attr-defined]
    site.apply()  # the calls the crash stopped
    assert site.plan()[0].actions == ()
    leaver_is_suspended(site, tmp_path)


def test_enrolments_whose_answer_was_lost_twice_are_settled_by_the_next_run(site: Site, tmp_path: Path,
                                                                              no_pause: None) -> None:
    site.apply()
    site.emulator.faults.add(Fault(kind="lost", wsfunction=ENROL, times=None))
    with pytest.raises(ApplyError, match="lost twice"):
        do_import(site, write_roster(tmp_path / "w.csv", [person(n) for n in range(2)]))
    site.emulator.faults.clear()
    leaver_is_suspended(site, tmp_path)  # the import settles them first, then suspends the leaver


def test_an_enrol_call_moodle_refused_is_not_adopted(site: Site, tmp_path: Path) -> None:
    site.apply()
    site.emulator.faults.add(Fault(kind="exception", wsfunction=ENROL, times=None, error={
        "exception": "moodle_exception", "errorcode": "wsnoinstance", "message": "no manual instance"}))
    with pytest.raises(ApplyError):
        do_import(site, write_roster(tmp_path / "w.csv", [person(0)]))
    site.emulator.faults.clear()
    api = site.api()
    assert site.store(api).managed_enrolments(SOC) == {}
    plan, _ = site.plan()
    assert plan.actions and all(a.enrol for a in plan.actions)  # still to do, not taken as done


def managed_by_email(site: Site, rows: list[dict[str, str]]) -> dict[str, dict[str, bool]]:
    """course → e-mail → suspended, as the store knows the enrolments the tool made."""
    api = site.api()
    store = site.store(api)
    ids = {u.id: u.email for u in api.users_by_field("email", [r["E-post"] for r in rows])}
    try:
        return {c: {ids[u]: m.suspended for u, m in store.managed_enrolments(c).items() if u in ids}
                for c in sorted({site.specs().courses[r.course].idnumber for r in site.specs().rules.values()})}
    finally:
        store.close()


def enrolled_by_email(site: Site, rows: list[dict[str, str]]) -> dict[str, set[str]]:
    """course → e-mails of these people Moodle lists as enrolled there."""
    api = site.api()
    emails = {u.id: u.email for u in api.users_by_field("email", [r["E-post"] for r in rows])}
    courses = {c["idnumber"]: c["id"] for c in site.courses()}
    return {idn: {emails[u.id] for u in api.enrolled_users(courses[idn], only_active=False) if u.id in emails}
            for idn in sorted({site.specs().courses[r.course].idnumber for r in site.specs().rules.values()})}


def test_a_roster_import_interrupted_after_each_call_converges_and_forgets_nothing(site: Site,
                                                                                      tmp_path: Path) -> None:
    # each crash run starts from the applied site as it was before the import (restored, not applied again)
    rows = [person(n) for n in range(3)]
    site.apply()
    applied = site.save(tmp_path / "applied.db")
    do_import(site, write_roster(tmp_path / "w.csv", rows))
    total = len(site.emulator.calls) - len(applied.moodle.calls)
    expected = managed_by_email(site, rows)
    assert total > 5 and any(expected.values())

    for n in range(total):
        run = site
        run.restore(applied, tmp_path / f"crash-{n}.db")
        run.emulator.faults.add(Fault(kind="crash", after=n))
        with pytest.raises(SimulatedCrash):
            do_import(run, write_roster(tmp_path / "w.csv", rows))
            pytest.fail(f"no crash after call {n + 1} of {total}")
        run.emulator.faults.clear()
        run.plan()  # the next run, whatever it is, first settles what the killed one left pending
        known = managed_by_email(run, rows)
        for idnumber, emails in enrolled_by_email(run, rows).items():
            assert emails <= set(known[idnumber]), \
                f"crash after import call {n + 1}: Moodle has enrolments in {idnumber} the tool made and forgot"
        do_import(run, write_roster(tmp_path / "w.csv", rows))  # the rerun converges
        users = run.api().users_by_field("email", [r["E-post"] for r in rows])
        assert len(users) == len(rows), f"crash after import call {n + 1}: duplicate or missing people"
        assert managed_by_email(run, rows) == expected, f"crash after import call {n + 1}: an enrolment forgotten"
        assert run.plan()[0].actions == (), f"crash after import call {n + 1}: not converged"


def test_a_pull_interrupted_after_each_call_resumes_to_the_same_result(site: Site, tmp_path: Path) -> None:
    import sqlite3

    from moodle_sync.store.completions import CompletionStore

    from .test_completions import complete, course_ids, now_s, run_pull

    site.apply()
    do_import(site, write_roster(tmp_path / "w.csv", [person(n) for n in range(3)]))
    complete(site, course_ids(site)[SOC], user_id(site, person(0)["E-post"]), [now_s(), now_s()], visit=now_s())
    snapshot = tmp_path / "before-pull.db"

    def copy(src: Path, dst: Path) -> None:
        with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
            a.backup(b)

    def pulled() -> dict[tuple[str, int], tuple[str, bool]]:
        api = site.api()
        store = site.store(api)
        try:
            return {k: (p.status, p.completed_at is not None) for k, p in CompletionStore(store).people().items()}
        finally:
            store.close()

    copy(site.state_path, snapshot)
    before = len(site.emulator.calls)
    run_pull(site)
    total = len(site.emulator.calls) - before
    expected = pulled()
    assert total > 5 and any(done for _, done in expected.values())
    for n in range(total):
        copy(snapshot, site.state_path)
        site.emulator.faults.add(Fault(kind="crash", after=n))
        with pytest.raises(SimulatedCrash):
            run_pull(site, workers=1)
        site.emulator.faults.clear()
        run_pull(site)
        assert pulled() == expected, f"crash after pull call {n + 1}"
