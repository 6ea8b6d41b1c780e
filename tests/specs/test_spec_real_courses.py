"""The programme's real specs in course_specs/ load cleanly and say what the source documents say."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from moodle_sync.specs.load import load_specs
from moodle_sync.specs.models import CourseSpec
from moodle_sync.specs.source import field_line, spec_source
from moodle_sync.specs.spec_set import SpecSet

REAL = Path(__file__).resolve().parents[2] / "course_specs"

#: every target group in the domain notes (shared/domain.md), by key and sector
TARGET_GROUPS = {
    "modrahalsovard-bvc-gynekologer": "halso-och-sjukvard",
    "vardcentral-asylhalsan": "halso-och-sjukvard",
    "elevhalsan-ungdomsmottagningar": "halso-och-sjukvard",
    "bup-vuxenpsykiatri": "halso-och-sjukvard",
    "socialsekreterare": "socialtjanst",
    "oppenvard-skyddat-boende-hvb": "socialtjanst",
    "arbete-med-valdsutovare": "socialtjanst",
    "chefer-samordnare": "bada",
    "skolledare-elevhalsa": "skola",
    "utbildare": "ovrigt",
    "kvinnojourer": "ideell",
}


@pytest.fixture(scope="module")
def real() -> SpecSet:
    return load_specs(REAL)


def test_the_real_specs_load_without_problems(real: SpecSet) -> None:
    assert len(real.digest) == 64
    assert set(real.courses) == {"hrv-socialtjanst", "hrv-halso-och-sjukvard", "hrv-utbildare",
                                 "nck-grundkurs-vinr", "skolverket-hrv-skolan", "webbkurs-heder"}


def test_every_target_group_of_the_domain_is_there_with_its_sector(real: SpecSet) -> None:
    assert {k: g.sector for k, g in real.target_groups.items()} == TARGET_GROUPS
    assert all(g.name and g.description for g in real.target_groups.values())


def test_every_target_group_is_served_by_some_course(real: SpecSet) -> None:
    served = {g for c in real.courses.values() for g in c.target_groups}
    assert served == set(real.target_groups)


def test_categories_are_one_root_with_a_child_per_provider(real: SpecSet) -> None:
    roots = [c for c in real.categories.values() if c.parent is None]
    assert [r.name for r in roots] == ["Våld i nära relationer och hedersrelaterat våld"]
    children = {c.key: c.name for c in real.categories.values() if c.parent == roots[0].key}
    assert children == {"socialstyrelsen": "Socialstyrelsen", "nck": "Nationellt centrum för kvinnofrid (NCK)",
                        "skolverket": "Skolverket", "lansstyrelserna": "Länsstyrelserna"}


def by(real: SpecSet, key: str) -> CourseSpec:
    return real.courses[key]


def test_socialstyrelsens_in_depth_courses_are_free_and_blended(real: SpecSet) -> None:
    social, health = by(real, "hrv-socialtjanst"), by(real, "hrv-halso-och-sjukvard")
    for course in (social, health):
        assert (course.provider, course.delivery, course.fee_sek, course.category) == (
            "Socialstyrelsen", "blended", 0, "socialstyrelsen")
        assert "kostnadsfri" in course.summary and "lärarledda" in course.summary
    assert "socialsekreterare" in social.target_groups
    assert set(health.target_groups) >= {"modrahalsovard-bvc-gynekologer", "vardcentral-asylhalsan",
                                         "elevhalsan-ungdomsmottagningar", "bup-vuxenpsykiatri"}
    assert "chefer-samordnare" in social.target_groups and "chefer-samordnare" in health.target_groups


def test_the_course_for_trainers_is_not_free(real: SpecSet) -> None:
    trainers = by(real, "hrv-utbildare")
    assert trainers.fee_sek > 0
    assert trainers.target_groups == ("utbildare",)
    assert "utbildare" in trainers.title


def test_ncks_basic_course_is_version_2_for_the_2022_regulations(real: SpecSet) -> None:
    nck = by(real, "nck-grundkurs-vinr")
    assert (nck.version, nck.idnumber, nck.provider, nck.delivery, nck.fee_sek) == (
        "2.0.0", "nck-grundkurs-vinr@2", "NCK", "web", 0)
    assert "SOSFS 2014:4" in nck.summary and "1 november 2022" in nck.summary
    assert nck.start_date.isoformat() == "2022-11-01"


def test_skolverket_and_the_county_boards(real: SpecSet) -> None:
    school = by(real, "skolverket-hrv-skolan")
    assert (school.provider, school.delivery, school.category) == ("Skolverket", "web", "skolverket")
    assert "skolledare-elevhalsa" in school.target_groups
    county = by(real, "webbkurs-heder")
    assert (county.provider, county.delivery, county.fee_sek, county.category) == (
        "Länsstyrelsen Stockholm", "web", 0, "lansstyrelserna")
    for partner in ("Origo", "Östergötland", "Södertälje"):
        assert partner in county.summary


def test_templates_name_the_courses_the_demo_seeds(real: SpecSet) -> None:
    templates = {c.key: c.template for c in real.courses.values() if c.template}
    assert templates == {"hrv-socialtjanst": "mall-hrv-socialtjanst",
                         "hrv-halso-och-sjukvard": "mall-hrv-halso-och-sjukvard",
                         "hrv-utbildare": "mall-hrv-utbildare"}


def test_all_courses_are_in_swedish_and_unique_in_moodle(real: SpecSet) -> None:
    courses = list(real.courses.values())
    assert {c.language for c in courses} == {"sv"}
    assert not any(c.force_language for c in courses)
    assert len({c.moodle_shortname for c in courses}) == len({c.idnumber for c in courses}) == len(courses)


def test_errors_about_real_specs_can_point_at_the_template_line(real: SpecSet) -> None:
    spec = by(real, "hrv-socialtjanst")
    source = spec_source(spec)
    assert source is not None and source.file.endswith("course_specs/courses/hrv-socialtjanst.yaml")
    line = field_line(spec, "template")
    text = (REAL / "courses" / "hrv-socialtjanst.yaml").read_text(encoding="utf-8").splitlines()
    assert line is not None and text[line - 1].startswith("template: mall-hrv-socialtjanst")


# --- enrolment rules and teacher-led sessions ------------------------------------------------------

def test_every_course_has_an_enrolment_rule(real: SpecSet) -> None:
    assert {r.course for r in real.rules.values()} == set(real.courses)
    assert len(real.rules) == 6


def test_social_services_must_take_the_hrv_course_soon_after_starting_and_every_three_years(real: SpecSet) -> None:
    [social] = real.rules_for_course("hrv-socialtjanst")
    assert set(social.target_groups) == {"socialsekreterare", "oppenvard-skyddat-boende-hvb"}
    assert (social.requirement, social.role, social.new_staff_deadline_days, social.refresher_months,
            social.require_new_major) == ("required", "student", 90, 36, False)


def test_health_care_groups_must_take_the_health_care_course(real: SpecSet) -> None:
    [health] = real.rules_for_course("hrv-halso-och-sjukvard")
    assert health.required
    assert set(health.target_groups) == {k for k, sector in TARGET_GROUPS.items() if sector == "halso-och-sjukvard"}


def test_ncks_new_major_version_is_required_of_every_social_worker(real: SpecSet) -> None:
    [nck] = real.rules_for_course("nck-grundkurs-vinr")
    assert (nck.target_groups, nck.requirement, nck.require_new_major) == (("socialsekreterare",), "required", True)
    # someone who took version 1 (SOSFS 2014:4) last year is enrolled into version 2
    assert nck.needs_enrolment([(1, datetime.date(2022, 6, 1))], current_major=by(real, nck.course).major,
                               today=datetime.date(2023, 1, 1))


def test_the_recommended_courses(real: SpecSet) -> None:
    recommended = {r.course: set(r.target_groups) for r in real.rules.values() if not r.required}
    assert recommended == {
        "hrv-utbildare": {"utbildare"},
        "skolverket-hrv-skolan": {"skolledare-elevhalsa", "elevhalsan-ungdomsmottagningar"},
        "webbkurs-heder": {"kvinnojourer", "chefer-samordnare"},
    }
    assert real.courses_for_group("kvinnojourer") == ["webbkurs-heder"]
    assert real.courses_for_group("socialsekreterare") == ["hrv-socialtjanst", "nck-grundkurs-vinr"]


def test_every_rule_enrols_groups_the_course_is_for(real: SpecSet) -> None:
    for r in real.rules.values():
        assert set(r.target_groups) <= set(by(real, r.course).target_groups), r.key


def test_socialstyrelsens_courses_have_sessions_in_dalarna_and_stockholm(real: SpecSet) -> None:
    with_sessions = {k: c for k, c in real.courses.items() if c.sessions}
    assert set(with_sessions) == {"hrv-socialtjanst", "hrv-halso-och-sjukvard"}
    assert all(c.delivery == "blended" for c in with_sessions.values())
    social = by(real, "hrv-socialtjanst")
    assert {s.county for s in social.sessions} == {"W", "AB"}
    falun = social.sessions[0]
    assert social.session_idnumber(falun) == "hrv-socialtjanst@1:falun-2026-03"
    assert falun.group_name == "Lärarlett tillfälle Falun 2026-03-10 09:00-16:00"
    groups = [c.session_idnumber(s) for c in with_sessions.values() for s in c.sessions]
    assert len(groups) == len(set(groups)) == 5


def test_the_rules_are_in_the_digest_of_the_real_specs(real: SpecSet) -> None:
    bare = SpecSet.from_specs(real.categories.values(), real.courses.values(), real.target_groups.values())
    full = SpecSet.from_specs(real.categories.values(), real.courses.values(), real.target_groups.values(),
                              rules=real.rules.values())
    assert full.digest == real.digest != bare.digest
