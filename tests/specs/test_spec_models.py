"""The models: validation rules, derived Moodle values (idnumber, short name, timestamps) and sources."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from spec_tree import course_text, line_of, write

from moodle_sync.specs.fields import midnight_stockholm, parse_semver
from moodle_sync.specs.load import load_specs
from moodle_sync.specs.models import CategorySpec, CourseSpec, TargetGroup
from moodle_sync.specs.source import SourceRef, field_line, spec_source
from moodle_sync.specs.spec_set import SpecSet

UTC = datetime.UTC
CET = datetime.timezone(datetime.timedelta(hours=1))
CEST = datetime.timezone(datetime.timedelta(hours=2))


def course(**changes: Any) -> CourseSpec:
    fields: dict[str, Any] = {
        "key": "hrv-socialtjanst", "version": "1.0.0", "title": "Hedersrelaterat våld och förtryck",
        "shortname": "HRV-SOC", "category": "socialstyrelsen", "summary": "<p>Om kursen</p>", "sections": 8,
        "start_date": datetime.date(2024, 9, 1), "language": "sv", "provider": "Socialstyrelsen",
        "delivery": "blended", "target_groups": ["socialsekreterare"],
    }
    fields.update(changes)
    return CourseSpec.model_validate(fields)


semver_parts = st.tuples(*[st.integers(min_value=0, max_value=10**6)] * 3)


@given(semver_parts)
def test_any_semantic_version_is_accepted_and_its_major_names_the_moodle_course(
        parts: tuple[int, int, int]) -> None:
    version = ".".join(map(str, parts))
    spec = course(version=version)
    assert spec.version_tuple == parts == parse_semver(version)
    assert spec.major == parts[0]
    assert spec.idnumber == f"hrv-socialtjanst@{parts[0]}"
    assert spec.moodle_shortname == f"HRV-SOC-v{parts[0]}"


@given(st.text(max_size=20))
def test_text_that_is_not_major_minor_patch_is_rejected(text: str) -> None:
    pieces = text.split(".")
    is_semver = (len(pieces) == 3 and all(p.isascii() and p.isdigit() for p in pieces)
                 and all(p == "0" or not p.startswith("0") for p in pieces))
    if is_semver:
        assert course(version=text).version == text
    else:
        with pytest.raises(ValidationError, match="is not a semantic version|valid string"):
            course(version=text)


@pytest.mark.parametrize("bad", ["1.2", "v1.2.3", "01.2.3", "1.02.3", "1.2.3-beta", "1.2.3+build", " 1.2.3",
                                 "1.2.3.4", "1..3", "", "١.٢.٣"])
def test_versions_that_look_close_are_still_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        course(version=bad)


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{0,40}", fullmatch=True))
def test_slug_keys_are_accepted(key: str) -> None:
    assert course(key=key).idnumber == f"{key}@1"
    assert CategorySpec(key=key, name="Namn").idnumber == f"cat:{key}"


@pytest.mark.parametrize("bad", ["Hrv", "-hrv", "hrv_soc", "hrv soc", "hälsa", "", "a" * 61])
def test_keys_that_are_not_slugs_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        course(key=bad)
    with pytest.raises(ValidationError):
        TargetGroup(key=bad, name="Namn", sector="skola")


def test_timestamps_are_midnight_in_stockholm_winter_and_summer() -> None:
    winter = course(start_date=datetime.date(2024, 1, 15), end_date=datetime.date(2024, 7, 1))
    assert winter.start_timestamp == int(datetime.datetime(2024, 1, 15, tzinfo=CET).timestamp()) == 1705273200
    assert winter.end_timestamp == int(datetime.datetime(2024, 7, 1, tzinfo=CEST).timestamp()) == 1719784800


def test_no_end_date_is_timestamp_zero() -> None:
    assert course().end_date is None
    assert course().end_timestamp == 0


@given(st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2100, 12, 31)))
def test_every_day_starts_at_local_midnight(day: datetime.date) -> None:
    stamp = course(start_date=day, end_date=day + datetime.timedelta(days=1)).start_timestamp
    local = datetime.datetime.fromtimestamp(stamp, ZoneInfo("Europe/Stockholm"))
    assert (local.date(), local.time()) == (day, datetime.time(0))
    assert datetime.datetime.fromtimestamp(stamp, UTC).utcoffset() == datetime.timedelta(0)
    assert midnight_stockholm(day) - int(datetime.datetime(day.year, day.month, day.day, tzinfo=UTC)
                                         .timestamp()) in (-3600, -7200)


def test_dates_given_as_text_are_read_as_iso_dates() -> None:
    spec = course(start_date="2024-09-01", end_date="2025-06-30")
    assert (spec.start_date, spec.end_date) == (datetime.date(2024, 9, 1), datetime.date(2025, 6, 30))


def test_end_date_must_be_after_start_date() -> None:
    with pytest.raises(ValidationError, match="is not after start_date"):
        course(end_date=datetime.date(2024, 9, 1))


def test_defaults() -> None:
    spec = course()
    assert (spec.format, spec.visible, spec.force_language, spec.fee_sek, spec.template, spec.completion,
            spec.hide_previous_versions, spec.end_date) == ("topics", True, False, 0, None, True, False, None)
    assert spec.target_groups == ("socialsekreterare",)


def test_models_are_frozen_and_refuse_unknown_fields() -> None:
    spec = course()
    with pytest.raises(ValidationError):
        spec.title = "Annat"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        course(verison="1.0.0")


def test_strings_are_trimmed_and_the_summary_too() -> None:
    spec = course(title="  Kurs  ", shortname=" HRV ", summary="<p>x</p>\n")
    assert (spec.title, spec.shortname, spec.summary) == ("Kurs", "HRV", "<p>x</p>")


def test_a_spec_built_in_code_has_no_source() -> None:
    spec = course()
    assert spec_source(spec) is None
    assert field_line(spec, "version") is None


def test_a_loaded_spec_knows_its_file_and_the_line_of_each_key(spec_root: Path) -> None:
    text = "# Kurs A\n" + course_text(extra="template: mall-a\n")
    write(spec_root, "courses/a.yaml", text)
    spec = load_specs(spec_root).courses["kurs-a"]
    source = spec_source(spec)
    assert source is not None
    assert source.file.endswith("specs/courses/a.yaml") and source.line == 2
    assert str(source) == f"{source.file}:2"
    assert field_line(spec, "template") == line_of(text, "template:")
    assert field_line(spec, "version") == line_of(text, "version:")
    assert field_line(spec, "target_groups[1]") == line_of(text, "- bvc")
    # a key that is not written (a default applies) points at the start of the spec
    assert field_line(spec, "format") == 2


def test_categories_and_target_groups_know_their_lines_too(spec_root: Path) -> None:
    specs = load_specs(spec_root)
    barn = spec_source(specs.categories["barn"])
    assert barn is not None and barn.file.endswith("specs/categories.yaml")
    assert barn == SourceRef(barn.file, 4)
    assert field_line(specs.categories["barn"], "parent") == 6
    assert field_line(specs.target_groups["bvc"], "sector") == 6


def test_where_a_spec_came_from_is_not_part_of_its_value(spec_root: Path) -> None:
    loaded = load_specs(spec_root).courses["kurs-a"]
    built = loaded.model_copy()
    assert spec_source(built) == spec_source(loaded)
    fresh = CourseSpec.model_validate(loaded.model_dump())
    assert spec_source(fresh) is None
    assert fresh == loaded and hash(fresh) == hash(loaded)
    assert "_source" not in loaded.model_dump_json()


def test_a_shortname_must_not_carry_the_version() -> None:
    with pytest.raises(ValidationError, match="ends in a version"):
        course(shortname="HRV-SOC-v2")


def test_a_spec_set_built_in_code_has_the_loaded_digest(spec_root: Path) -> None:
    loaded = load_specs(spec_root)
    built = SpecSet.from_specs(loaded.categories.values(), loaded.courses.values(),
                               loaded.target_groups.values(), root=spec_root)
    assert built.digest == loaded.digest
    assert built.courses == loaded.courses
