"""Cohorts and users: the recorded error shapes, member warnings, lookups, deletion."""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator import Emulator

from .conftest import Caller

BAD = {"exception": "invalid_parameter_exception", "errorcode": "invalidparameter",
       "message": "Invalid parameter value detected"}


def user(name: str, **extra: Any) -> dict[str, Any]:
    return {"username": name, "firstname": name.title(), "lastname": "L", "email": f"{name}@example.se",
            "password": "Vinter#2026x", **extra}


def cohort(name: str, idnumber: str, **categorytype: str) -> dict[str, Any]:
    return {"categorytype": categorytype or {"type": "system", "value": ""}, "name": name, "idnumber": idnumber}


def test_user_errors_are_all_invalidparameter_and_batches_all_or_nothing(call: Caller, emulator: Emulator) -> None:
    call.ok("core_user_create_users", {"users": [user("anna")]})
    for bad in (user("anna"), user("nopw", password=""), user("mail", email="not-an-email"), user("UPPER"),
                user("other", email="ANNA@example.se"), user("sv", lang="xx")):
        if not bad["password"]:
            del bad["password"]
        assert call("core_user_create_users", {"users": [user("fine"), bad]}) == BAD, bad
    assert emulator.state.users.first_by("username", "fine") is None
    external = user("ext", auth="ldap")
    del external["password"]  # an external auth needs no password
    assert call.ok("core_user_create_users", {"users": [external]})
    assert call("core_user_create_users", {"users": [user("weak", password="abc")]})["errorcode"].startswith(
        "<div>Passwords must be at least 8 characters long.</div>")


def test_user_lookups_and_updates(call: Caller, emulator: Emulator) -> None:
    [anna] = call.ok("core_user_create_users", {"users": [user("anna", idnumber="e-1", department="Soc")]})
    by_email = call.ok("core_user_get_users_by_field", {"field": "email", "values": ["anna@example.se", "x@y.se"]})
    assert [u["id"] for u in by_email] == [anna["id"]] and by_email[0]["suspended"] is False
    assert call("core_user_get_users_by_field", {"field": "username", "values": ["ANNA"]}) == BAD
    like = call.ok("core_user_get_users", {"criteria": [{"key": "email", "value": "ANNA@%"}]})
    assert [u["username"] for u in like["users"]] == ["anna"]
    assert call.ok("core_user_update_users", {"users": [{"id": anna["id"], "lastname": "Ny", "suspended": 1}]}) == {
        "warnings": []}
    again = call.ok("core_user_get_users_by_field", {"field": "idnumber", "values": ["e-1"]})[0]
    assert (again["fullname"], again["suspended"]) == ("Anna Ny", True)
    warnings = call.ok("core_user_update_users", {"users": [{"id": 424242, "lastname": "X"}]})["warnings"]
    assert warnings[0]["warningcode"] == "invaliduserid" and warnings[0]["itemid"] == 424242


def test_deleted_users_disappear_from_lookups_and_free_their_name(call: Caller, emulator: Emulator) -> None:
    [anna] = call.ok("core_user_create_users", {"users": [user("anna")]})
    assert call("core_user_delete_users", {"userids": [anna["id"]]}) is None
    assert call.ok("core_user_get_users_by_field", {"field": "username", "values": ["anna"]}) == []
    assert call.ok("core_user_create_users", {"users": [user("anna")]})
    assert call("core_user_delete_users", {"userids": [2]})["errorcode"] == "useradminodelete"


