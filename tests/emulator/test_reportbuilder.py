"""Report builder: a "Course participants" custom report's rows, paging, formatting and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from moodle_sync.emulator import Emulator

from .conftest import Caller

PARTICIPANTS = "core_course\\reportbuilder\\datasource\\participants"
SORT_ASC, SORT_DESC = 4, 3


def make_report(emulator: Emulator, prefix: str = "rb-", name: str = "Slutföranden") -> int:
    return emulator.given({"kind": "custom_report", "name": name, "source": PARTICIPANTS, "default_setup": False,
                           "condition": {"column": "course:idnumber", "operator": "starts_with", "value": prefix}})


def add_columns(call: Caller, report: int, *columns: str) -> list[int]:
    answer: dict[str, Any] = {}
    for column in columns:
        answer = call.ok("core_reportbuilder_columns_add", {"reportid": report, "uniqueidentifier": column})
    return [c["id"] for c in answer["sortablecolumns"]]


def sort_by(call: Caller, report: int, columnid: int, direction: int = SORT_ASC) -> None:
    call.ok("core_reportbuilder_columns_sort_toggle",
            {"reportid": report, "columnid": columnid, "enabled": 1, "direction": direction})


def rows(call: Caller, report: int, **paging: int) -> list[list[str | None]]:
    answer = call.ok("core_reportbuilder_retrieve_report", {"reportid": report, **paging})
    return [r["columns"] for r in answer["data"]["rows"]]


@pytest.fixture
def site(emulator: Emulator) -> dict[str, int]:
    """Course rb-k1 with three people (active, suspended, not yet started) and an empty course rb-k2."""
    cat = emulator.add_category("Rapporter", idnumber="rb-cat")
    k1 = emulator.add_course("Kurs 1", "RB-K1", cat, idnumber="rb-k1")
    k2 = emulator.add_course("Kurs 2", "RB-K2", cat, idnumber="rb-k2")
    emulator.add_course("Annan", "OTHER", cat, idnumber="other-1")  # outside the report's condition
    people = {name: emulator.add_user(name, "Förnamn", name.upper(), f"{name}@kommun.se", idnumber=f"e-{name}")
              for name in ("anna", "bo", "cia")}
    emulator.enrol_user(k1, people["anna"], timestart=1_767_222_000, timeend=1_830_000_000)
    emulator.enrol_user(k1, people["bo"], suspended=True)
    emulator.enrol_user(k1, people["cia"], timestart=1_900_000_000)  # after the clock: not current
    return {"k1": k1, "k2": k2, **people}


def test_one_row_per_course_method_and_user_with_empty_user_columns_and_null_status(
        call: Caller, emulator: Emulator, site: dict[str, int]) -> None:
    report = make_report(emulator)
    course, username, plugin, _ = add_columns(call, report, "course:idnumber", "user:username", "enrol:plugin",
                                              "enrolment:status")
    for column in (course, username, plugin):
        sort_by(call, report, column)
    assert rows(call, report, perpage=50) == [
        ["rb-k1", "", "Guest access", None],  # a method without enrolments: one row, no user, no status
        ["rb-k1", "", "Self enrolment", None],
        ["rb-k1", "anna", "Manual enrolments", "Active"],
        ["rb-k1", "bo", "Manual enrolments", "Suspended"],
        ["rb-k1", "cia", "Manual enrolments", "Not current"],
        ["rb-k2", "", "Guest access", None],
        ["rb-k2", "", "Manual enrolments", None],
        ["rb-k2", "", "Self enrolment", None],
    ]


def test_rows_are_only_as_deep_as_the_columns(call: Caller, emulator: Emulator, site: dict[str, int]) -> None:
    report = make_report(emulator)
    before = call.ok("core_reportbuilder_retrieve_report", {"reportid": report})["data"]
    assert before == {"headers": [], "rows": [], "totalrowcount": 0}  # no columns: nothing selected
    [course] = add_columns(call, report, "course:idnumber")
    sort_by(call, report, course)
    assert rows(call, report) == [["rb-k1"], ["rb-k2"]]  # course columns only: one row per course
    add_columns(call, report, "enrol:name")
    assert rows(call, report) == [["rb-k1", "Manual enrolments"], ["rb-k1", "Guest access"],
                                  ["rb-k1", "Self enrolment (Student)"], ["rb-k2", "Manual enrolments"],
                                  ["rb-k2", "Guest access"], ["rb-k2", "Self enrolment (Student)"]]


def test_pages_from_zero_with_the_total_on_every_page(call: Caller, emulator: Emulator, site: dict[str, int]) -> None:
    report = make_report(emulator)
    course, user = add_columns(call, report, "course:idnumber", "user:username")
    sort_by(call, report, course)
    sort_by(call, report, user, SORT_DESC)  # descending: the rows without a user (NULL) come last
    everything = rows(call, report, perpage=0)  # perpage 0: no limit
    assert [r[1] for r in everything[:3]] == ["cia", "bo", "anna"] and len(everything) == 8
    assert rows(call, report, page=0, perpage=3) == everything[:3]
    assert rows(call, report, page=2, perpage=3) == everything[6:]
    past = call.ok("core_reportbuilder_retrieve_report", {"reportid": report, "page": 9, "perpage": 3})["data"]
    assert past["rows"] == [] and past["totalrowcount"] == 8
    for n in range(8):
        emulator.enrol_user(site["k2"], emulator.add_user(f"p{n}", "P", str(n), f"p{n}@kommun.se"))
    default = call.ok("core_reportbuilder_retrieve_report", {"reportid": report})["data"]
    assert len(default["rows"]) == 10 and default["totalrowcount"] == 15  # perpage defaults to 10


def test_dates_are_shown_in_the_viewers_language_and_timezone(call: Caller, emulator: Emulator,
                                                                 site: dict[str, int], clock: list[int]) -> None:
    report = make_report(emulator)
    user, started, ended = add_columns(call, report, "user:username", "enrolment:timestarted", "enrolment:timeended")
    sort_by(call, report, user)
    # bo was enrolled without dates: "Time started" is when the enrolment was made (the clock), no end
    assert rows(call, report)[-3:] == [
        ["anna", "Wednesday, 31 December 2025, 11:00 PM", "Tuesday, 28 December 2027, 1:20 PM"],
        ["bo", "Friday, 15 January 2027, 8:00 AM", ""],
        ["cia", "Sunday, 17 March 2030, 5:46 PM", ""]]
    # the same report for an admin in Stockholm: dates move into their timezone
    viewer = emulator.add_user("chef", "Chef", "C", "chef@kommun.se")
    call.ok("core_user_update_users", {"users": [{"id": viewer, "timezone": "Europe/Stockholm"}]})
    emulator.add_token("stockholm0123456789abcdef0123456", userid=viewer)
    there = Caller(emulator, "stockholm0123456789abcdef0123456")
    assert rows(there, report)[-3][1] == "Thursday, 1 January 2026, 12:00 AM"


def test_completion_columns_follow_completion_live(call: Caller, emulator: Emulator, clock: list[int]) -> None:
    tmpl = emulator.given({"kind": "template_course", "idnumber": "rb-mall", "activity": "page",
                           "completion": "view", "course_criteria": "activity"})
    learner = emulator.add_user("dan", "Dan", "D", "dan@kommun.se")
    emulator.enrol_user(tmpl, learner)
    report = make_report(emulator)
    user, _, _ = add_columns(call, report, "user:username", "completion:completed", "completion:timecompleted")
    sort_by(call, report, user, SORT_DESC)
    assert rows(call, report)[0] == ["dan", "No", ""]
    assert rows(call, report)[1] == ["", "", ""]  # no user: not even "No"
    [page] = [cm for cm in emulator.course_modules(tmpl) if cm["completion"]]
    call.ok("core_completion_override_activity_completion_status",
            {"userid": learner, "cmid": page["id"], "newstate": 1})
    assert rows(call, report)[0] == ["dan", "Yes", "Friday, 15 January 2027, 8:00 AM"]


def test_a_deleted_users_row_keeps_course_and_method(call: Caller, emulator: Emulator, site: dict[str, int]) -> None:
    report = make_report(emulator)
    course, user, plugin, status = add_columns(call, report, "course:idnumber", "user:email", "enrol:plugin",
                                               "enrolment:status")
    for column in (course, user, plugin):
        sort_by(call, report, column)
    # deleted through Moodle: their enrolments go too, so the method is one row without a user or status
    call.ok("core_user_delete_users", {"userids": [site["anna"], site["bo"], site["cia"]]})
    k1 = [["rb-k1", "", "Guest access", None], ["rb-k1", "", "Manual enrolments", None],
          ["rb-k1", "", "Self enrolment", None]]
    assert rows(call, report)[:3] == k1
    # a user marked deleted whose enrolment is still there: the join asks for u.deleted = 0, the enrolment shows
    eva = emulator.add_user("eva", "Eva", "E", "eva@kommun.se")
    emulator.enrol_user(site["k2"], eva)
    emulator.state.users.update(emulator.state.users.rows[eva], deleted=1)
    assert rows(call, report)[3:] == [["rb-k2", "", "Guest access", None], ["rb-k2", "", "Manual enrolments", "Active"],
                                      ["rb-k2", "", "Self enrolment", None]]


def test_errors_as_recorded(call: Caller, emulator: Emulator, site: dict[str, int]) -> None:
    report = make_report(emulator)
    other = make_report(emulator, name="Annan")
    [theirs] = add_columns(call, other, "course:fullname")
    assert call("core_reportbuilder_retrieve_report", {"reportid": 999}) == {
        "exception": "dml_missing_record_exception", "errorcode": "invalidrecord",
        "message": "Can't find data record in database table reportbuilder_report."}
    assert call("core_reportbuilder_columns_add", {"reportid": report, "uniqueidentifier": "nosuch:column"}) == {
        "exception": "invalid_parameter_exception", "errorcode": "invalidparameter",
        "message": "Invalid parameter value detected"}
    toggled = call("core_reportbuilder_columns_sort_toggle", {"reportid": report, "columnid": theirs, "enabled": 1})
    assert toggled["errorcode"] == "invalidparameter"  # a column of another report
    emulator.add_token("viewer00123456789abcdef0123456789", capabilities=["moodle/reportbuilder:view"])
    viewer = Caller(emulator, "viewer00123456789abcdef0123456789")
    assert viewer("core_reportbuilder_retrieve_report", {"reportid": report}) == {
        "exception": "core_reportbuilder\\report_access_exception", "errorcode": "errorreportview",
        "message": "You cannot view this report"}
    assert viewer("core_reportbuilder_columns_add", {"reportid": report, "uniqueidentifier": "user:email"}) == {
        "exception": "core_reportbuilder\\report_access_exception", "errorcode": "errorreportedit",
        "message": "You cannot edit this report"}
    emulator.add_token("nobody00123456789abcdef0123456789", capabilities=[])
    assert Caller(emulator, "nobody00123456789abcdef0123456789")(
        "core_reportbuilder_list_reports")["errorcode"] == "errorreportview"


def test_list_reports_by_name_in_pages(call: Caller, emulator: Emulator) -> None:
    for name in ("Beta", "Alfa", "Gamma"):
        make_report(emulator, name=name)
    listed = call.ok("core_reportbuilder_list_reports", {"page": 0, "perpage": 2})["reports"]
    assert [r["name"] for r in listed] == ["Alfa", "Beta"]
    assert listed[0]["sourcename"] == "Course participants"
    assert listed[0]["conditiondata"] == '{"course:idnumber_operator":5,"course:idnumber_value":"rb-"}'
    assert [r["name"] for r in call.ok("core_reportbuilder_list_reports", {"page": 1, "perpage": 2})["reports"]] == [
        "Gamma"]


def test_emulator_given_is_no_moodle_function(call: Caller, emulator: Emulator) -> None:
    names = {f["name"] for f in call.ok("core_webservice_get_site_info")["functions"]}
    assert "core_reportbuilder_retrieve_report" in names and "emulator_given" not in names
    given = {"kind": "custom_report", "name": "R", "source": PARTICIPANTS}
    made = call.ok("emulator_given", {"given": json.dumps(given)})
    assert emulator.state.reports.get(made["id"]) is not None
    bad = call("emulator_given", {"given": '{"kind": "custom_report", "name": "R", "source": "nosuch"}'})
    assert bad["errorcode"] == "invalidparameter"
    assert call("emulator_given", {"given": "not json"})["errorcode"] == "invalidparameter"


def test_full_name_with_link_carries_the_users_id(call: Caller, emulator: Emulator, site: dict[str, int]) -> None:
    """As a real 4.5 site answered it: '<a href="http://127.0.0.1:8046/user/profile.php?id=897">Person Nr00582</a>'
    (html_writer::link in reportbuilder/classes/local/entities/user.php); empty where the row has no user."""
    report = make_report(emulator)
    course, user, plugin, link = add_columns(call, report, "course:idnumber", "user:username", "enrol:plugin",
                                             "user:fullnamewithlink")
    for column in (course, user, plugin):
        sort_by(call, report, column)
    answer = call.ok("core_reportbuilder_retrieve_report", {"reportid": report, "perpage": 50})
    assert answer["data"]["headers"][3] == "Full name with link"
    shown = [r["columns"][3] for r in answer["data"]["rows"]]
    assert shown[:3] == ["", "", f'<a href="{emulator.site_url}/user/profile.php?id={site["anna"]}">Förnamn ANNA</a>']
