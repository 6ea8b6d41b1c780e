"""Categories and courses: all-or-nothing creates, partial updates, contents, import from a template."""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator import Emulator

from .conftest import Caller


def by_field(call: Caller, field: str, value: str) -> list[dict[str, Any]]:
    answer = call.ok("core_course_get_courses_by_field", {"field": field, "value": value})
    assert answer["warnings"] == [] or field == "ids"
    return list(answer["courses"])


def new_course(fullname: str, shortname: str, categoryid: int, **extra: Any) -> dict[str, Any]:
    return {"fullname": fullname, "shortname": shortname, "categoryid": categoryid, **extra}


def test_a_batch_with_one_bad_course_creates_none(call: Caller, emulator: Emulator) -> None:
    cat = emulator.add_category("K")
    call.ok("core_course_create_courses", {"courses": [new_course("Först", "TAKEN", cat)]})
    answer = call("core_course_create_courses", {"courses": [new_course("Ok", "OK-1", cat),
                                                             new_course("Dublett", "TAKEN", cat)]})
    assert answer == {"exception": "moodle_exception", "errorcode": "shortnametaken",
                      "message": "Short name is already used for another course (TAKEN)"}
    assert by_field(call, "shortname", "OK-1") == []
    # nothing of the rolled-back course is left behind: no context, sections or enrolment instance
    assert len(emulator.state.courses) == 2
    assert not [s for s in emulator.state.sections if s.course not in emulator.state.courses.rows]
    assert not [i for i in emulator.state.enrol if i.courseid not in emulator.state.courses.rows]


def test_create_errors(call: Caller, emulator: Emulator) -> None:
    cat = emulator.add_category("K")
    call.ok("core_course_create_courses", {"courses": [new_course("A", "A", cat, idnumber="a@1")]})
    assert call("core_course_create_courses", {"courses": [new_course("B", "B", cat, idnumber="a@1")]})[
        "message"] == "ID number is already used for another course (a@1)"
    assert call("core_course_create_courses", {"courses": [new_course("C", "C", cat, lang="")]})[
        "message"] == 'The param "lang" is invalid.'
    assert call("core_course_create_courses", {"courses": [new_course("D", "D", 999999)]})["message"] == (
        "You cannot execute functions in the category context (category id:999999). "
        "The context error message was: Invalid parameter value detected")
    assert call("core_course_create_courses", {"courses": [new_course(" ", "E", cat)]})["errorcode"] == \
        "errorinvalidparam"
    assert call("core_course_create_courses", {"courses": [new_course("F", "F", cat, startdate=200, enddate=100)]})[
        "errorcode"] == "enddatebeforestartdate"


def test_a_new_course_as_the_live_site_makes_it(call: Caller, emulator: Emulator, clock: list[int]) -> None:
    cat = emulator.add_category("K", idnumber="k")
    [created] = call.ok("core_course_create_courses", {"courses": [new_course(
        "Kurs", "KURS", cat, idnumber="kurs@1", showgrades=0, courseformatoptions=[
            {"name": "numsections", "value": "3"}, {"name": "hiddensections", "value": "0"}])]})
    [course] = by_field(call, "idnumber", "kurs@1")
    assert course["id"] == created["id"] and course["categoryid"] == cat
    assert course["visible"] == 1 and course["showgrades"] == 0 and course["newsitems"] == 5
    assert course["enrollmentmethods"] == ["manual"] and course["timecreated"] == clock[0]
    assert course["courseformatoptions"] == [{"name": "hiddensections", "value": 0},
                                             {"name": "coursedisplay", "value": 0},
                                             {"name": "indentation", "value": "1"}]
    contents = call.ok("core_course_get_contents", {"courseid": course["id"]})
    assert [(s["section"], s["name"]) for s in contents] == [(0, "General"), (1, "Topic 1"), (2, "Topic 2"),
                                                             (3, "Topic 3")]
    [forum] = contents[0]["modules"]
    assert (forum["modname"], forum["name"], forum["modplural"]) == ("forum", "Announcements", "Forums")
    category = call.ok("core_course_get_categories", {"criteria": [{"key": "id", "value": str(cat)}]})[0]
    assert category["coursecount"] == 1 and course["sortorder"] == category["sortorder"] + 1


def test_sortorders_follow_fix_course_sortorder(call: Caller, emulator: Emulator) -> None:
    root = emulator.add_category("Rot")
    child = emulator.add_category("Barn", parent=root)
    later = emulator.add_category("Senare")
    older = emulator.add_course("Äldre", "OLD", child)
    newer = emulator.add_course("Nyare", "NEW", child)
    cats = {c["id"]: c for c in call.ok("core_course_get_categories")}
    assert [cats[i]["sortorder"] for i in (1, root, child, later)] == [10000, 20000, 30000, 40000]
    assert (cats[child]["path"], cats[child]["depth"]) == (f"/{root}/{child}", 2)
    orders = {c["id"]: c["sortorder"] for c in by_field(call, "category", str(child))}
    assert orders == {newer: 30001, older: 30002}  # a new course goes first in its category


def test_update_is_partial_with_warnings(call: Caller, emulator: Emulator) -> None:
    cat = emulator.add_category("K")
    a = emulator.add_course("A", "A", cat)
    b = emulator.add_course("B", "B", cat)
    answer = call.ok("core_course_update_courses", {"courses": [
        {"id": a, "fullname": "A2"}, {"id": b, "shortname": "A"}, {"id": 999999, "fullname": "x"}]})
    assert answer == {"warnings": [
        {"item": "course", "itemid": b, "warningcode": "shortnametaken",
         "message": "Short name is already used for another course (A)"},
        {"item": "course", "itemid": 999999, "warningcode": "invalidrecord",
         "message": "Can't find data record in database table course."}]}
    assert by_field(call, "id", str(a))[0]["fullname"] == "A2"
    assert by_field(call, "id", str(b))[0]["shortname"] == "B"


