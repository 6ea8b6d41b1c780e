"""Issue 22: the preview a hub confirms names every enrolment that follows the list (people still to be created
too), Bekräfta writes exactly those, and a preview whose enrolments no longer hold is refused."""

from __future__ import annotations

from ruamel.yaml import YAML

from .conftest import Served, hidden, person
from .test_portal_access import confirm_action, upload


def active_courses(portal: Served, email: str) -> set[str]:
    [user] = portal.site.api().users_by_field("email", [email])
    return {c["idnumber"] for c in portal.site.courses()
            if (e := portal.site.emulator.enrolment(c["id"], user.id)) and e["status"] == 0}


def test_the_preview_lists_the_enrolments_that_follow_and_bekrafta_writes_them(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    page = upload(http, portal, "W", [person(n) for n in range(1, 4)])
    assert "Registreringar som följer" in page.text
    for n, row in ((1, 2), (2, 3), (3, 4)):
        for course in ("Hedersrelaterat våld och förtryck – socialtjänsten, version 1",
                       "Mäns våld mot kvinnor och våld i nära relationer – grundkurs, version 2"):
            assert (f"<tr><td>{course}</td><td>Förnamn{n} Efternamn{n} <span class=\"muted\">(nytt konto, rad {row})"
                    f"</span></td><td>person{n}@falun.example.se</td><td>registreras</td></tr>"
                    in page.text)
    done = http.post(portal.url + confirm_action(page.text), data={"csrf": hidden(page.text, "csrf")}, timeout=120)
    assert "Klart" in done.text
    assert active_courses(portal, "person2@falun.example.se") == {"hrv-socialtjanst@1", "nck-grundkurs-vinr@2"}


def test_a_preview_whose_enrolments_changed_since_is_refused_and_nothing_is_written(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    page = upload(http, portal, "W", [person(n) for n in range(1, 4)])
    assert "Registreringar som följer" in page.text
    # the rule now ends its enrolments on a day: the same people, courses and counts, other dates than previewed
    rules = portal.site.specs_dir / "enrolment_rules.yaml"
    yaml = YAML()
    data = yaml.load(rules.read_text(encoding="utf-8"))
    next(r for r in data if r["key"] == "hrv-soc-socialtjansten")["window_end"] = "2030-01-01"
    with rules.open("w", encoding="utf-8") as f:
        yaml.dump(data, f)
    writes = portal.site.emulator.write_calls()
    done = http.post(portal.url + confirm_action(page.text), data={"csrf": hidden(page.text, "csrf")}, timeout=120)
    assert "Moodle har ändrats sedan förhandsgranskningen" in done.text
    assert portal.site.emulator.write_calls() == writes
