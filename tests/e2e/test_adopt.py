"""`moodle-sync adopt` (issue 20, parts 2 and 3): a site built by hand is taken over without changing its courses'
content, enrolments or completions; afterwards `plan` shows no changes, a roster adopts the people enrolled and a
pull reads their completions with Moodle's dates. Run twice, or on the tool's own courses, it changes nothing.

The hand-made site: a category "Kvinnofrid" (idnumber set by hand) holding three courses made as an admin would
(completion on; one with an end date; one hidden; one in weeks with its end date fixed), people enrolled by hand,
two completions on past days, and a cohort "Socialsekreterare Dalarna". None of it is made by the tool.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from moodle_sync.commands.exits import EXIT_ERROR, EXIT_OK

from .conftest import Site, run
from .test_bulk_pull import make_report
from .test_completions import course_people
from .test_rosters import person, write_roster

LONDON = ZoneInfo("Europe/London")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def midnight(day: str, zone: ZoneInfo = STOCKHOLM) -> int:
    return int(datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(0), zone).timestamp())


class HandMade:
    """What an admin made in Moodle before the tool came: ids of the courses, people and the cohort."""

    def __init__(self, site: Site, zone: ZoneInfo = STOCKHOLM) -> None:
        emu = site.emulator
        # made in PHP by core_course_category::create(), whose description format defaults to 0 (FORMAT_MOODLE)
        self.category = emu.add_category("Kvinnofrid", idnumber="KF", description="<p>Kurser om kvinnofrid</p>",
                                         descriptionformat=0)
        modules = [{"name": "Film", "modname": "page", "section": 1, "completion": 2},
                   {"name": "Test", "modname": "quiz", "section": 2, "completion": 2}]
        self.basic = emu.add_course("Grundkurs om våld i nära relationer", "NCK-GK", self.category,
                                    summary="<p>Grundkurs.</p>", startdate=midnight("2024-01-15", zone),
                                    enddate=midnight("2026-12-31", zone), modules=modules, completion_criteria=True)
        self.hidden = emu.add_course("Fördjupning (arkiv)", "NCK-FD 2023", self.category, idnumber="SIS-4711",
                                     visible=0, startdate=midnight("2023-02-01", zone), numsections=3)
        # as Moodle's CSV course upload leaves them: the summary in Moodle's auto-format (0), a weeks course whose end
        # date Moodle sets from its weeks (automaticenddate on)
        self.weekly = emu.add_course("Veckokurs", "NCK-VECKA", self.category, summary="Rad ett", summaryformat=0,
                                     format="weeks", numsections=5, startdate=midnight("2023-02-06", zone))
        self.people = [emu.add_user(f"p{n}", f"Person{n}", "Hand", f"p{n}@falun.example.se", f"H{n}")
                       for n in range(4)]
        for uid in self.people:
            emu.enrol_user(self.basic, uid, timestart=midnight("2024-02-01", zone))
        emu.set_course_completion(self.basic, self.people[0], midnight("2024-03-05", zone) + 3600 * 10)
        emu.set_course_completion(self.basic, self.people[1], midnight("2025-06-10", zone) + 3600 * 14)
        self.cohort = emu.add_cohort("Socialsekreterare Dalarna", None, description="Handgjord")
        for uid in self.people[:2]:
            emu.add_cohort_member(self.cohort, uid)


#: what adopt may change: ID numbers (and the time a row was modified, and the cache revision Moodle bumps)
MAY_CHANGE = {"idnumber", "timemodified", "cacherev", "sortkey"}


def unchanged_but_idnumbers(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Every table, with the ID numbers of courses, categories and cohorts (what adopt sets) left out."""
    out = dict(snapshot)
    for table in ("course", "course_categories", "cohort"):
        out[table] = [{k: v for k, v in row.items() if k not in MAY_CHANGE} for row in snapshot[table]]
    return out


