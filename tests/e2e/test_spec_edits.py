"""Spec edits that cannot do what they say: a version going backwards is refused, a change of sections
on an existing course version warns that Moodle will not get it, and `apply course_specs/` points at --specs."""

from __future__ import annotations

import pytest

from .conftest import Site, run

SOC = "hrv-socialtjanst"


@pytest.fixture
def applied(served: Site, capsys: pytest.CaptureFixture[str]) -> Site:
    assert run("apply", "--yes") == 0
    capsys.readouterr()
    return served


def test_a_minor_version_going_backwards_is_refused(applied: Site, capsys: pytest.CaptureFixture[str]) -> None:
    applied.edit_course(SOC, version="1.2.0", title="Hedersrelaterat våld – socialtjänsten, ny text")
    assert run("apply", "--yes") == 0
    applied.edit_course(SOC, version="1.1.0")
    capsys.readouterr()
    assert run("plan") == 1
    err = capsys.readouterr().err
    assert f"version 1.1.0 of {SOC} goes backwards: {SOC}@1 in Moodle was applied as 1.2.0" in err
    assert "hrv-socialtjanst.yaml:4" in err
    assert run("apply", "--yes") == 1
    assert "goes backwards" in capsys.readouterr().err


def test_a_major_version_going_backwards_is_refused(applied: Site, capsys: pytest.CaptureFixture[str]) -> None:
    applied.edit_course("nck-grundkurs-vinr", version="1.4.0")
    assert run("plan") == 1
    assert ("version 1.4.0 of nck-grundkurs-vinr goes backwards: nck-grundkurs-vinr@2 (major version 2) already "
            "exists in Moodle") in capsys.readouterr().err


def test_a_version_going_forward_is_fine(applied: Site, capsys: pytest.CaptureFixture[str]) -> None:
    applied.edit_course(SOC, version="1.0.1", title="Hedersrelaterat våld – socialtjänsten (rättad)")
    assert run("plan") == 0
    assert "goes backwards" not in capsys.readouterr().err


def test_changing_sections_of_an_existing_course_version_warns(applied: Site,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    applied.edit_course(SOC, version="1.1.0", sections=12)
    assert run("plan") == 0
    out = capsys.readouterr().out
    assert (f"! course_specs/courses/{SOC}.yaml:18: sections changed from 8 to 12 on {SOC}@1, which already exists in "
            f"Moodle: Moodle will not get it") in out.replace(str(applied.specs_dir.parent) + "/", "")
    assert run("apply", "--yes") == 0
    capsys.readouterr()
    assert run("plan") == 0
    assert "sections changed from 8 to 12" in capsys.readouterr().out, "still true after apply: Moodle has 8"


def test_a_new_course_takes_its_sections_without_warning(applied: Site, capsys: pytest.CaptureFixture[str]) -> None:
    applied.edit_course(SOC, version="2.0.0", sections=12)
    assert run("plan") == 0
    assert "sections changed" not in capsys.readouterr().out


def test_apply_of_a_specs_directory_says_to_use_specs(applied: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("apply", str(applied.specs_dir)) == 64
    err = capsys.readouterr().err
    assert f"run `moodle-sync apply --specs {applied.specs_dir}`" in err
