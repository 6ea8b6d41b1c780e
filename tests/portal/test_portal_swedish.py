"""A county coordinator's walk through the portal over HTTP: every page in Swedish with people and courses by
name (no English message, key, id, path or option), plans they can check (who is added, who leaves, which rows
are skipped and why, a row of another county one of them), reloads that show the page again, a word after
every change, and their history in words."""

from __future__ import annotations

import re

import requests

from .conftest import PASSWORD, Served, get, hidden, person, write_xlsx
from .words import not_for_coordinators, visible_text


def upload(http: requests.Session, portal: Served, rows: list[list[str]], name: str,
           header: list[str] | None = None) -> requests.Response:
    page = get(http, f"{portal.url}/lan/W/personallista")
    path = write_xlsx(portal.tmp / name, rows, header=header)
    return http.post(f"{portal.url}/lan/W/personallista", data={"csrf": hidden(page.text, "csrf"), "mode": "replace"},
                     files={"file": (name, path.read_bytes())}, timeout=120, allow_redirects=False)


def post_form(http: requests.Session, portal: Served, page: str, action_end: str) -> requests.Response:
    action = re.search(rf'action="([^"]*/{action_end})"', page)
    assert action, f"the page has no …/{action_end} form"
    return http.post(portal.url + action.group(1), data={"csrf": hidden(page, "csrf"), "skip_invalid": "ja"},
                     timeout=120, allow_redirects=False)


def shown(page: requests.Response) -> str:
    text = visible_text(page.text)
    assert not_for_coordinators(text) == [], text
    return text


