"""Whose deadline is what, through the command line on the emulator: staff enrolled today are never late
today, whatever their employment date; the personal-data export says which rule applies and the date."""

from __future__ import annotations

import csv
import datetime
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from moodle_sync import clock
from moodle_sync.cli import main
from moodle_sync.commands.exits import EXIT_ERROR, EXIT_OK
from moodle_sync.completions.report import make_report
from moodle_sync.scope import Scope

from .conftest import Site, run
from .test_rosters import person, write_roster

#: the day matters here: every test also runs with the clock at 23:30 UTC (tests/conftest.py any_hour)
pytestmark = pytest.mark.usefixtures("any_hour")

SOC = "hrv-socialtjanst"


def set_rule(site: Site, key: str, **changes: Any) -> None:
    path = site.specs_dir / "enrolment_rules.yaml"
    yaml = YAML()
    rules = yaml.load(path.read_text(encoding="utf-8"))
    for rule in rules:
        if rule["key"] == key:
            for k, v in changes.items():
                if v is None:
                    rule.pop(k, None)
                else:
                    rule[k] = v
    with path.open("w", encoding="utf-8") as f:
        yaml.dump(rules, f)


def personal_rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out.lstrip("\ufeff")), delimiter=";"))


def totals(out: str) -> dict[str, str]:
    """The totals row of a CSV report, by column heading."""
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff")), delimiter=";"))
    header = rows[0]
    total = next(r for r in rows if r and r[0] == "Totalt")
    return dict(zip(header, total, strict=False))


