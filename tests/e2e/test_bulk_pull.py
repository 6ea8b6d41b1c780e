"""The bulk pull through the completion report (a custom report an admin made once), against the emulator."""

from __future__ import annotations

import datetime
from collections import Counter
from pathlib import Path

import pytest

from moodle_sync.cli import EXIT_OK
from moodle_sync.completions.report_setup import COLUMNS, clicks
from moodle_sync.emulator.moodlelib.reportbuilder_columns import PARTICIPANTS

from .conftest import Site, run
from .test_completions import SOC, County, complete, course_people, dalarna, run_pull, teacher_marks_complete  # noqa: F401

RETRIEVE = "core_reportbuilder_retrieve_report"
STATUS = "core_completion_get_course_completion_status"
NAME = "moodle-sync"


def make_report(site: Site, name: str = NAME) -> int:
    """What an admin does once in the UI: a "Course participants" report without default setup."""
    return site.emulator.given({"kind": "custom_report", "name": name, "source": PARTICIPANTS,
                                "default_setup": False})


def calls(spy: object) -> Counter[str]:
    return Counter(f for f, _ in spy.calls)  # type: ignore[attr-defined]


def test_pull_reads_completions_from_the_report_in_a_handful_of_calls(dalarna: County) -> None:
    site = dalarna.site
    make_report(site)
    soc = dalarna.course[SOC]
    t1 = int(datetime.datetime(2026, 3, 31, 22, 30, tzinfo=datetime.UTC).timestamp())  # 1 April in Stockholm
    complete(site, soc, dalarna.ids[3], [t1 - 600, t1])
    teacher_marks_complete(site, soc, dalarna.ids[1])  # no visit
    result, spy = run_pull(site, report_name=NAME)
    assert result.bulk is not None and result.bulk.dates_certain, result.to_dict()
    counts = calls(spy)
    assert counts[RETRIEVE] <= 3
    assert counts[STATUS] <= len(dalarna.course)  # one question per course: is completion tracked there?
    people = course_people(site, SOC)
    assert people[dalarna.ids[3]].completed_at == t1 - t1 % 60  # Moodle's time, to the minute
    assert people[dalarna.ids[3]].completed_source == "report"
    assert people[dalarna.ids[1]].completed_at is not None  # marked by a teacher, no visit: seen at once
    assert all(p.completed_at is None for uid, p in people.items() if uid not in (dalarna.ids[1], dalarna.ids[3]))
