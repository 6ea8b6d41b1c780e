"""Nobody leaves by accident in the portal: a person whose only rows are skipped keeps what they have, and
the plan says so (issue: a person listed twice, both rows invalid, lost three enrolments after Bekräfta)."""

from __future__ import annotations

import re

from .conftest import Served, hidden, person
from .test_portal_access import confirm_action, upload


def test_a_person_whose_only_rows_are_skipped_keeps_their_cohorts_and_enrolments(portal: Served) -> None:
    http = portal.login(portal.accounts["dalarna"])
    full = upload(http, portal, "W", [person(n) for n in range(1, 8)], name="seven.xlsx")
    http.post(portal.url + confirm_action(full.text), data={"csrf": hidden(full.text, "csrf")}, timeout=120)
    api = portal.site.api()
    [twice] = api.users_by_field("email", [person(7)[0]])
    # person 7 is listed twice (so both rows are invalid) and the list is skipped past them
    again = upload(http, portal, "W", [person(n) for n in range(1, 7)] + [person(7), person(7)], name="again.xlsx")
    assert "Ogiltiga rader (" in again.text
    assert '<td class="num">8</td>' in again.text and '<td class="num">9</td>' in again.text
    skip = re.search(r'action="([^"]*/granska)"', again.text)
    assert skip
    page = http.post(portal.url + skip.group(1), data={"csrf": hidden(again.text, "csrf"), "skip_invalid": "ja"},
                     timeout=120)
    assert "Lämnar: <strong>0</strong>" in page.text and "Lämnar (" not in page.text
    assert "Behålls: <strong>1</strong> målgruppsmedlemskap för personer vars enda rader hoppades över" in page.text
    # nothing else changed: an empty plan offers nothing to confirm
    assert 'id="bekrafta"' not in page.text and "det finns inget att bekräfta" in page.text
    w = [c.id for c in api.search_cohorts("tg:") if c.idnumber == "tg:socialsekreterare:W"]
    assert twice.id in api.cohort_members(w)[w[0]]
    enrolled = {c["idnumber"]: portal.site.emulator.enrolment(c["id"], twice.id) for c in portal.site.courses()}
    assert {"hrv-socialtjanst@1", "nck-grundkurs-vinr@2"} <= {k for k, e in enrolled.items() if e}
    assert all(e["status"] == 0 for e in enrolled.values() if e), "an enrolment of theirs was suspended"