def test_a_coordinator_checks_a_plan_by_name_confirms_it_and_reads_the_history_in_swedish(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    first = upload(http, portal, [person(n) for n in range(1, 6)], "Personallista Dalarna 2026-11.xlsx")
    assert first.status_code == 303, "post/redirect/get: the plan has a page of its own"
    plan = get(http, portal.url + first.headers["location"])
    text = shown(plan)
    assert "Förnamn3 Efternamn3" in text and "Socialsekreterare och biståndsbedömare" in text
    assert "Hedersrelaterat våld och förtryck – socialtjänsten, version 1" in text, "courses by name and version"
    assert get(http, portal.url + first.headers["location"]).text == plan.text, "a reload shows the same plan"
    done = http.post(portal.url + re.search(r'action="([^"]*/bekrafta)"', plan.text).group(1),  # type: ignore[union-attr]
                     data={"csrf": hidden(plan.text, "csrf")}, timeout=120, allow_redirects=False)
    assert done.status_code == 303
    assert "Klart" in shown(get(http, portal.url + done.headers["location"]))
    assert get(http, portal.url + done.headers["location"] + "/bekrafta").status_code == 303, "no 405 on a reload"

    # the next list: person 5 leaves, row 6 has a bad date, row 7 belongs to Uppsala län
    header = ["E-post", "Förnamn", "Efternamn", "Organisation", "Enhet", "Målgrupp", "Anställningsdatum",
              "Anställnings-id", "Län"]
    rows = [[*person(n), "W"] for n in range(1, 5)]
    late = [*person(6), "W"]
    late[6] = "i höstas"
    rows += [late, [*person(7, town="uppsala"), "C"]]
    second = upload(http, portal, rows, "Personallista Dalarna 2026-12.xlsx", header=header)
    refused = get(http, portal.url + second.headers["location"])
    text = shown(refused)
    assert "Filen har 2 ogiltiga rader; inget har skrivits." in text
    assert "hör till Uppsala län, inte Dalarnas län" in text, "another county's row is one more invalid row"
    assert "Personallista Dalarna 2026-12.xlsx" in text and ".xlsx:" not in text
    skipped = post_form(http, portal, refused.text, "granska")
    assert skipped.status_code == 303
    plan = get(http, portal.url + skipped.headers["location"])
    text = shown(plan)
    assert "Lämnar (1)" in text and "Förnamn5 Efternamn5" in text, "who leaves, by name"
    assert "Rader som hoppas över (2)" in text and "i höstas" in text and "Uppsala län" in text
    assert 'id="bekrafta"' in plan.text
    http.post(portal.url + re.search(r'action="([^"]*/bekrafta)"', plan.text).group(1),  # type: ignore[union-attr]
              data={"csrf": hidden(plan.text, "csrf")}, timeout=120)

    # the same list again: nothing to change, nothing to confirm
    again = upload(http, portal, [[*person(n), "W"] for n in range(1, 5)], "igen.xlsx", header=header)
    same = get(http, portal.url + again.headers["location"])
    assert 'id="bekrafta"' not in same.text and "det finns inget att bekräfta" in shown(same)

    history = shown(get(http, f"{portal.url}/lan/W/personallista"))
    assert re.search(r"anna@dalarna\.example\.se laddade upp Personallista Dalarna 2026-12\.xlsx den \d{1,2} "
                     r"(januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december) "
                     r"\d\d:\d\d: 1 lämnar, 2 rader hoppades över", history), history
    assert "laddade upp Personallista Dalarna 2026-11.xlsx" in history and ": 5 nya" in history
    assert "roster-" not in history and "T0" not in history, "no audit rows, no UTC ISO times"


def test_every_county_page_is_swedish_and_a_change_is_confirmed(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    for path in ("/lan/W", "/lan/W/personallista", "/lan/W/rapport", "/lan/W/tillfallen", "/lan/W/forsenade",
                 "/konto/losenord", "/lan/W/personallista/finns-inte"):
        shown(get(http, portal.url + path))
    bad = shown(get(http, f"{portal.url}/lan/W/rapport?period=hösten"))
    assert "”hösten” är ingen period" in bad, "the server explains a bad period in Swedish"

    sessions = get(http, f"{portal.url}/lan/W/tillfallen")
    refused = http.post(f"{portal.url}/lan/W/tillfallen", timeout=60, data={
        "csrf": hidden(sessions.text, "csrf"), "session": "hrv-socialtjanst/falun-2026-03",
        "emails": "ingen@nowhere.example.se"})
    assert refused.status_code == 400 and "ingen@nowhere.example.se</textarea>" in refused.text, "what was typed"

    page = get(http, f"{portal.url}/konto/losenord")
    changed = http.post(f"{portal.url}/konto/losenord", timeout=60, data={
        "csrf": hidden(page.text, "csrf"), "current": PASSWORD, "new": "ett-nytt-långt-lösenord", "again":
        "ett-nytt-långt-lösenord"})
    assert "Lösenordet är bytt. Logga in med det nya." in shown(changed)


def test_past_sessions_are_not_offered(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    course = portal.site.specs_dir / "courses" / "hrv-socialtjanst.yaml"
    text = course.read_text(encoding="utf-8")
    past = re.sub(r"(key: falun-2026-03\n(?:.*\n)*?\s+date: )\d{4}", r"\g<1>2020", text, count=1)
    assert past != text
    course.write_text(past, encoding="utf-8")
    page = get(http, f"{portal.url}/lan/W/tillfallen")
    assert "hrv-socialtjanst/falun-2026-03" not in page.text and "hrv-socialtjanst/borlange-2026-04" in page.text


def test_the_person_list_has_swedish_headings_and_values_and_names_people_and_courses(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    first = upload(http, portal, [person(n) for n in range(1, 4)], "lista.xlsx")
    plan = get(http, portal.url + first.headers["location"])
    http.post(portal.url + re.search(r'action="([^"]*/bekrafta)"', plan.text).group(1),  # type: ignore[union-attr]
              data={"csrf": hidden(plan.text, "csrf")}, timeout=120)
    portal.pull()
    response = get(http, f"{portal.url}/lan/W/personer.csv")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    heading, *rows = text.splitlines()
    assert heading.startswith("Förnamn;Efternamn;E-post;Organisation;Målgrupper;Kurs;Version;Registrering")
    assert rows and all(";aktiv;" in r for r in rows)
    assert any(r.startswith("Förnamn2;Efternamn2;person2@falun.example.se;") for r in rows)
    assert "Hedersrelaterat våld och förtryck – socialtjänsten" in text
    assert "Socialsekreterare och biståndsbedömare" in text
    assert not_for_coordinators(text) == []


def test_the_administrators_status_names_the_portal_user_who_acted_and_a_manual_pull_as_theirs(
        portal: Served) -> None:
    from moodle_sync.config import load_settings
    from moodle_sync.portal.config import ScheduleConfig
    from moodle_sync.portal.scheduler import Scheduler
    from moodle_sync.portal.site import Site

    from .conftest import TOKEN

    http = portal.login(portal.accounts["dalarna"])
    first = upload(http, portal, [person(1)], "lista.xlsx")
    plan = get(http, portal.url + first.headers["location"])
    http.post(portal.url + re.search(r'action="([^"]*/bekrafta)"', plan.text).group(1),  # type: ignore[union-attr]
              data={"csrf": hidden(plan.text, "csrf")}, timeout=120)
    sync = Scheduler(Site(load_settings({"token": TOKEN}, config_path=portal.config)), portal.db, ScheduleConfig())
    assert sync.run("pull", f"started by {portal.accounts['admin']}") == "done"
    store = portal.store()
    try:
        runs = {r["command"]: r["user"] for r in store.runs(20)}
    finally:
        store.close()
    assert runs["roster import W"] == "anna@dalarna.example.se (portal)", runs
    assert runs["pull (portal)"] == "admin@myndighet.example.se (portal)", "a manual pull is not 'scheduled'"
    admin = portal.login(portal.accounts["admin"])
    status = visible_text(get(admin, f"{portal.url}/status").text)  # an administrator reads the runs as recorded
    assert "anna@dalarna.example.se (portal)" in status and "admin@myndighet.example.se" in status


def test_every_row_problem_of_an_upload_is_told_in_swedish_without_keys_or_options(portal: Served) -> None:
    """The library's own words for a row (a misspelt target group, a bad date, a duplicate, another county, an
    e-mail with a space, a name too long) reach the page in Swedish, the target group by its name."""
    http = portal.login(portal.accounts["dalarna"])
    header = ["E-post", "Förnamn", "Efternamn", "Organisation", "Enhet", "Målgrupp", "Anställningsdatum",
              "Anställnings-id", "Län"]
    rows = [[*person(1), "W"], [*person(2, group="socialsekretare"), "W"], [*person(3), "W"],
            [*person(4, town="uppsala"), "C"], [*person(5), "W"], [*person(6), "W"], [*person(7), "W"]]
    rows[2][6] = "i höstas"
    rows[4][0] = "person 5@falun.example.se"
    rows[5][1] = "F" * 101
    rows[6][0] = rows[0][0]
    refused = get(http, portal.url + upload(http, portal, rows, "lista.xlsx", header=header).headers["location"])
    text = shown(refused)
    for words in ("menar du Socialsekreterare och biståndsbedömare?", "är ingen känd målgrupp",
                  "är inget datum på formen ÅÅÅÅ-MM-DD", "skriv datum som ÅÅÅÅ-MM-DD",
                  "hör till Uppsala län, inte Dalarnas län", "den innehåller ett mellanslag",
                  "är 101 tecken lång; Moodle sparar högst 100", "finns också på rad 8"):
        assert words in text.replace("\n", " "), (words, text)


def test_the_history_names_the_coordinator_by_the_name_their_account_was_given(portal: Served) -> None:
    """Issue 21: "Karin Ek laddade upp …", the name given with `portal user add --name`, not the login address."""
    from click.testing import CliRunner

    from moodle_sync.cli import cli

    made = CliRunner().invoke(cli, ["portal", "user", "add", "--hub", "dalarna", "--email", "karin@dalarna.example.se",
                                    "--name", "Karin Ek", "--password-stdin", "--config", str(portal.config)],
                              input=PASSWORD + "\n" + PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    listed = CliRunner().invoke(cli, ["portal", "user", "list", "--config", str(portal.config)])
    assert "karin@dalarna.example.se (Karin Ek): hub dalarna (W)" in listed.output
    http = portal.login("karin@dalarna.example.se")
    assert upload(http, portal, [person(n) for n in range(1, 3)], "Lista.xlsx").status_code == 303
    history = shown(get(http, f"{portal.url}/lan/W/personallista"))
    assert "Karin Ek laddade upp Lista.xlsx den" in history and "karin@dalarna" not in history
