"""Helpers for the spec tests: a small valid spec tree, ways to break it, and the problems it yields."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.errors import SpecError, SpecProblem
from moodle_sync.specs.load import load_specs

CATEGORIES = """\
# kategorier
- key: rot
  name: Rot
- key: barn
  name: Barn
  parent: rot
"""

TARGET_GROUPS = """\
- key: socialsekreterare
  name: Socialsekreterare och biståndsbedömare
  sector: socialtjanst
- key: bvc
  name: Barnavårdscentral
  sector: halso-och-sjukvard
"""

#: one course, one key per line in this order (tests find a key's line with line_of)
COURSE_FIELDS: dict[str, str] = {
    "key": "kurs-a",
    "version": "1.2.3",
    "title": "Kurs A",
    "shortname": "KA",
    "category": "barn",
    "summary": "<p>Om kurs A</p>",
    "sections": "4",
    "start_date": "2024-09-01",
    "language": "sv",
    "provider": "NCK",
    "delivery": "web",
}
COURSE_GROUPS = ("socialsekreterare", "bvc")

#: enrolment rules for the tree of make_tree; make_tree does not write them (the file is optional)
RULES = """\
# inskrivningsregler
- key: kurs-a-soc
  course: kurs-a
  target_groups:
    - socialsekreterare
  new_staff_deadline_days: 90
  refresher_months: 36

- key: kurs-a-bvc
  course: kurs-a
  target_groups: [bvc]
  role: editingteacher
  requirement: recommended
  window_start: 2025-01-01
  window_end: 2025-07-01
  require_new_major: true
"""

#: two sessions, to append to a blended course: course_text(delivery="blended", extra=SESSIONS)
SESSIONS = """\
sessions:
  - key: falun-1
    date: 2026-03-10
    place: Falun, Länsstyrelsen Dalarna
    county: W
    capacity: 30
  - key: sthlm-1
    date: 2026-05-19
    time: 09:00-16:00
    place: Stockholm
    county: AB
    capacity: 40
"""


def rule_text(key: str, course: str = "kurs-a", groups: tuple[str, ...] = ("socialsekreterare",),
              extra: str = "") -> str:
    """One more rule, to append to RULES; ``extra`` holds further keys, each line indented by two spaces."""
    lines = [f"- key: {key}", f"  course: {course}", "  target_groups:"] + [f"    - {g}" for g in groups]
    return "\n".join(lines) + "\n" + extra


def course_text(changes: dict[str, str] | None = None, *, drop: tuple[str, ...] = (),
                groups: tuple[str, ...] = COURSE_GROUPS, extra: str = "", **values: str) -> str:
    """A course file: COURSE_FIELDS with ``changes``/``values`` replaced, ``drop`` left out, ``extra`` appended."""
    fields = {**COURSE_FIELDS, **(changes or {}), **values}
    lines = [f"{k}: {v}" for k, v in fields.items() if k not in drop]
    lines.append("target_groups:")
    lines += [f"  - {g}" for g in groups]
    return "\n".join(lines) + "\n" + extra


def line_of(text: str, start: str, nth: int = 1) -> int:
    """1-based number of the ``nth`` line of ``text`` that starts (after indentation) with ``start``."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith(start)]
    return found[nth - 1]


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def make_tree(root: Path) -> Path:
    """A valid tree: two categories, two target groups, one course (courses/a.yaml)."""
    write(root, "categories.yaml", CATEGORIES)
    write(root, "target_groups.yaml", TARGET_GROUPS)
    write(root, "courses/a.yaml", course_text())
    return root


def problems_of(root: Path) -> list[SpecProblem]:
    """Load ``root``, expect a SpecError, return its problems."""
    with pytest.raises(SpecError) as info:
        load_specs(root)
    return info.value.problems


def only(problems: list[SpecProblem]) -> SpecProblem:
    assert len(problems) == 1, "\n".join(str(p) for p in problems)
    return problems[0]


def at(problems: list[SpecProblem], file_suffix: str, line: int | None) -> list[SpecProblem]:
    """The problems reported for ``file_suffix`` (e.g. ``courses/a.yaml``) at ``line``."""
    return [p for p in problems if p.file.endswith(file_suffix) and p.line == line]
