"""Rows a hub's import held for an administrator reach the administrators in the portal, who adopt them (review
and Bekräfta as their own import) or dismiss them; a hub can do neither, and held rows do not outlive their use."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import requests

from moodle_sync.identity import cohort_idnumber
from moodle_sync.portal import held

from .conftest import Served, get, hidden, person
from .test_portal_access import confirm_action, upload

#: an account made in Moodle by others (CSV upload), in no county: Dalarna's hub may not adopt it
KARIN = ["karin.lund@falun.example.se", "Karin", "Lund", "Falu kommun", "Socialtjänsten", "socialsekreterare",
         "2019-03-01", "EMP-KARIN"]


def w_members(portal: Served) -> set[int]:
    api = portal.site.api()
    [cid] = [c.id for c in api.search_cohorts("tg:") if c.idnumber == cohort_idnumber("socialsekreterare", "W")]
    return api.cohort_members([cid])[cid]


def held_dir(portal: Served) -> Path:
    return portal.site.state_path.parent / "portal" / "held"


def hub_imports_with_held_rows(portal: Served) -> tuple[requests.Session, int, int]:
    """Dalarna's hub imports its list: person 1 (new), Karin (in no county) and the site admin's address."""
    karin = portal.site.emulator.add_user("karin.lund@falun.example.se", "Karin", "Lundqvist-Hemlig",
                                          "karin.lund@falun.example.se", auth="manual")
    [admin] = portal.site.api().users_by_field("email", ["admin@example.se"])
    hub = portal.login(portal.accounts["dalarna"])
    siteadmin = ["admin@example.se", "Site", "Admin", "Falu kommun", "X", "socialsekreterare", "2020-01-01", ""]
    page = upload(hub, portal, "W", [person(1), KARIN, siteadmin], name="w.xlsx")
    assert "väntar på en administratör: e-postadressen" in page.text and "Lundqvist-Hemlig" not in page.text
    done = hub.post(portal.url + confirm_action(page.text), data={"csrf": hidden(page.text, "csrf")}, timeout=120)
    assert "2 av raderna väntar nu på en administratör" in done.text
    return hub, karin, admin.id


def test_a_hubs_held_rows_wait_for_an_administrator_who_adopts_them_by_review_and_bekrafta(portal: Served) -> None:
    hub, karin, siteadmin = hub_imports_with_held_rows(portal)
    assert karin not in w_members(portal) and siteadmin not in w_members(portal)
    admin = portal.login(portal.accounts["admin"])
    home = get(admin, f"{portal.url}/")
    assert "Väntar på en administratör" in home.text and "Dalarnas län" in home.text
    [review] = re.findall(r'action="(/lan/W/personallista/vantande/[^"]+/granska)"', home.text)
    [held_file] = list(held_dir(portal).glob("*.csv"))
    page = admin.post(portal.url + review, data={"csrf": hidden(home.text, "csrf")}, timeout=120)
    # the administrator sees what a hub never does: which accounts are adopted and their current values
    assert "Lundqvist-Hemlig" in page.text and "Befintliga konton som tas över" in page.text
    done = admin.post(portal.url + confirm_action(page.text), data={"csrf": hidden(page.text, "csrf")}, timeout=120)
    assert done.status_code == 200 and "Klart" in done.text
    assert {karin, siteadmin} <= w_members(portal)
    assert "Väntar på en administratör" not in get(admin, f"{portal.url}/").text
    assert not held_file.exists()
    # from then on Karin is Dalarna's: the hub's next list names her and nothing is held
    again = upload(hub, portal, "W", [person(1), KARIN], name="w2.xlsx")
    assert "väntar på en administratör: e-postadressen" not in again.text


def test_an_administrator_can_dismiss_held_rows_and_a_hub_can_neither_review_nor_dismiss_them(
        portal: Served) -> None:
    hub, karin, _siteadmin = hub_imports_with_held_rows(portal)
    admin = portal.login(portal.accounts["admin"])
    home = get(admin, f"{portal.url}/")
    [review] = re.findall(r'action="(/lan/W/personallista/vantande/[^"]+/granska)"', home.text)
    dismiss = review.replace("/granska", "/avvisa")
    for http, county_page in ((hub, "/lan/W/personallista"), (portal.login(portal.accounts["uppsala"]),
                                                                "/lan/C/personallista")):
        token = hidden(get(http, portal.url + county_page).text, "csrf")
        for action in (review, dismiss):
            assert http.post(portal.url + action, data={"csrf": token}, timeout=60,
                             allow_redirects=False).status_code == 403
    dismissed = admin.post(portal.url + dismiss, data={"csrf": hidden(home.text, "csrf")}, timeout=60,
                           allow_redirects=False)
    assert dismissed.status_code == 303
    after = get(admin, portal.url + dismissed.headers["location"]).text
    assert "Väntar på en administratör" not in after
    assert "De väntande raderna är avvisade: inget skrevs för dem." in after, "a change is confirmed"
    assert not list(held_dir(portal).glob("*")) and karin not in w_members(portal)
    assert admin.post(portal.url + review, data={"csrf": hidden(home.text, "csrf")}, timeout=60,
                      allow_redirects=False).status_code == 404


def test_held_rows_nobody_handles_are_deleted_after_thirty_days(portal: Served) -> None:
    hub_imports_with_held_rows(portal)
    [waiting] = portal.db.held_lists()
    created = datetime.datetime.fromisoformat(waiting["created_at"])
    assert held.sweep(portal.db, at=created + held.KEEP - datetime.timedelta(minutes=1)) == 0
    assert Path(waiting["path"]).exists()
    assert held.sweep(portal.db, at=created + held.KEEP + datetime.timedelta(minutes=1)) == 1
    assert not Path(waiting["path"]).exists() and portal.db.held_lists() == []
