"""Teacher-led sessions of blended courses: each becomes a Moodle group; bad ones are reported at their line."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from spec_tree import SESSIONS, course_text, line_of, only, problems_of, write

from moodle_sync.specs.fields import COUNTIES
from moodle_sync.specs.load import load_specs
from moodle_sync.specs.models import CourseSpec, Session
from moodle_sync.specs.source import field_line, spec_source


def blended(sessions: str = SESSIONS, **values: str) -> str:
    return course_text({"delivery": "blended", **values}, extra=sessions)


def session(**changes: Any) -> Session:
    fields: dict[str, Any] = {"key": "falun-2026-03", "date": "2026-03-10", "place": "Falun, Länsstyrelsen Dalarna",
                              "county": "W", "capacity": 30}
    fields.update(changes)
    return Session.model_validate(fields)


def test_sessions_load_in_order_with_their_values(spec_root: Path) -> None:
    write(spec_root, "courses/a.yaml", blended())
    course = load_specs(spec_root).courses["kurs-a"]
    falun, sthlm = course.sessions
    assert (falun.key, falun.date, falun.place, falun.county, falun.capacity, falun.time) == (
        "falun-1", datetime.date(2026, 3, 10), "Falun, Länsstyrelsen Dalarna", "W", 30, None)
    assert (sthlm.key, sthlm.county, sthlm.county_name, sthlm.capacity, sthlm.time) == (
        "sthlm-1", "AB", "Stockholm", 40, "09:00-16:00")


def test_each_session_is_a_group_with_an_idnumber_per_session(spec_root: Path) -> None:
    write(spec_root, "courses/a.yaml", blended(version="2.0.1"))
    course = load_specs(spec_root).courses["kurs-a"]
    falun, sthlm = course.sessions
    assert course.session_idnumber(falun) == "kurs-a@2:falun-1"
    assert course.session_idnumber("sthlm-1") == "kurs-a@2:sthlm-1"
    assert falun.group_name == "Lärarlett tillfälle Falun 2026-03-10"
    assert sthlm.group_name == "Lärarlett tillfälle Stockholm 2026-05-19 09:00-16:00"  # with its hours


def test_a_loaded_session_knows_its_lines(spec_root: Path) -> None:
    text = blended()
    write(spec_root, "courses/a.yaml", text)
    course = load_specs(spec_root).courses["kurs-a"]
    sthlm = course.sessions[1]
    source = spec_source(sthlm)
    assert source is not None and source.file.endswith("courses/a.yaml")
    assert source.line == line_of(text, "- key: sthlm-1")
    assert field_line(sthlm, "county") == line_of(text, "county: AB")
    assert field_line(course, "sessions[1]") == source.line
    assert field_line(course, "sessions") == line_of(text, "sessions:")


def test_a_web_course_has_no_sessions_by_default(spec_root: Path) -> None:
    course = load_specs(spec_root).courses["kurs-a"]
    assert course.sessions == ()
    # and a course without sessions dumps as it did before sessions existed (its hashes are unchanged)
    assert "sessions" not in course.model_dump()
    assert "sessions" in CourseSpec.model_validate(course.model_dump() | {
        "delivery": "blended", "sessions": [session().model_dump()]}).model_dump()


def test_sessions_on_a_web_course_are_reported_at_the_sessions_line(spec_root: Path) -> None:
    text = course_text(extra=SESSIONS)  # delivery: web
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "sessions:"), "sessions")
    assert problem.message == "sessions are only for blended courses, and this one has delivery: web"
    assert "delivery: blended" in problem.hint


def test_sessions_on_a_web_course_are_reported_even_when_a_session_is_invalid(spec_root: Path) -> None:
    text = course_text(extra=SESSIONS.replace("county: W", "county: Q"))
    write(spec_root, "courses/a.yaml", text)
    assert {(p.line, p.loc) for p in problems_of(spec_root)} == {
        (line_of(text, "sessions:"), "sessions"),
        (line_of(text, "county: Q"), "sessions[0].county"),
    }


def test_a_repeated_session_key_is_reported_at_the_repetition(spec_root: Path) -> None:
    text = blended(SESSIONS.replace("key: sthlm-1", "key: falun-1"))
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "- key: falun-1", nth=2), "sessions[1].key")
    assert problem.message == f"session key 'falun-1' is listed twice (first at line {line_of(text, '- key: falun-1')})"


def test_a_repeated_session_key_is_reported_with_the_other_problems(spec_root: Path) -> None:
    # one invalid session keeps the model from checking keys; the loader still does
    text = blended(SESSIONS.replace("key: sthlm-1", "key: falun-1").replace("capacity: 40", "capacity: 0"))
    write(spec_root, "courses/a.yaml", text)
    problems = problems_of(spec_root)
    assert {(p.line, p.loc) for p in problems} == {
        (line_of(text, "- key: falun-1", nth=2), "sessions[1].key"),
        (line_of(text, "capacity: 0"), "sessions[1].capacity"),
    }
    repeated = only([p for p in problems if p.loc == "sessions[1].key"])
    assert repeated.message.startswith("session key 'falun-1' is listed twice")


@pytest.mark.parametrize(("old", "new", "field", "message", "hint"), [
    ("county: W", "county: Q", "county", "'Q' is not the letter code of a Swedish county", "W (Dalarna)"),
    ("county: W", "county: Dalarna", "county", "'Dalarna' is not the letter code", "AB (Stockholm)"),
    ("county: W", "county: 20", "county", "20 is not text", "BD (Norrbotten)"),
    ("capacity: 30", "capacity: 0", "capacity", "0 is less than 1", "1 to 500"),
    ("capacity: 30", "capacity: 501", "capacity", "501 is more than 500", "1 to 500"),
    ("capacity: 30", "capacity: trettio", "capacity", "'trettio' is not a whole number", "places"),
    ("date: 2026-03-10", "date: 2026-02-30", "date", "'2026-02-30' is not a real calendar date", "YYYY-MM-DD"),
    ("date: 2026-03-10", "date: 10 mars", "date", "is not a date in the form YYYY-MM-DD", "YYYY-MM-DD"),
    ("key: falun-1", "key: Falun 1", "key", "'Falun 1' is not a valid key", "unique within the course"),
    ("place: Falun, Länsstyrelsen Dalarna", "place: ' '", "place", "place is empty", "the town first"),
    ("place: Falun, Länsstyrelsen Dalarna", "place: Falun\n    time: 9-16", "time",
     "'9-16' is not a time range HH:MM-HH:MM", "09:00-16:00"),
    ("place: Falun, Länsstyrelsen Dalarna", "place: Falun\n    time: 16:00-09:00", "time",
     "'16:00-09:00' does not end after it starts", "HH:MM-HH:MM"),
    ("place: Falun, Länsstyrelsen Dalarna", "place: Falun\n    time: 09:00-09:00", "time",
     "'09:00-09:00' does not end after it starts", "HH:MM-HH:MM"),
    ("place: Falun, Länsstyrelsen Dalarna", "place: Falun\n    time: 9:00-16:00", "time",
     "'9:00-16:00' is not a time range HH:MM-HH:MM", "HH:MM-HH:MM"),
])
def test_a_bad_session_value_is_reported_at_its_line(spec_root: Path, old: str, new: str, field: str,
                                                     message: str, hint: str) -> None:
    text = blended(SESSIONS.replace(old, new, 1))
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert problem.file.endswith("courses/a.yaml")
    written = new.splitlines()[-1].strip()  # the line of the bad value ("- key: …" for the first key)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.strip().removeprefix("- ") == written)
    assert (problem.line, problem.loc) == (line, f"sessions[0].{field}")
    assert message in problem.message
    assert hint in problem.hint


def test_a_missing_or_unknown_key_in_a_session(spec_root: Path) -> None:
    text = blended(SESSIONS.replace("    place: Stockholm\n", "    plats: Stockholm\n"))
    write(spec_root, "courses/a.yaml", text)
    problems = problems_of(spec_root)
    assert {(p.line, p.loc, p.message) for p in problems} == {
        (line_of(text, "- key: sthlm-1"), "sessions[1].place", "missing required key 'place'"),
        (line_of(text, "plats:"), "sessions[1].plats", "unknown key 'plats' in a session"),
    }
    unknown = only([p for p in problems if p.loc == "sessions[1].plats"])
    assert unknown.hint.startswith("did you mean 'place'? allowed keys: key, date, place, county, capacity")
    missing = only([p for p in problems if p.loc == "sessions[1].place"])
    assert missing.hint.startswith("add `place: Falun, Länsstyrelsen Dalarna`")


@pytest.mark.parametrize(("sessions", "loc", "message"), [
    ("sessions: falun\n", "sessions", "'falun' is not a list"),
    ("sessions:\n  - falun-1\n", "sessions[0]", "'falun-1' is not a mapping of keys (key: …, date: …)"),
])
def test_sessions_must_be_a_list_of_mappings(spec_root: Path, sessions: str, loc: str, message: str) -> None:
    text = blended(sessions)
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc, problem.message) == (line_of(text, sessions.splitlines()[-1].strip()),
                                                           loc, message)


def test_county_codes_are_the_21_counties_and_lowercase_is_read_as_uppercase() -> None:
    assert len(COUNTIES) == 21
    assert set(COUNTIES) == {"AB", "C", "D", "E", "F", "G", "H", "I", "K", "M", "N", "O", "S", "T", "U", "W", "X",
                             "Y", "Z", "AC", "BD"}
    assert (COUNTIES["W"], COUNTIES["AB"], COUNTIES["BD"]) == ("Dalarna", "Stockholm", "Norrbotten")
    assert session(county="w").county == "W"
    assert session(county=" ac ").county == "AC"
    for code in COUNTIES:
        assert session(county=code).county_name == COUNTIES[code]
    with pytest.raises(ValidationError, match="not the letter code of a Swedish county"):
        session(county="J")


def test_the_group_name_uses_the_town_before_the_first_comma() -> None:
    assert session(place="Borlänge").group_name == "Lärarlett tillfälle Borlänge 2026-03-10"
    assert session(place="Falun , Länsstyrelsen Dalarna, sal 3").town == "Falun"


def test_sessions_built_in_code_are_checked_too() -> None:
    base = {"key": "kurs-a", "version": "1.0.0", "title": "Kurs A", "shortname": "KA", "category": "barn",
            "summary": "", "sections": 4, "start_date": "2024-09-01", "language": "sv", "provider": "NCK",
            "target_groups": ["bvc"]}
    one = session()
    course = CourseSpec.model_validate(base | {"delivery": "blended", "sessions": [one]})
    assert course.sessions == (one,) and hash(course) == hash(course.model_copy())
    with pytest.raises(ValidationError, match="only for blended courses"):
        CourseSpec.model_validate(base | {"delivery": "web", "sessions": [one]})
    with pytest.raises(ValidationError, match="session key 'falun-2026-03' is listed twice"):
        CourseSpec.model_validate(base | {"delivery": "blended", "sessions": [one, session(date="2026-04-01")]})
    with pytest.raises(ValidationError):
        one.capacity = 10  # type: ignore[misc]


def test_sessions_are_part_of_the_digest(spec_root: Path) -> None:
    write(spec_root, "courses/a.yaml", course_text(delivery="blended"))
    without = load_specs(spec_root).digest
    write(spec_root, "courses/a.yaml", blended())
    with_two = load_specs(spec_root).digest
    write(spec_root, "courses/a.yaml", blended(SESSIONS.replace("capacity: 40", "capacity: 41")))
    changed = load_specs(spec_root).digest
    assert len({without, with_two, changed}) == 3
    # `sessions: []` is no sessions
    write(spec_root, "courses/a.yaml", blended("sessions: []\n"))
    assert load_specs(spec_root).digest == without


TWO_IN_FALUN = """\
sessions:
  - key: falun-fm
    date: 2026-03-10
    place: Falun, Länsstyrelsen Dalarna
    county: W
    capacity: 30
  - key: falun-em
    date: 2026-03-10
    place: Falun, Kulturhuset Tio14
    county: W
    capacity: 30
