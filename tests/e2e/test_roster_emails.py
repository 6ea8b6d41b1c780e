"""E-mail changes arrive: a person matched by employee id whose e-mail changed gets the new one in Moodle,
or the plan says why not, and the store never records an e-mail Moodle does not have."""

from __future__ import annotations

from pathlib import Path

from moodle_sync.explainer import render_roster_plan
from moodle_sync.rosters.parse import read_roster
from moodle_sync.rosters.planner import plan_roster
from moodle_sync.rosters.view import RosterView
from moodle_sync.scope import Scope

from .conftest import Site
from .test_rosters import apply_roster, do_import, person, write_roster


def moodle_email(site: Site, userid: int) -> str:
    [user] = site.api().users_by_field("id", [str(userid)])
    return user.email


def stored_email(site: Site, userid: int) -> str:
    api = site.api()
    store = site.store(api)
    try:
        return store.persons()[userid].email
    finally:
        store.close()


def userid(site: Site, email: str) -> int:
    [user] = site.api().users_by_field("email", [email])
    return user.id


def test_a_changed_email_is_shown_as_a_field_change_sent_to_moodle_and_recorded(
        applied: Site, tmp_path: Path) -> None:
    do_import(applied, write_roster(tmp_path / "w.csv", [person(1), person(2)]))
    anna = userid(applied, "person1@falun.example.se")
    moved = [person(1, **{"E-post": "anna.nygift@falun.example.se"}), person(2)]
    path = write_roster(tmp_path / "w2.csv", moved)

    dry = do_import(applied, path, dry_run=True)
    [change] = dry.roster.update
    assert change.userid == anna and change.changes == {
        "email": ("person1@falun.example.se", "anna.nygift@falun.example.se")}
    assert "e-post: person1@falun.example.se → anna.nygift@falun.example.se" in render_roster_plan(dry.plan)
    assert dry.roster.to_dict()["update"][0]["changes"]["email"] == change.changes["email"]

    report = do_import(applied, path)
    assert report.outcome is not None and report.outcome.updated == 1 and not report.outcome.failures
    assert moodle_email(applied, anna) == "anna.nygift@falun.example.se"
    assert stored_email(applied, anna) == "anna.nygift@falun.example.se"
    assert not do_import(applied, path, dry_run=True).roster.has_changes  # in step


def test_an_email_another_account_has_in_any_case_is_not_sent_and_the_store_keeps_moodles(
        applied: Site, tmp_path: Path) -> None:
    do_import(applied, write_roster(tmp_path / "w.csv", [person(1), person(2)]))
    ids = [userid(applied, f"person{n}@falun.example.se") for n in (1, 2)]
    applied.emulator.add_user("upptagen", "Annan", "Person", "upptagen@falun.example.se")
    applied.emulator.add_user("versaler", "Tredje", "Person", "Versaler@Falun.example.se")
    path = write_roster(tmp_path / "w2.csv", [person(1, **{"E-post": "upptagen@falun.example.se"}),
                                              person(2, **{"E-post": "versaler@falun.example.se"})])
    writes = applied.emulator.write_calls()
    report = do_import(applied, path)
    for uid, old in zip(ids, ["person1@falun.example.se", "person2@falun.example.se"], strict=True):
        assert moodle_email(applied, uid) == old
        assert stored_email(applied, uid) == old  # never an e-mail Moodle does not have
    assert applied.emulator.write_calls() == writes  # nothing to send
    plan = report.roster
    assert plan.update == [] and [r.row for r, _why in plan.email_held] == [2, 3]
    assert all("another Moodle account already has" in why for _r, why in plan.email_held)
    assert "e-post stays person1@falun.example.se" in render_roster_plan(report.plan)


def test_a_single_sign_on_account_keeps_the_email_its_identity_provider_gives(
        applied: Site, tmp_path: Path) -> None:
    sso = applied.emulator.add_user("anna.sso", "Anna", "Ek", "anna.gammal@falun.example.se", "EMP-0001",
                                    auth="shibboleth")
    report = do_import(applied, write_roster(tmp_path / "w.csv", [person(1)]))
    assert moodle_email(applied, sso) == "anna.gammal@falun.example.se"
    assert stored_email(applied, sso) == "anna.gammal@falun.example.se"
    [(row, why)] = report.roster.email_held
    assert row.row == 2 and "signs in with shibboleth" in why and "identity provider" in why
    assert all("email" not in u.changes for u in report.roster.update)


def test_an_email_moodle_refuses_at_apply_is_a_row_failure_and_the_store_keeps_what_moodle_has(
        applied: Site, tmp_path: Path) -> None:
    do_import(applied, write_roster(tmp_path / "w.csv", [person(1)]))
    anna = userid(applied, "person1@falun.example.se")
    roster = read_roster(write_roster(tmp_path / "w2.csv", [person(1, **{"E-post": "ny@falun.example.se"})]),
                         target_groups={k: g.name for k, g in applied.specs().target_groups.items()})
    api = applied.api()
    store = applied.store(api)
    try:
        plan = plan_roster(api, roster, county="W", scope=Scope(), store=store)
        assert [u.changes for u in RosterView(plan).update] == [
            {"email": ("person1@falun.example.se", "ny@falun.example.se")}]
        applied.emulator.add_user("hann.forst", "Hann", "Först", "Ny@Falun.example.se")  # between plan and apply
        outcome = apply_roster(api, store, plan)
    finally:
        store.close()
    assert [f for f in outcome.failures if "row 2" in f and "useremailduplicate" in f]
    assert moodle_email(applied, anna) == "person1@falun.example.se"
    assert stored_email(applied, anna) == "person1@falun.example.se"