def test_cohort_rules(call: Caller, emulator: Emulator) -> None:
    cat = emulator.add_category("Län", idnumber="lan")
    created = call.ok("core_cohort_create_cohorts", {"cohorts": [
        cohort("Stockholm", "tg-ab"), cohort("Dalarna", "tg-w", type="idnumber", value="lan")]})
    assert [(c["visible"], c["theme"], c["description"]) for c in created] == [(True, "", ""), (True, "", "")]
    assert call("core_cohort_create_cohorts", {"cohorts": [cohort("Dublett", "tg-ab")]}) == BAD
    assert call("core_cohort_create_cohorts", {"cohorts": [cohort("X", "x", type="idnumber", value="nej")]}) == BAD
    found = call.ok("core_cohort_search_cohorts", {"query": "TG-", "context": {"contextlevel": "system"},
                                                   "includes": "all"})
    assert {c["idnumber"] for c in found["cohorts"]} == {"tg-ab", "tg-w"}
    parents = call.ok("core_cohort_search_cohorts", {"query": "tg", "context": {"contextlevel": "system"}})
    assert [c["idnumber"] for c in parents["cohorts"]] == ["tg-ab"]  # 'parents' of system: system only
    assert cat
    assert call("core_cohort_delete_cohorts", {"cohortids": [created[0]["id"], 999999]}) == {
        "exception": "dml_missing_record_exception", "errorcode": "invalidrecord",
        "message": "Can't find data record in database table cohort."}
    assert len(call.ok("core_cohort_get_cohorts", {"cohortids": [created[0]["id"]]})) == 1  # rolled back


def test_cohort_member_warnings_and_order(call: Caller, emulator: Emulator) -> None:
    [ab] = call.ok("core_cohort_create_cohorts", {"cohorts": [cohort("AB", "tg-ab")]})
    b = emulator.add_user("bea", "Bea", "Berg", "bea@example.se", "e-2")
    a = emulator.add_user("axel", "Axel", "Ask", "axel@example.se", "e-1")
    members = [{"cohorttype": {"type": "idnumber", "value": "tg-ab"}, "usertype": {"type": "username", "value": n}}
               for n in ("bea", "axel", "nobody")]
    members.append({"cohorttype": {"type": "id", "value": str(ab["id"])}, "usertype": {"type": "idnumber",
                                                                                       "value": "e-1"}})
    members.append({"cohorttype": {"type": "idnumber", "value": "nej"}, "usertype": {"type": "id", "value": str(a)}})
    assert call.ok("core_cohort_add_cohort_members", {"members": members})["warnings"] == [
        {"warningcode": "2", "message": "user username=nobody not exists"},
        {"warningcode": "1", "message": "invalid parameter: usertype=idnumber"},
        {"warningcode": "2", "message": "cohort idnumber=nej not exists"}]
    again = call.ok("core_cohort_add_cohort_members", {"members": [
        {"cohorttype": {"type": "id", "value": str(ab["id"])}, "usertype": {"type": "id", "value": str(b)}}]})
    assert again["warnings"] == [{"warningcode": "3", "message": f"record already exists: cohort(id={ab['id']} "
                                                                 f"id={b})"}]
    assert call.ok("core_cohort_get_cohort_members", {"cohortids": [ab["id"]]}) == [
        {"cohortid": ab["id"], "userids": [a, b]}]  # by lastname: Ask before Berg
    assert call("core_cohort_delete_cohort_members", {"members": [{"cohortid": ab["id"], "userid": 424242}]})[
        "errorcode"] == "invalidrecord"


def test_messages_are_stored(call: Caller, emulator: Emulator) -> None:
    to = emulator.add_user("mona", "Mona", "M", "mona@example.se")
    answer = call.ok("core_message_send_instant_messages", {"messages": [
        {"touserid": to, "text": "Hej!", "textformat": 1, "clientmsgid": "c-1"},
        {"touserid": 424242, "text": "Borta"}]})
    assert answer[0]["msgid"] > 0 and answer[0]["clientmsgid"] == "c-1" and answer[0]["text"] == "Hej!"
    assert answer[1]["msgid"] == -1 and "424242" in answer[1]["errormessage"]
    [stored] = list(emulator.state.messages)
    assert (stored.useridfrom, stored.useridto, stored.text) == (2, to, "Hej!")