def test_wrong_typed_lookups_find_nothing(call: Caller) -> None:
    assert by_field(call, "id", "not-an-int") == []
    answer = call.ok("core_course_get_courses_by_field", {"field": "ids", "value": "1,424242"})
    assert [c["id"] for c in answer["courses"]] == [1]
    assert answer["warnings"][0]["itemid"] == 424242


def test_delete_courses_reports_unknown_ids(call: Caller, emulator: Emulator) -> None:
    a = emulator.add_course("A", "A", 1)
    answer = call.ok("core_course_delete_courses", {"courseids": [a, 424242]})
    assert answer["warnings"] == [{"item": "course", "itemid": 424242, "warningcode": "unknowncourseidnumber",
                                   "message": "Unknown course ID 424242"}]
    assert by_field(call, "id", str(a)) == []


def test_import_copies_activities_with_idnumbers_and_criteria(call: Caller, emulator: Emulator) -> None:
    cat = emulator.add_category("Mallar")
    template = emulator.add_course("Mall", "MALL", cat, idnumber="mall", modules=[
        {"name": "Intro", "modname": "page", "idnumber": "intro", "section": 1, "completion": 2},
        {"name": "Test", "modname": "quiz", "idnumber": "test", "section": 2, "completion": 2}],
        completion_criteria=True)
    [target] = call.ok("core_course_create_courses", {"courses": [new_course("Ny", "NY", cat)]})
    assert call("core_course_import_course", {"importfrom": template, "importto": target["id"]}) is None
    modules = emulator.course_modules(target["id"])
    assert [(m["modname"], m["idnumber"], m["section"], m["completion"]) for m in modules] == [
        ("forum", "", 0, 0), ("forum", "", 0, 0), ("page", "intro", 1, 2), ("quiz", "test", 2, 2)]
    criteria = emulator.state.criteria.by("course", target["id"])
    assert sorted(c.moduleinstance for c in criteria) == sorted(m["id"] for m in modules if m["completion"])
    # a second import adds the activities again but no second set of criteria
    call("core_course_import_course", {"importfrom": template, "importto": target["id"]})
    assert len(emulator.course_modules(target["id"])) == 7
    assert len(emulator.state.criteria.by("course", target["id"])) == 2


def test_import_with_deletecontent_replaces_the_activities(call: Caller, emulator: Emulator) -> None:
    template = emulator.add_course("Mall", "MALL", 1, modules=[{"name": "P", "modname": "page", "section": 1}])
    target = emulator.add_course("Mål", "MAL", 1, modules=[{"name": "Gammal", "modname": "url", "section": 1}])
    call("core_course_import_course", {"importfrom": template, "importto": target, "deletecontent": 1})
    assert [m["name"] for m in emulator.course_modules(target)] == ["Announcements", "P"]
    assert call("core_course_import_course", {"importfrom": 424242, "importto": target})["errorcode"] == \
        "invalidcourseid"


def test_get_courses_search_and_custom_fields(call: Caller, emulator: Emulator) -> None:
    emulator.add_course_customfield("specversion", "Specversion")
    emulator.add_course_customfield("secret", "Hemlig", visibility=0)
    cat = emulator.add_category("K")
    [created] = call.ok("core_course_create_courses", {"courses": [new_course(
        "Våld i nära relationer", "VNR", cat, customfields=[{"shortname": "specversion", "value": "1.2.0"},
                                                           {"shortname": "nosuchfield", "value": "x"}])]})
    [course] = call.ok("core_course_get_courses", {"options": {"ids": [created["id"]]}})
    assert course["customfields"] == [{"type": "text", "value": "1.2.0", "valueraw": "1.2.0",
                                       "shortname": "specversion", "name": "Specversion"}]
    assert course["numsections"] == 0 and course["categorysortorder"] > 0
    found = call.ok("core_course_search_courses", {"criterianame": "search", "criteriavalue": "nära VNR"})
    assert found["total"] == 1 and found["courses"][0]["id"] == created["id"]
    assert call.ok("core_course_search_courses", {"criterianame": "search", "criteriavalue": "nära -VNR"})[
        "total"] == 0


def test_category_update_move_and_delete(call: Caller, emulator: Emulator) -> None:
    a = emulator.add_category("A", idnumber="a")
    b = emulator.add_category("B", idnumber="b")
    course = emulator.add_course("K", "K", b)
    assert call("core_course_update_categories", {"categories": [{"id": b, "idnumber": "a"}]})[
        "errorcode"] == "categoryidnumbertaken"
    assert call("core_course_update_categories", {"categories": [{"id": b, "parent": a}]}) is None
    moved = call.ok("core_course_get_categories", {"criteria": [{"key": "id", "value": str(b)}]})[0]
    assert (moved["path"], moved["depth"]) == (f"/{a}/{b}", 2)
    assert call("core_course_delete_categories", {"categories": [{"id": b}]}) is None  # content moves up
    assert by_field(call, "id", str(course))[0]["categoryid"] == a
    assert call("core_course_delete_categories", {"categories": [{"id": a, "recursive": 1}]}) is None
    assert by_field(call, "id", str(course)) == []