def of_courses(snapshot: dict[str, Any], ids: set[int]) -> dict[str, Any]:
    """The content, enrolments and completions of these courses."""
    enrols = {e["id"] for e in snapshot["enrol"] if e["courseid"] in ids}
    out = {t: [r for r in snapshot[t] if r["course"] in ids]
           for t in ("course_modules", "course_sections", "course_completions", "course_completion_criteria")}
    out["enrol"] = [e for e in snapshot["enrol"] if e["id"] in enrols]
    out["user_enrolments"] = [u for u in snapshot["user_enrolments"] if u["enrolid"] in enrols]
    assert out["course_completions"] and out["user_enrolments"] and out["course_modules"]
    return out


def courses_but_idnumber(site: Site) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k not in {"idnumber"}} for c in site.courses()]


def both(capsys: pytest.CaptureFixture[str]) -> str:
    """What the command said, on stderr and stdout."""
    out = capsys.readouterr()
    return out.err + out.out


@pytest.fixture
def made(served: Site) -> HandMade:
    return HandMade(served)


ADOPT = ("adopt", "--category", "Kvinnofrid", "--target-group", "socialsekreterare")


def test_dry_run_writes_nothing(made: HandMade, served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    before = served.emulator.snapshot()
    assert run(*ADOPT) == EXIT_OK
    out = capsys.readouterr()
    assert "Dry run" in out.err + out.out
    assert not (served.specs_dir / "courses" / "nck-gk.yaml").exists()
    assert served.emulator.snapshot() == before


def test_adopt_apply_then_plan_shows_no_changes(made: HandMade, served: Site,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    before = served.emulator.snapshot()
    courses_before = courses_but_idnumber(served)
    assert run(*ADOPT, "--yes") == EXIT_OK
    out = both(capsys)
    assert "nck-gk@1" in out and "3 activities (1 forum, 1 page, 1 quiz)" in out, out
    spec = (served.specs_dir / "courses" / "nck-gk.yaml").read_text(encoding="utf-8")
    assert "start_date: 2024-01-15\n" in spec and "end_date: 2026-12-31\n" in spec and "version: 1.0.0\n" in spec
    assert "adopted_shortname: NCK-GK\n" in spec
    hidden = (served.specs_dir / "courses" / "nck-fd-2023.yaml").read_text(encoding="utf-8")
    assert "visible: false\n" in hidden and "sections: 3\n" in hidden
    weekly = (served.specs_dir / "courses" / "nck-vecka.yaml").read_text(encoding="utf-8")
    assert "summary_format: moodle\n" in weekly and "automatic_end_date: true\n" in weekly
    assert "end_date: 2023-03-13\n" in weekly  # five weeks from 6 February, as Moodle set it
    assert "apply` would change" not in out
    after = served.emulator.snapshot()
    assert unchanged_but_idnumbers(after) == unchanged_but_idnumbers(before)
    assert courses_but_idnumber(served) == courses_before
    ids = {c["shortname"]: c["idnumber"] for c in served.courses()}
    assert ids["NCK-GK"] == "nck-gk@1" and ids["NCK-FD 2023"] == "nck-fd-2023@1"
    cats = {c.name: c.idnumber for c in served.api().get_all_categories()}
    assert cats["Kvinnofrid"] == "cat:kvinnofrid"

    assert run("apply", "--yes") == EXIT_OK
    assert run("plan", "--detailed-exitcode") == EXIT_OK
    assert "No changes" in capsys.readouterr().out
    # apply made the tool's cohorts, but left the adopted courses' content, enrolments and completions as they were
    adopted = {made.basic, made.hidden, made.weekly}
    assert of_courses(served.emulator.snapshot(), adopted) == of_courses(before, adopted)
    assert [c for c in courses_but_idnumber(served) if c["id"] in adopted] == \
        [c for c in courses_before if c["id"] in adopted]


def test_run_twice_changes_nothing(made: HandMade, served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*ADOPT, "--yes") == EXIT_OK
    snapshot = served.emulator.snapshot()
    files = {p: p.read_text(encoding="utf-8") for p in served.specs_dir.rglob("*.yaml")}
    capsys.readouterr()
    assert run(*ADOPT, "--yes") == EXIT_OK
    out = both(capsys)
    assert "already the tool's" in out and "No changes" in out
    assert served.emulator.snapshot() == snapshot
    assert {p: p.read_text(encoding="utf-8") for p in served.specs_dir.rglob("*.yaml")} == files


def test_on_the_tools_own_courses_changes_nothing(served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("apply", "--yes") == EXIT_OK
    snapshot = served.emulator.snapshot()
    capsys.readouterr()
    assert run("adopt", "--category", "Socialstyrelsen", "--course", "NCK-GRUND-v2", "--yes") == EXIT_OK
    out = both(capsys)
    assert "hrv-socialtjanst@1" in out and "already the tool's" in out and "No changes" in out
    assert served.emulator.snapshot() == snapshot


def test_unknown_shortname_names_close_ones(made: HandMade, served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("adopt", "--course", "NCK-G", "--target-group", "socialsekreterare") == EXIT_ERROR
    out = both(capsys)
    assert "--course NCK-G: no course in Moodle has that short name; close: NCK-GK" in out


def test_existing_spec_file_is_never_overwritten(made: HandMade, served: Site,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    mine = served.specs_dir / "courses" / "nck-gk.yaml"
    draft = (served.specs_dir / "courses" / "webbkurs-heder.yaml").read_text(encoding="utf-8")
    draft = draft.replace("key: webbkurs-heder", "key: my-draft").replace("shortname: LST-HRV-WEBB", "shortname: DRAFT")
    mine.write_text(draft, encoding="utf-8")
    before = served.emulator.snapshot()
    assert run(*ADOPT, "--yes") == EXIT_ERROR
    out = both(capsys)
    assert f"{mine} already exists" in out and "never overwrites" in out
    assert mine.read_text(encoding="utf-8") == draft
    assert served.emulator.snapshot() == before


def test_key_clash_with_a_spec_is_reported(made: HandMade, served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    served.emulator.add_course("Samma nyckel", "HRV-SOCIALTJANST", made.category, startdate=midnight("2024-01-01"))
    assert run("adopt", "--course", "HRV-SOCIALTJANST", "--target-group", "socialsekreterare") == EXIT_ERROR
    out = both(capsys)
    assert "would get the key 'hrv-socialtjanst', which the course spec" in out


def test_dates_in_the_sites_timezone(served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """A site keeping Europe/London: its course dates are midnight there, and the spec says so."""
    HandMade(served, zone=LONDON)
    assert run(*ADOPT, "--yes") == EXIT_OK
    spec = (served.specs_dir / "courses" / "nck-gk.yaml").read_text(encoding="utf-8")
    assert "timezone: Europe/London\n" in spec and "start_date: 2024-01-15\n" in spec
    assert run("apply", "--yes") == EXIT_OK
    capsys.readouterr()
    assert run("plan", "--detailed-exitcode") == EXIT_OK


def test_cohort_mapped_by_pattern(made: HandMade, served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    members_before = served.api().cohort_members([made.cohort])
    assert run("adopt", "--cohort-pattern", "Socialsekreterare {county}=socialsekreterare", "--yes") == EXIT_OK
    cohort = served.api().get_cohorts([made.cohort])[0]
    assert cohort.idnumber == "tg:socialsekreterare:W"
    assert served.api().cohort_members([made.cohort]) == members_before
    assert run("apply", "--yes") == EXIT_OK
    capsys.readouterr()
    assert run("plan", "--detailed-exitcode") == EXIT_OK
    assert served.api().cohort_members([made.cohort]) == members_before


def test_cohort_mapping_file_errors(made: HandMade, served: Site, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "cohorts.yaml"
    mapping.write_text("- cohort: Socialsekreterare Dalarn\n  target_group: socialsekreterare\n  county: W\n"
                       "- cohort: Socialsekreterare Dalarna\n  target_group: socialsekr\n  county: W\n",
                       encoding="utf-8")
    assert run("adopt", "--cohorts", str(mapping), "--json") == EXIT_ERROR
    doc = json.loads(capsys.readouterr().out)
    assert any("no cohort in Moodle has the name or ID number 'Socialsekreterare Dalarn'; close: Socialsekreterare "
               "Dalarna" in p for p in doc["problems"])
    assert any("'socialsekr' is not a target group" in p for p in doc["problems"])


def test_roster_adopts_the_people_enrolled_and_pull_reads_moodles_completion_days(
        made: HandMade, served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*ADOPT, "--yes") == EXIT_OK
    assert run("apply", "--yes") == EXIT_OK
    accounts = len(served.emulator.snapshot()["user"])
    enrolled = served.emulator.snapshot()["user_enrolments"]
    rows = [person(n, **{"E-post": f"p{n}@falun.example.se", "Förnamn": f"Person{n}", "Efternamn": "Hand"})
            for n in range(4)]
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", rows)), "--county", "W", "--yes") == EXIT_OK
    assert len(served.emulator.snapshot()["user"]) == accounts  # the people were found, not made again
    assert [u for u in served.emulator.snapshot()["user_enrolments"] if u in enrolled] == enrolled
    make_report(served)  # the completion report an admin makes once (README), for Moodle's own completion times
    assert run("pull") == EXIT_OK
    people = course_people(served, "nck-gk@1")
    assert set(people) == set(made.people)
    assert people[made.people[0]].completed_at == midnight("2024-03-05") + 3600 * 10
    assert people[made.people[1]].completed_at == midnight("2025-06-10") + 3600 * 14
    assert people[made.people[2]].completed_at is None
    assert people[made.people[0]].completed_source == "report"


def test_courses_that_would_share_a_key_and_a_template_course_are_refused(
        made: HandMade, served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    served.emulator.add_course("Samma nyckel", "nck gk", made.category, startdate=midnight("2024-01-01"))
    before = served.emulator.snapshot()
    assert run(*ADOPT, "--course", "mall-hrv-socialtjanst", "--yes") == EXIT_ERROR
    out = both(capsys)
    assert "course 'nck gk'" in out and "course 'NCK-GK'" in out and "would both get the key 'nck-gk'" in out
    assert "is the template of hrv-socialtjanst (ID number 'mall-hrv-socialtjanst')" in out
    assert served.emulator.snapshot() == before
    assert not (served.specs_dir / "courses" / "nck-gk.yaml").exists()


def test_cohorts_the_tool_cannot_take(made: HandMade, served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    """A cohort of a category (the tool's are site-wide), and one whose tool cohort exists already."""
    served.emulator.add_cohort("Socialsekreterare Gotland", None, categoryid=made.category)
    assert run("apply", "--yes") == EXIT_OK  # the tool's cohorts, tg:socialsekreterare:W among them
    before = served.emulator.snapshot()
    capsys.readouterr()
    assert run("adopt", "--cohort-pattern", "Socialsekreterare {county}=socialsekreterare", "--yes") == EXIT_ERROR
    out = both(capsys)
    assert "cohort 'Socialsekreterare Gotland' belongs to a category" in out
    assert "the tool's cohort tg:socialsekreterare:W already exists" in out
    assert served.emulator.snapshot() == before


def test_unknown_category_names_close_ones(made: HandMade, served: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("adopt", "--category", "kvinofrid", "--target-group", "socialsekreterare") == EXIT_ERROR
    assert "--category kvinofrid: no category in Moodle has that name; close: Kvinnofrid" in both(capsys)
