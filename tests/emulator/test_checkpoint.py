"""Checkpoints: a copy of the whole site that tests restore for each crash point instead of building it again."""

from __future__ import annotations

from moodle_sync.emulator import Emulator

from .conftest import Caller


def courses(call: Caller) -> list[str]:
    return sorted(c["shortname"] for c in call.ok("core_course_get_courses_by_field", {})["courses"])


def test_a_restored_site_answers_as_it_did_at_its_checkpoint_and_can_be_restored_again(
        call: Caller, emulator: Emulator, course: int) -> None:
    call.ok("core_course_get_courses_by_field", {})
    saved = emulator.checkpoint()
    before = (emulator.snapshot(), courses(call))
    cat = emulator.add_category("Andra")
    call.ok("core_course_create_courses", {"courses": [{"fullname": "Ny", "shortname": "NY-1", "categoryid": cat}]})
    call.ok("core_course_update_courses", {"courses": [{"id": course, "fullname": "Ändrad"}]})
    emulator.add_token("other0123456789abcdef0123456789ab")
    assert courses(call) != before[1]

    new_ids = []
    for _ in range(2):  # restoring leaves the checkpoint as it was
        emulator.restore(saved)
        assert emulator.calls == ["core_course_get_courses_by_field"]
        assert (emulator.snapshot(), courses(call)) == before
        assert Caller(emulator, "other0123456789abcdef0123456789ab").raw("core_webservice_get_site_info")[1] \
            .startswith(b'{"exception":"moodle_exception","errorcode":"invalidtoken"')
        # the id sequences are restored too: each restored site numbers its next course alike
        new_ids += call.ok("core_course_create_courses", {"courses": [
            {"fullname": "Ny", "shortname": "NY-1", "categoryid": 1}]})
    assert new_ids[0] == new_ids[1]
