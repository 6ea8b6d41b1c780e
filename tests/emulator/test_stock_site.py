"""The emulator starts as a freshly installed Moodle 4.3 does, and answers null where such a site does.

Install-time rows come from lib/db/install.php (xmldb_main_install): "Category 1" without idnumber,
description or theme; the site course without summary or showcompletionconditions; guest and admin.
"""

from __future__ import annotations

from moodle_sync.emulator import Emulator

from .conftest import Caller


def test_the_default_category_has_a_null_idnumber(call: Caller) -> None:
    [category] = call.ok("core_course_get_categories", {})
    assert category["id"] == 1 and category["name"] == "Category 1" and category["parent"] == 0
    # NULL columns: idnumber answered as null; description and theme go through format_text/clean_param
    assert category["idnumber"] is None
    assert category["description"] == "" and category["descriptionformat"] == 1
    assert category["theme"] == ""


def test_a_category_created_without_idnumber_answers_null(call: Caller) -> None:
    [made] = call.ok("core_course_create_categories", {"categories": [{"name": "Utan"}]})
    [category] = call.ok("core_course_get_categories", {"criteria": [{"key": "id", "value": made["id"]}]})
    assert category["idnumber"] is None
    # and an empty idnumber searched for matches neither it nor Category 1 (SQL: idnumber = '')
    assert call.ok("core_course_get_categories", {"criteria": [{"key": "idnumber", "value": ""}]}) == []


def test_the_site_course_as_core_course_get_courses_answers_it(call: Caller) -> None:
    [site] = call.ok("core_course_get_courses", {})
    assert site["id"] == 1 and site["format"] == "site" and site["categoryid"] == 0
    assert site["enablecompletion"] == 0 and site["idnumber"] == ""
    assert site["showcompletionconditions"] is None and site["showactivitydates"] is False
    # summary NULL, summaryformat 0: an empty text keeps its stored format (util::format_text)
    assert site["summary"] == "" and site["summaryformat"] == 0


def test_the_site_course_by_field_has_null_showcompletionconditions(call: Caller) -> None:
    [site] = call.ok("core_course_get_courses_by_field", {"field": "id", "value": "1"})["courses"]
    assert site["showcompletionconditions"] is None and site["categoryname"] == ""


def test_an_empty_summary_keeps_its_format(call: Caller, emulator: Emulator) -> None:
    cat = emulator.add_category("K")
    call.ok("core_course_create_courses", {"courses": [
        {"fullname": "K", "shortname": "K", "categoryid": cat, "summary": "", "summaryformat": 0}]})
    [course] = call.ok("core_course_get_courses_by_field", {"field": "shortname", "value": "K"})["courses"]
    assert course["summary"] == "" and course["summaryformat"] == 0
    assert course["showcompletionconditions"] is True


def test_a_cohort_made_outside_web_services_may_have_no_idnumber(call: Caller, emulator: Emulator) -> None:
    cohortid = emulator.add_cohort("Från formuläret", None)  # cohort_add_cohort(): unset idnumber is NULL
    other = emulator.add_cohort("Målgrupp", "tg:x:AB")
    [cohort] = call.ok("core_cohort_get_cohorts", {"cohortids": [cohortid]})
    assert cohort["idnumber"] is None
    # a search looks at name, idnumber and description of every cohort; a NULL idnumber matches nothing
    found = call.ok("core_cohort_search_cohorts", {"query": "tg:", "context": {"contextid": 1},
                                                  "includes": "all"})["cohorts"]
    assert [c["id"] for c in found] == [other]


def test_guest_and_admin_are_the_installer_s(call: Caller) -> None:
    guest, admin = call.ok("core_user_get_users_by_field", {"field": "id", "values": [1, 2]})
    assert (guest["username"], guest["auth"], guest["email"]) == ("guest", "manual", "root@localhost")
    # lang/en/moodle.php guestuserinfo, set as the guest's description by the installer
    assert guest["description"] == "This user is a special user that allows read-only access to some courses."
    assert admin["username"] == "admin" and "description" not in admin  # NULL description: not returned
