"""Existing cohorts mapped to the tool's: target group × county, from a mapping file or name patterns.

A mapping file (YAML, reviewed like the specs) lists one cohort per item::

    - cohort: Socialsekreterare Dalarna      # the cohort's name or ID number in Moodle
      target_group: socialsekreterare        # a key in target_groups.yaml
      county: W                              # a county's letter code or name

A name pattern maps every cohort whose whole name it matches: ``"Socialsekreterare {county}=socialsekreterare"``
(``{county}`` is any way of writing a county: Dalarna, Dalarnas län, W, 20). A mapped cohort gets the ID number
the tool gives its own (``tg:<group>:<county>``); its members stay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from moodle_sync.adopt.keys import close_matches
from moodle_sync.counties import resolve_county
from moodle_sync.identity import cohort_idnumber, parse_cohort_idnumber
from moodle_sync.moodle.models import Cohort

__all__ = ["CohortMark", "map_cohorts"]


@dataclass(frozen=True)
class CohortMark:
    """One cohort to mark as the tool's cohort of ``group`` in ``county``."""

    cohort: Cohort
    group: str
    county: str
    source: str

    @property
    def idnumber(self) -> str:
        return cohort_idnumber(self.group, self.county)


def map_cohorts(cohorts: Sequence[Cohort], site_wide: set[int], groups: set[str], mapping_file: str | None,
                patterns: Sequence[str]) -> tuple[list[CohortMark], list[str], list[str]]:
    """The cohorts to mark, the problems (nothing is marked while there is one) and notes (already the tool's).

    Args:
        cohorts: every cohort in Moodle.
        site_wide: the ids of those in the system context (the tool's cohorts are site-wide).
        groups: the target-group keys of the specs.
        mapping_file: a YAML mapping file, or None.
        patterns: ``"NAME PATTERN=GROUP"`` items, ``{county}`` standing for the county.
    """
    wanted: list[tuple[Cohort, str, str, str]] = []
    problems: list[str] = []
    if mapping_file:
        wanted += _from_file(cohorts, mapping_file, problems)
    for pattern in patterns:
        wanted += _from_pattern(cohorts, pattern, problems)
    marks: list[CohortMark] = []
    notes: list[str] = []
    taken = {c.idnumber: c for c in cohorts if c.idnumber}
    given: dict[str, CohortMark] = {}
    for cohort, group, county, source in wanted:
        if group not in groups:
            near = close_matches(group, groups)
            problems.append(f"{source}: {group!r} is not a target group in target_groups.yaml"
                            + (f"; close: {', '.join(near)}" if near else ""))
            continue
        mark = CohortMark(cohort, group, county, source)
        if cohort.idnumber == mark.idnumber:
            notes.append(f"cohort {cohort.name!r} is already the tool's ({mark.idnumber}); nothing to do")
            continue
        if parse_cohort_idnumber(cohort.idnumber):
            problems.append(f"{source}: cohort {cohort.name!r} is already the tool's cohort {cohort.idnumber}; "
                            f"the tool does not move a cohort to another target group or county")
            continue
        if cohort.id not in site_wide:
            problems.append(f"{source}: cohort {cohort.name!r} belongs to a category; the tool's cohorts are "
                            f"site-wide: move it to System in Moodle (Site administration > Users > Cohorts) first")
            continue
        if (other := taken.get(mark.idnumber)) is not None:
            problems.append(f"{source}: the tool's cohort {mark.idnumber} already exists ({other.name!r}, id "
                            f"{other.id}); move the members of {cohort.name!r} there in Moodle instead, or map it "
                            f"to another target group or county")
            continue
        if (first := given.get(mark.idnumber)) is not None:
            if first.cohort.id != cohort.id:
                problems.append(f"{source}: cohorts {first.cohort.name!r} and {cohort.name!r} would both be "
                                f"{mark.idnumber}; map one of them elsewhere")
            continue
        given[mark.idnumber] = mark
        marks.append(mark)
    return marks, problems, notes


def _find(cohorts: Sequence[Cohort], name: str, source: str, problems: list[str]) -> Cohort | None:
    named = [c for c in cohorts if c.idnumber == name] or [c for c in cohorts if c.name == name]
    if len(named) == 1:
        return named[0]
    if named:
        problems.append(f"{source}: {len(named)} cohorts are named {name!r} (ids "
                        f"{', '.join(str(c.id) for c in named)}); name it by its ID number, or rename one in Moodle")
        return None
    near = close_matches(name, [c.name for c in cohorts])
    problems.append(f"{source}: no cohort in Moodle has the name or ID number {name!r}"
                    + (f"; close: {', '.join(near)}" if near else ""))
    return None


def _from_file(cohorts: Sequence[Cohort], path: str, problems: list[str]) -> list[tuple[Cohort, str, str, str]]:
    try:
        items = YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as e:
        problems.append(f"{path}: cannot be read as a YAML mapping file ({e})")
        return []
    if not isinstance(items, list):
        problems.append(f"{path}: a list of items (- cohort: …, target_group: …, county: …) was expected")
        return []
    out = []
    for n, item in enumerate(items, 1):
        source = f"{path} item {n}"
        if not isinstance(item, dict) or set(item) != {"cohort", "target_group", "county"}:
            problems.append(f"{source}: write exactly cohort, target_group and county")
            continue
        try:
            county = resolve_county(str(item["county"])).code
        except ValueError as e:
            problems.append(f"{source}: county: {e}")
            continue
        cohort = _find(cohorts, str(item["cohort"]), source, problems)
        if cohort is not None:
            out.append((cohort, str(item["target_group"]), county, source))
    return out


def _from_pattern(cohorts: Sequence[Cohort], pattern: str, problems: list[str]) -> list[tuple[Cohort, str, str, str]]:
    source = f"--cohort-pattern {pattern!r}"
    names, sep, group = pattern.rpartition("=")
    if not sep or "{county}" not in names or not group.strip():
        problems.append(f"{source}: write NAME=GROUP with {{county}} in the name, e.g. "
                        f"'Socialsekreterare {{county}}=socialsekreterare'")
        return []
    before, _, after = names.partition("{county}")
    regex = re.compile(re.escape(before) + "(?P<county>.+?)" + re.escape(after), re.IGNORECASE)
    out = []
    for cohort in cohorts:
        m = regex.fullmatch(cohort.name.strip())
        if m is None:
            continue
        try:
            county = resolve_county(m.group("county")).code
        except ValueError:
            continue  # the pattern matched a name whose middle is no county: not one of these cohorts
        out.append((cohort, group.strip(), county, f"{source} (cohort {cohort.name!r})"))
    if not out:
        problems.append(f"{source}: no cohort's name matches it")
    return out
