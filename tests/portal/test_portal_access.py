"""Who may do what, checked on the server for every request: logged-out and CSRF-less requests are refused,
another county's hub cannot see or change a county by any URL, logins are rate-limited, the token and
password never reach a page, and every upload, confirmation and download is in the audit log."""

from __future__ import annotations

import re

import argon2
import pytest
import requests
from e2e.conftest import TOKEN

from moodle_sync.portal import auth
from moodle_sync.writing.synclock import acquire

from .conftest import PASSWORD, Served, get, hidden, person, write_xlsx

COUNTY_PAGES = ["/lan/W", "/lan/W/personallista", "/lan/W/rapport", "/lan/W/rapport.csv", "/lan/W/rapport.xlsx",
                "/lan/W/rapport.html", "/lan/W/personer.csv", "/lan/W/forsenade", "/lan/W/tillfallen"]


def upload(http: requests.Session, portal: Served, county: str, rows: list[list[str]], name: str = "lista.xlsx",
           csrf: str | None = None) -> requests.Response:
    page = get(http, f"{portal.url}/lan/{county}/personallista")
    token = hidden(page.text, "csrf") if csrf is None else csrf
    path = write_xlsx(portal.tmp / name, rows)
    return http.post(f"{portal.url}/lan/{county}/personallista", data={"csrf": token, "mode": "replace"},
                     files={"file": (name, path.read_bytes())}, timeout=120)  # 303 to the plan page, followed


def confirm_action(page: str) -> str:
    match = re.search(r'action="([^"]*/bekrafta)"', page)
    assert match, "the page has no Bekräfta form"
    return match.group(1)


def people(portal: Served, emails: list[str]) -> list[str]:
    return [u.email for u in portal.site.api().users_by_field("email", emails)]