"""


def test_two_sessions_that_would_share_a_group_name_are_refused_with_a_way_out(spec_root: Path) -> None:
    # Moodle's create_groups refuses a name already used in the course
    write(spec_root, "courses/a.yaml", blended(TWO_IN_FALUN))
    problem = only(problems_of(spec_root))
    assert "'Lärarlett tillfälle Falun 2026-03-10'" in problem.message and "time:" in problem.message
    with_hours = TWO_IN_FALUN.replace("    county: W\n    capacity: 30\n  - key: falun-em",
                                      "    time: 09:00-12:00\n    county: W\n    capacity: 30\n  - key: falun-em")
    write(spec_root, "courses/a.yaml", blended(with_hours))
    names = [s.group_name for s in load_specs(spec_root).courses["kurs-a"].sessions]
    assert names == ["Lärarlett tillfälle Falun 2026-03-10 09:00-12:00", "Lärarlett tillfälle Falun 2026-03-10"]


def test_a_session_key_that_makes_the_group_idnumber_too_long_for_moodle_is_refused(spec_root: Path) -> None:
    long_key = "k" * 60
    write(spec_root, "courses/a.yaml", blended(SESSIONS.replace("key: falun-1", f"key: {long_key}"),
                                               key="a" * 40))
    problem = only(problems_of(spec_root))
    assert "100 characters" in problem.message