def test_staff_enrolled_today_are_never_late_today_whatever_their_employment_date(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    today = clock.today()
    day = datetime.timedelta(days=1)
    set_rule(served, "hrv-soc-socialtjansten", effective_from=(today - 200 * day).isoformat(),
             existing_staff_deadline_days=365, new_staff_deadline_days=90)
    assert run("apply", "--yes") == EXIT_OK
    rows = [person(0, **{"Anställningsdatum": "2020-01-01"}),                       # long-serving
            person(1, **{"Anställningsdatum": (today - 80 * day).isoformat()}),   # new, within 90 days
            person(2, **{"Anställningsdatum": (today - 150 * day).isoformat()}),  # new by effective_from, late import
            person(3, **{"Anställningsdatum": ""}),                               # no employment date
            person(4, **{"Anställningsdatum": (today - 400 * day).isoformat()})]  # before effective_from
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", rows)), "--county", "W", "--yes") == EXIT_OK
    assert run("pull") == EXIT_OK
    capsys.readouterr()

    assert run("report", "--personal-data") == EXIT_OK
    got = {(r["email"], r["course"]): (r["deadline_kind"], r["deadline"])
           for r in personal_rows(capsys.readouterr().out)}
    soc = {email.split("@")[0]: v for (email, course), v in got.items() if course == SOC}
    assert soc == {
        "person0": ("befintlig personal", (today + 365 * day).isoformat()),
        "person1": ("ny personal", (today + 10 * day).isoformat()),
        "person2": ("ny personal", (today + 90 * day).isoformat()),
        "person3": ("befintlig personal", (today + 365 * day).isoformat()),
        "person4": ("befintlig personal", (today + 365 * day).isoformat()),
    }
    assert all(due >= today.isoformat() for _, due in got.values() if due)

    assert run("report", "--by", "course", "--format", "csv") == EXIT_OK
    assert totals(capsys.readouterr().out)["Ej genomförda, sista dag passerad"] == "0"


def test_late_the_day_after_the_deadline_and_not_before(applied: Site, tmp_path: Path) -> None:
    from .test_completions import import_county, run_pull

    site = applied
    today = clock.today()
    import_county(site, tmp_path, [person(n, **{"Anställningsdatum": (today - 80 * datetime.timedelta(days=1))
                                                .isoformat()}) for n in range(6)], "W")
    run_pull(site)
    api = site.api()
    store = site.store(api)

    def late(on: datetime.date) -> str:
        text = make_report(site.specs(), store, scope=Scope(), preset=None, dimensions=["course"], period=None,
                           fmt="csv", out=None, today=on) or ""
        return totals(text)["Ej genomförda, sista dag passerad"]

    deadline = today + datetime.timedelta(days=10)
    assert late(deadline) == "0"
    assert late(deadline + datetime.timedelta(days=1)) == "6"  # six new staff past their 90 days on SOC
    store.close()


def test_validate_explains_effective_from_in_swedish_with_an_example(
        site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    set_rule(site, "hrv-utb-utbildare", effective_from="2026-01-01")
    with pytest.raises(SystemExit) as e:
        main(["validate", str(site.specs_dir)])
    assert e.value.code == EXIT_ERROR
    err = capsys.readouterr().err
    assert "enrolment_rules.yaml" in err and "new_staff_deadline_days: 90" in err and "2026-05-02" in err
    assert "nyanställd" in err


# --- 2. late people are reminded -----------------------------------------------------------------------

def backdate(site: Site, sql: str, *args: object) -> None:
    """Let time pass in the state store (enrolments made, reminders sent, so many days ago)."""
    db = sqlite3.connect(site.state_path)
    with db:
        db.execute(sql, args)
    db.close()


def days_ago(n: int) -> str:
    return (clock.now() - datetime.timedelta(days=n)).isoformat(timespec="seconds")


def test_late_people_get_one_reminder_per_interval_at_most_max_with_course_deadline_and_link(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .test_completions import SEND, complete, course_ids, now_s

    set_rule(served, "hrv-soc-socialtjansten", existing_staff_deadline_days=100)
    assert run("apply", "--yes") == EXIT_OK
    rows = [person(n, **{"Anställningsdatum": "2020-01-01"}) for n in range(4)]
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", rows)), "--county", "W", "--yes") == EXIT_OK
    enrolled_at = days_ago(200)
    backdate(served, "UPDATE enrolments SET enrolled_at=?", enrolled_at)  # enrolled 200 days ago: 100 days late
    soc = course_ids(served)[f"{SOC}@1"]
    users = {u.email: u.id for u in served.api().users_by_field("email", [r["E-post"] for r in rows])}
    complete(served, soc, users["person0@falun.example.se"], [now_s(), now_s()], visit=now_s())  # done: not late
    assert run("pull") == EXIT_OK
    late = sorted(users[f"person{n}@falun.example.se"] for n in (1, 2, 3))
    # the deadline counts from the Swedish day of the enrolment (200 days ago may cross a change of summer time)
    deadline = (datetime.date.fromisoformat(clock.shown(enrolled_at)[:10]) + datetime.timedelta(days=100)).isoformat()
    capsys.readouterr()

    # before this change remind only looked ahead, so late people were never reminded
    assert run("remind", "--json") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["due"] == 0

    assert run("remind", "--overdue", "--dry-run") == EXIT_OK
    said = capsys.readouterr().out
    assert "would remind 3 late people" in said
    assert all(f"user {u}: {SOC}@1, deadline {deadline}" in said for u in late)
    assert served.emulator.call_counts().get(SEND, 0) == 0 and not served.emulator.state.messages

    def overdue_run() -> dict[str, Any]:
        assert run("remind", "--overdue", "--max", "2", "--json") == EXIT_OK
        return dict(json.loads(capsys.readouterr().out))

    first = overdue_run()
    assert first["sent"] == 3 and sorted(r["userid"] for r in first["reminders"]) == late
    messages = list(served.emulator.state.messages)
    assert sorted(m.useridto for m in messages) == late
    title = served.specs().courses[SOC].title
    for m in messages:
        assert title in m.text and deadline in m.text
        assert f"/course/view.php?id={soc}" in m.text

    again = overdue_run()  # the same interval: never twice
    assert again["sent"] == 0 and again["skipped_recently_reminded"] == 3
    backdate(served, "UPDATE reminders SET sent_at=?", days_ago(31))
    assert overdue_run()["sent"] == 3  # a new interval: the second reminder
    backdate(served, "UPDATE reminders SET sent_at=?", days_ago(31))
    last = overdue_run()  # --max 2 reached
    assert last["sent"] == 0 and last["skipped_max_reminders"] == 3
    assert len(served.emulator.state.messages) == 6


# --- 3. figures that add up --------------------------------------------------------------------------

DENOMINATOR = "Inskrivna där slutförandet följs"
DASH_NOTE = "Streck (–): Moodle följer inte slutförandet för någon i raden"


def month_of(day: datetime.date) -> str:
    return f"{day:%Y-%m}"


def test_the_rate_shows_its_denominator_and_untracked_courses_show_a_dash_in_every_format(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import load_workbook

    from .test_completions import complete, course_ids

    assert run("apply", "--yes") == EXIT_OK
    rows = [person(n) for n in range(9)]
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", rows)), "--county", "W", "--yes") == EXIT_OK
    soc = course_ids(served)[f"{SOC}@1"]
    ids = [u.id for u in served.api().users_by_field("email", [r["E-post"] for r in rows])]
    # six complete SOC (which has criteria) in Moodle on the 1st of last month; NCK has none: not tracked
    last_month = (clock.today().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    at = int(datetime.datetime(last_month.year, last_month.month, 1, 12, tzinfo=datetime.UTC).timestamp())
    for uid in ids[:6]:
        complete(served, soc, uid, [at, at], visit=at)
    assert run("pull") == EXIT_OK
    capsys.readouterr()

    assert run("report", "--by", "course", "--format", "csv") == EXIT_OK
    out = capsys.readouterr().out
    table = list(csv.reader(io.StringIO(out.lstrip("\ufeff")), delimiter=";"))
    header = table[0]
    assert header[:7] == ["Kurs", "Version", "Inskrivna", DENOMINATOR, "Genomförda", "Andel genomförda (%)",
                          "Genomförda, aktuell version"]
    by_course = {r[0]: dict(zip(header, r, strict=False)) for r in table[1:] if r and r[0] != "Totalt" and len(r) > 2}
    nck = by_course[served.specs().courses["nck-grundkurs-vinr"].title]
    hrv = by_course[served.specs().courses[SOC].title]
    assert (nck["Inskrivna"], nck[DENOMINATOR]) == ("9", "0")
    for column in ("Genomförda", "Andel genomförda (%)", "Ej genomförda, sista dag passerad", "Dags för repetition"):
        assert nck[column] == "–", column
    assert (hrv["Inskrivna"], hrv[DENOMINATOR], hrv["Genomförda"], hrv["Andel genomförda (%)"]) == \
        ("9", "9", "6", "66,7")
    assert totals(out)[DENOMINATOR] == "9"
    notes = [r[0] for r in table if len(r) == 1]
    assert sum(n.startswith(f"{DENOMINATOR}:") for n in notes) == 1
    assert sum(n.startswith(DASH_NOTE) for n in notes) == 1

    assert run("report", "--by", "course") == EXIT_OK
    text = capsys.readouterr().out
    # the terminal wraps a long course title within its column; the numbers are on its first line
    nck_line = next(line for line in text.splitlines() if line.startswith(nck["Kurs"][:20]))
    assert nck_line.split()[-7:] == ["0", "–", "–", "–", "–", "–", "–"]  # the course title has a dash too
    assert DASH_NOTE in " ".join(text.split()) and f"{DENOMINATOR}:" in text

    book = tmp_path / "r.xlsx"
    assert run("report", "--by", "course", "--format", "xlsx", "--out", str(book)) == EXIT_OK
    ws = load_workbook(book).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    head = values[1]
    assert DENOMINATOR in head
    row = next(r for r in values if r[0] == nck["Kurs"])
    assert row[head.index("Genomförda")] == "–" and row[head.index(DENOMINATOR)] == 0
    assert any(isinstance(r[0], str) and r[0].startswith(DASH_NOTE) for r in values)

    page = tmp_path / "r.html"
    assert run("report", "--by", "course", "--format", "html", "--out", str(page)) == EXIT_OK
    html = page.read_text(encoding="utf-8")
    assert DENOMINATOR in html and DASH_NOTE in html
    nck_row = html[html.index(f'>{nck["Kurs"]}<'):]
    nck_row = nck_row[:nck_row.index("</tr>")]
    assert nck_row.count("–") >= 5


def test_a_period_counts_a_completion_in_the_month_of_moodles_completion_date(
        served: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .test_completions import complete, course_ids

    assert run("apply", "--yes") == EXIT_OK
    rows = [person(n) for n in range(6)]
    assert run("roster", "import", str(write_roster(tmp_path / "w.csv", rows)), "--county", "W", "--yes") == EXIT_OK
    soc = course_ids(served)[f"{SOC}@1"]
    last_month = (clock.today().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    at = int(datetime.datetime(last_month.year, last_month.month, 1, 12, tzinfo=datetime.UTC).timestamp())
    for u in served.api().users_by_field("email", [r["E-post"] for r in rows]):
        complete(served, soc, u.id, [at, at], visit=at)
    assert run("pull") == EXIT_OK
    capsys.readouterr()
    # a period counts a completion in the month Moodle says it happened, not the month it was pulled
    assert run("report", "--by", "course", "--period", month_of(last_month), "--format", "csv") == EXIT_OK
    assert totals(capsys.readouterr().out)["Genomförda"] == "6"
    assert run("report", "--by", "course", "--period", month_of(clock.today()), "--format", "csv") == EXIT_OK
    assert totals(capsys.readouterr().out)["Genomförda"] == "0"