def test_healthz_answers_without_login_and_every_other_page_needs_a_session(portal: Served) -> None:
    anonymous = requests.Session()
    health = get(anonymous, f"{portal.url}/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    for path in ["/", "/status", "/logg", "/konto/losenord", *COUNTY_PAGES, "/lan/C/rapport"]:
        response = get(anonymous, portal.url + path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    for path in ["/lan/W/personallista", "/lan/W/tillfallen", "/status/kor/apply", "/logout",
                 "/lan/W/personallista/x/bekrafta"]:
        assert anonymous.post(portal.url + path, data={"csrf": "x"}, timeout=30,
                              allow_redirects=False).status_code == 403, path
    # a forged cookie is no session
    anonymous.cookies.set("ms_session", "forged.value.sig")
    assert get(anonymous, f"{portal.url}/lan/W").status_code == 303


def test_a_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    for token in ["", "not-the-token"]:
        response = upload(http, portal, "W", [person(1)], csrf=token)
        assert response.status_code == 403 and "CSRF" in response.text
    assert not any(e["action"] == "roster-upload" for e in portal.db.audit())
    assert [e for e in portal.db.audit() if e["action"] == "csrf-refused"]
    # a real preview cannot be confirmed without the token either
    preview = upload(http, portal, "W", [person(1)])
    action = confirm_action(preview.text)
    assert http.post(portal.url + action, data={}, timeout=60, allow_redirects=False).status_code == 403
    assert people(portal, ["person1@falun.example.se"]) == []
    # logging out needs the token too (no cross-site logout)
    assert http.post(f"{portal.url}/logout", data={}, timeout=30, allow_redirects=False).status_code == 403


def test_another_countys_hub_cannot_see_or_change_it_by_any_url(portal: Served) -> None:
    dalarna = portal.login(portal.accounts["dalarna"])
    preview = upload(dalarna, portal, "W", [person(1), person(2)])
    action = confirm_action(preview.text)
    preview_id = action.split("/")[-2]

    uppsala = portal.login(portal.accounts["uppsala"])
    for path in [*COUNTY_PAGES, f"/lan/W/personallista/{preview_id}", "/lan/w/rapport", "/status", "/logg"]:
        response = get(uppsala, portal.url + path)
        assert response.status_code == 403, path
        assert "Falun" not in response.text and "person1" not in response.text, path
    csrf = hidden(get(uppsala, f"{portal.url}/lan/C/personallista").text, "csrf")
    for path in [action, f"/lan/W/personallista/{preview_id}/granska", "/lan/W/personallista", "/lan/W/tillfallen",
                 "/status/kor/pull"]:
        response = uppsala.post(portal.url + path, data={"csrf": csrf}, timeout=60, allow_redirects=False)
        assert response.status_code == 403, path
    # under its own county's URL, the other county's preview does not exist
    assert uppsala.post(f"{portal.url}/lan/C/personallista/{preview_id}/bekrafta", data={"csrf": csrf},
                        timeout=60, allow_redirects=False).status_code == 404
    assert people(portal, ["person1@falun.example.se"]) == []
    # an admin sees every county
    admin = portal.login(portal.accounts["admin"])
    assert all(get(admin, f"{portal.url}/lan/{c}/rapport").status_code == 200 for c in ("W", "C"))


def test_logins_are_rate_limited_and_passwords_stored_as_argon2id(portal: Served) -> None:
    # the portal hashes with argon2id at RFC 9106's low-memory profile (the test accounts' own hash is a cheap one)
    assert argon2.extract_parameters(auth.hash_password(PASSWORD)) == argon2.profiles.RFC_9106_LOW_MEMORY
    http = requests.Session()
    statuses = []
    for password in ["fel"] * 5 + [PASSWORD]:
        page = get(http, f"{portal.url}/login")
        statuses.append(http.post(f"{portal.url}/login", timeout=30, allow_redirects=False, data={
            "email": portal.accounts["uppsala"], "password": password,
            "login_token": hidden(page.text, "login_token")}).status_code)
    assert statuses == [401] * 5 + [429], "the right password is refused too once the limit is reached"
    # a login form without its token (a cross-site login) is refused
    assert requests.post(f"{portal.url}/login", data={"email": portal.accounts["dalarna"], "password": PASSWORD},
                         timeout=30, allow_redirects=False).status_code == 403


def test_session_cookie_is_httponly_samesite_and_logout_ends_the_session(portal: Served) -> None:
    http = requests.Session()
    page = get(http, f"{portal.url}/login")
    response = http.post(f"{portal.url}/login", timeout=30, allow_redirects=False, data={
        "email": portal.accounts["dalarna"], "password": PASSWORD, "login_token": hidden(page.text, "login_token")})
    cookie = response.headers["set-cookie"]
    assert "ms_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "script-src 'none'" in response.headers["content-security-policy"]
    stolen = http.cookies.get("ms_session")
    home = get(http, f"{portal.url}/lan/W")
    assert home.status_code == 200
    http.post(f"{portal.url}/logout", data={"csrf": hidden(home.text, "csrf")}, timeout=30)
    replay = requests.Session()
    replay.cookies.set("ms_session", stolen)
    assert get(replay, f"{portal.url}/lan/W").status_code == 303, "a logged-out session cannot be replayed"


def test_uploads_confirmations_and_downloads_are_logged_and_the_token_never_reaches_a_page(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    preview = upload(http, portal, "W", [person(1), person(2)])
    done = http.post(portal.url + confirm_action(preview.text), data={"csrf": hidden(preview.text, "csrf")},
                     timeout=120)
    assert "Klart" in done.text
    pages = [preview.text, done.text]
    for path in ["/lan/W/rapport", "/lan/W/rapport.csv", "/lan/W/rapport.html", "/lan/W/personer.csv"]:
        response = get(http, portal.url + path)
        assert response.status_code == 200, path
        pages.append(response.text)
    assert all(TOKEN not in p for p in pages)
    actions = [(e["who"], e["action"]) for e in portal.db.audit()]
    me = portal.accounts["dalarna"]
    for action in ["roster-upload", "roster-preview", "roster-confirm", "roster-outcome", "report-view",
                   "download-csv", "download-html", "download-personal-csv"]:
        assert (me, action) in actions, action
    # person-level lists only for accounts allowed them
    uppsala = portal.login(portal.accounts["uppsala"])
    assert get(uppsala, f"{portal.url}/lan/C/personer.csv").status_code == 403
    assert get(uppsala, f"{portal.url}/lan/C/forsenade").status_code == 403
    assert get(uppsala, f"{portal.url}/lan/C/rapport.xlsx").status_code == 200


def test_a_preview_made_before_moodle_changed_is_refused_and_nothing_is_written(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    first = upload(http, portal, "W", [person(n) for n in range(1, 6)], name="first.xlsx")
    admin = portal.login(portal.accounts["admin"])  # another account (the hub's own newer upload replaces it)
    second = upload(admin, portal, "W", [person(n) for n in range(1, 7)], name="second.xlsx")
    applied = admin.post(portal.url + confirm_action(second.text), data={"csrf": hidden(second.text, "csrf")},
                         timeout=120)
    assert "Klart" in applied.text
    stale = http.post(portal.url + confirm_action(first.text), data={"csrf": hidden(first.text, "csrf")},
                      timeout=120)
    assert "Moodle har ändrats sedan förhandsgranskningen" in stale.text
    # the stale plan (made when nobody was in the cohort; it would now take person 6 out) was not applied
    store = portal.store()
    try:
        assert any(p.email == "person6@falun.example.se" for p in store.persons("W").values())
        cohort_members = portal.site.api().cohort_members(
            [c.id for c in portal.site.api().search_cohorts("tg:socialsekreterare:W")])
    finally:
        store.close()
    assert sum(len(m) for m in cohort_members.values()) == 6
    assert ("anna@dalarna.example.se", "roster-outcome") in [(e["who"], e["action"]) for e in portal.db.audit()]


def test_invalid_rows_are_listed_with_row_numbers_and_a_mass_removal_needs_an_explicit_tick(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    bad = person(2)
    bad[0] = "inte-en-adress"
    response = upload(http, portal, "W", [person(1), bad])
    assert response.status_code == 200
    assert "Ogiltiga rader (1)" in response.text and '<td class="num">3</td>' in response.text
    assert "Filen har 1 ogiltig rad; inget har skrivits." in response.text, "said in Swedish, the file by no path"
    assert 'id="bekrafta"' not in response.text, "a file with invalid rows has no plan to confirm"
    skip = re.search(r'action="([^"]*/granska)"', response.text)
    assert skip
    again = http.post(portal.url + skip.group(1), data={"csrf": hidden(response.text, "csrf"), "skip_invalid": "ja"},
                      timeout=120)
    assert 'id="bekrafta"' in again.text and "<strong>1</strong> rader hoppas över" in again.text
    assert "Rader som hoppas över (1)" in again.text and "inte-en-adress" in again.text, "which row, and why"
    http.post(portal.url + confirm_action(again.text), data={"csrf": hidden(again.text, "csrf")}, timeout=120)
    # now everyone else leaves: more than 20 % of the county's members
    full = upload(http, portal, "W", [person(n) for n in range(1, 11)], name="ten.xlsx")
    http.post(portal.url + confirm_action(full.text), data={"csrf": hidden(full.text, "csrf")}, timeout=120)
    few = upload(http, portal, "W", [person(1)], name="one.xlsx")
    assert 'id="bekrafta"' not in few.text and "massborttagning" in few.text
    # the tick confirms named people: every leaver with their organisation and the courses they are suspended in
    assert "Lämnar (9)" in few.text and "kohort" not in few.text
    assert all(f"<td>Förnamn{n} Efternamn{n}</td>" in few.text for n in range(2, 11))
    assert ("Hedersrelaterat våld och förtryck – socialtjänsten, version 1, Mäns våld mot kvinnor och våld i nära "
            "relationer – grundkurs, version 2") in few.text, "courses by name and version, not by key"
    granska = re.search(r'action="([^"]*/granska)"', few.text)
    assert granska
    unticked = http.post(portal.url + granska.group(1), timeout=60, data={
        "csrf": hidden(few.text, "csrf"), "allow_mass_removal": "ja"})
    assert unticked.status_code == 400
    ticked = http.post(portal.url + granska.group(1), timeout=120, data={
        "csrf": hidden(few.text, "csrf"), "allow_mass_removal": "ja", "mass_removal_confirmed": "ja"})
    assert 'id="bekrafta"' in ticked.text and "Lämnar: <strong>9</strong>" in ticked.text


def test_a_csv_in_windows_1252_with_semicolons_is_read_as_the_cli_reads_it(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    page = get(http, f"{portal.url}/lan/W/personallista")
    body = ("E-post;Förnamn;Efternamn;Organisation;Målgrupp\r\n"
            "asa@falun.example.se;Åsa;Öberg;Falu kommun;socialsekreterare\r\n").encode("cp1252")
    response = http.post(f"{portal.url}/lan/W/personallista", timeout=120, files={"file": ("lista.csv", body)},
                         data={"csrf": hidden(page.text, "csrf"), "mode": "add"})
    assert 'id="bekrafta"' in response.text and "Åsa Öberg" in response.text


def test_an_upload_over_the_size_limit_or_of_another_kind_is_refused_unread(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    page = get(http, f"{portal.url}/lan/W/personallista")
    csrf = hidden(page.text, "csrf")
    big = http.post(f"{portal.url}/lan/W/personallista", data={"csrf": csrf}, timeout=120,
                    files={"file": ("stor.csv", b"x" * (3 * 1024 * 1024))})
    assert big.status_code == 413
    other = http.post(f"{portal.url}/lan/W/personallista", data={"csrf": csrf}, timeout=60,
                      files={"file": ("lista.pdf", b"%PDF-1.4")})
    assert other.status_code == 400 and "CSV eller XLSX" in other.text
    assert not list((portal.site.state_path.parent / "portal" / "uploads").glob("*"))


def test_a_preview_while_another_sync_runs_says_so_and_reads_nothing(portal: Served,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("moodle_sync.portal.rosters.LOCK_WAIT", 0.0)
    http = portal.login(portal.accounts["dalarna"])
    with acquire(portal.site.state_path, "pull (scheduled: 02:30)"):
        response = upload(http, portal, "W", [person(1)])
    assert ("En annan synkronisering pågår just nu (en hämtning av genomföranden från Moodle, schemalagd kl. 02:30)"
            in response.text)
    assert 'id="bekrafta"' not in response.text
    store = portal.store()
    try:
        assert store.roster_imports("W") == [], "no dry run was recorded: the import did not start"
    finally:
        store.close()


def test_an_import_that_refused_rows_says_which_and_who_can_import_them_not_upload_again(portal: Served) -> None:
    uppsala = portal.login(portal.accounts["uppsala"])
    theirs = person(9, town="uppsala")
    first = upload(uppsala, portal, "C", [theirs], name="c.xlsx")
    assert "Klart" in uppsala.post(portal.url + confirm_action(first.text), data={"csrf": hidden(first.text, "csrf")},
                                   timeout=120).text
    http = portal.login(portal.accounts["dalarna"])
    page = upload(http, portal, "W", [person(1), theirs], name="w.xlsx")  # row 3 is Uppsala's person
    done = http.post(portal.url + confirm_action(page.text), data={"csrf": hidden(page.text, "csrf")}, timeout=120)
    assert "Klart, utom 1 rader som importen inte fick använda" in done.text
    assert "rad 3 (person9@uppsala.example.se): väntar på en administratör: e-postadressen" in done.text
    assert "en administratör importera raden" in done.text
    assert "Ladda upp samma fil igen: importen" not in done.text  # it would refuse the row again
    [upload_id] = re.findall(r'/personallista/([^/"]+)/bekrafta', page.text)
    assert portal.db.preview(upload_id)["status"] == "applied"  # type: ignore[index]
    assert not list((portal.site.state_path.parent / "portal" / "uploads").glob("*"))


def test_a_busy_lock_held_by_another_countys_import_names_neither_the_county_nor_the_person(
        portal: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock's holder text names the job, the account, the server's user, host and pid: a page says only the
    kind of job (issue 21: no English, no server detail; and nothing of another county reaches a hub)."""
    monkeypatch.setattr("moodle_sync.portal.rosters.LOCK_WAIT", 0.0)
    http = portal.login(portal.accounts["dalarna"])
    with acquire(portal.site.state_path, "roster import C (portal, ulf@uppsala.example.se)"):
        response = upload(http, portal, "W", [person(1)])
    assert "(en personallista som läses eller importeras)" in response.text
    assert "ulf@" not in response.text and " C " not in response.text and "pid" not in response.text
