"""Users: create, update, delete, get_users_by_field, get_users (user/externallib.php).

Most bad input on create comes back as a bare invalidparameter (README: duplicate or upper-case
username, bad email, no password for an internal auth). create_users with createpassword e-mails each
new user a password as it goes (userlib.password_mails); a later refusal rolls the accounts back, not
the e-mails. The duplicate-email check ignores case; get_users_by_field("email") does not.
"""

from __future__ import annotations

import re
from typing import Any

from moodle_sync.emulator.errors import (
    MoodleError,
    coding_exception,
    invalid_parameter,
    missing_record,
    moodle_exception,
)
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.records import User
from moodle_sync.emulator.moodlelib import userlib
from moodle_sync.emulator.paramtypes import clean_param, php_str, validate_email


def _email_taken(call: Call, email: str, own_id: int | None) -> bool:
    if call.state.config.allowaccountssameemail:
        return False
    # a case-insensitive match, deleted users' scrambled emails never match
    return any(u != own_id for u in call.state.users.ids_by("email", email.lower()))


@implements("core_user_create_users")
def create_users(call: Call, params: Params) -> list[dict[str, Any]]:
    state, env = call.state, call.env
    call.require("moodle/user:create")
    out = []
    for item in params["users"]:
        for name in ("username", "firstname", "lastname"):
            if item[name].strip() == "":
                raise invalid_parameter(f"The field {name} cannot be blank")
        if state.users.count_by("username", item["username"]):
            raise invalid_parameter(f"Username already exists: {item['username']}")
        if item["auth"] not in env.auths or item["auth"] in ("mnet", "webservice"):
            raise invalid_parameter(f"Invalid authentication type: {item['auth']}")
        if item["lang"] not in env.languages:
            raise invalid_parameter(f"Invalid language code: {item['lang']}")
        if item.get("theme") and item["theme"] not in env.themes:
            raise invalid_parameter(f"Invalid theme: {item['theme']}")
        internal = item["auth"] not in env.external_auths
        if internal and not item.get("password") and not item.get("createpassword"):
            raise invalid_parameter("Invalid password: you must provide a password, or set createpassword.")
        if not validate_email(item["email"]):
            raise invalid_parameter(f"Email address is invalid: {item['email']}")
        if _email_taken(call, item["email"], None):
            raise invalid_parameter(f"Email address already exists: {item['email']}")
        data = dict(item)
        if item.get("createpassword"):
            data["password"] = ""
        elif "password" in item:
            # the policy error message itself is the errorcode (user/lib.php user_create_user)
            errmsg = userlib.check_password_policy(state.config, item["password"])
            if errmsg:
                raise moodle_exception(errmsg)
        data["customfields"] = {f["type"]: f["value"] for f in item.get("customfields") or []}
        data["preferences"] = {p["type"]: p["value"] for p in item.get("preferences") or []}
        user = userlib.create_user(state, call.now, data)
        if item.get("createpassword"):
            # mailed at once, whatever the auth: a later user's refusal rolls the account back, not the e-mail
            userlib.setnew_password_and_mail(state, call.now, user)
        out.append({"id": user.id, "username": user.username})
    return out


@implements("core_user_update_users", atomic=False)
def update_users(call: Call, params: Params) -> dict[str, Any]:
    call.require("moodle/user:update")
    warnings = []
    for item in params["users"]:
        try:
            with call.state.journal.transaction():
                _update_one(call, item)
        except MoodleError as e:
            # one transaction per user: a failure becomes a warning (ws-reference.md §2.5)
            warnings.append({"item": "user", "itemid": item["id"], "warningcode": e.errorcode or "",
                             "message": e.message})
    return {"warnings": warnings}


def _update_one(call: Call, item: dict[str, Any]) -> None:
    state = call.state
    user = state.users.get(item["id"])
    if user is None:
        raise moodle_exception("invaliduserid", debuginfo="Invalid user ID")
    if user.id != call.user.id and state.is_siteadmin(user.id) and not call.token.is_admin:
        raise moodle_exception("usernotupdatedadmin", debuginfo="Cannot update admin accounts")
    if user.deleted:
        raise moodle_exception("usernotupdateddeleted", debuginfo="User is a deleted user")
    if user.id == 1:
        raise moodle_exception("usernotupdatedguest", debuginfo="Cannot update guest account")
    if "email" in item and item["email"] != user.email:
        if not validate_email(item["email"]):
            raise moodle_exception("useremailinvalid", debuginfo="Invalid email address")
        if _email_taken(call, item["email"], user.id):
            raise moodle_exception("useremailduplicate", debuginfo="Duplicate email address")
    changes: dict[str, Any] = {}
    if "username" in item:
        if item["username"] != item["username"].lower():
            raise moodle_exception("usernamelowercase")
        if any(u != user.id for u in state.users.ids_by("username", item["username"])):
            # no check in user_update_user(): the database's unique index refuses it
            raise moodle_exception("dmlwriteexception", exception="dml_write_exception",
                                   debuginfo="duplicate key value violates unique constraint")
        changes["username"] = item["username"]
    if "password" in item:
        errmsg = userlib.check_password_policy(state.config, item["password"])
        if errmsg:
            raise moodle_exception(errmsg)
        changes["password"] = userlib.hash_password(item["password"])
    for name in ("auth", "firstname", "lastname", "email", "city", "country", "timezone", "description",
                 "firstnamephonetic", "lastnamephonetic", "middlename", "alternatename", "interests", "idnumber",
                 "institution", "department", "phone1", "phone2", "address", "lang", "calendartype", "theme"):
        if name in item and item[name] is not None:
            changes[name] = item[name]
    for name in ("maildisplay", "mailformat"):
        if name in item and item[name] is not None:
            changes[name] = int(item[name])
    if "suspended" in item and item["suspended"] is not None:
        changes["suspended"] = int(item["suspended"])
    if item.get("customfields"):
        changes["customfields"] = {**user.customfields, **{f["type"]: f["value"] for f in item["customfields"]}}
    if item.get("preferences"):
        changes["preferences"] = {**user.preferences, **{p["type"]: p["value"] for p in item["preferences"]}}
    changes["timemodified"] = call.now
    state.users.update(user, **changes)


@implements("core_user_delete_users")
def delete_users(call: Call, params: Params) -> None:
    call.require("moodle/user:delete")
    for userid in params["userids"]:
        user = call.state.users.get(userid)
        if user is None or user.deleted:
            raise missing_record("user")
        if call.state.is_siteadmin(user.id):
            raise moodle_exception("useradminodelete")
        if user.id == call.user.id:
            raise moodle_exception("usernotdeletederror")
        userlib.delete_user(call.state, call.now, user)


def _details(call: Call, user: User) -> dict[str, Any] | None:
    return userlib.user_details(call.state, call.site_url, user, can=call.can, viewer_id=call.user.id, now=call.now)


@implements("core_user_get_users_by_field")
def get_users_by_field(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    field = params["field"]
    types = {"id": "int", "idnumber": "raw", "username": "username", "email": "raw_trimmed"}
    if field not in types:
        raise coding_exception("invalid field parameter",
                               f"The search field '{field}' is not supported, look at the web service documentation")
    found: dict[int, User] = {}
    for value in params["values"]:
        cleaned = clean_param(value, types[field], call.env)
        if php_str(cleaned) != php_str(value):
            raise invalid_parameter(f"The field '{field}' value is invalid: {value}(cleaned value: {cleaned})")
        if field == "id":
            user = state.users.get(cleaned)
            matches = [user] if user is not None else []
        elif field == "email":
            # exact match (the index is lower-cased, so filter on the real value)
            matches = [u for u in state.users.by("email", str(cleaned).lower()) if u.email == cleaned]
        else:
            matches = state.users.by(field, cleaned)
        for user in matches:
            found[user.id] = user
    out = []
    for user in sorted(found.values(), key=lambda u: u.id):
        details = _details(call, user)
        if details and details.get(field):  # only users whose searched field the caller may see
            out.append(details)
    return out


def _like(pattern: str) -> re.Pattern[str]:
    parts = ("." * len(p) if set(p) == {"_"} else ".*" if p == "%" else re.escape(p)
             for p in re.split(r"(%|_+)", pattern))
    return re.compile("^" + "".join(parts) + "$", re.I | re.S)


@implements("core_user_get_users")
def get_users(call: Call, params: Params) -> dict[str, Any]:
    state = call.state
    warnings: list[dict[str, str]] = []
    used: set[str] = set()
    conditions: list[tuple[str, Any]] = []
    for crit in params["criteria"]:
        key = crit["key"]
        if key in used:
            raise moodle_exception("keyalreadyset", debuginfo=f"The key {key} can only be sent once")
        used.add(key)
        types = {"id": "int", "idnumber": "raw", "username": "username", "email": "raw", "auth": "auth",
                 "lastname": "notags", "firstname": "notags"}
        if key not in types:
            warnings.append({"item": key, "warningcode": "invalidfieldparameter",
                             "message": f"The search key '{key}' is not supported, look at the web service "
                                        "documentation"})
            continue
        conditions.append((key, clean_param(crit["value"], types[key], call.env)))
    candidates: list[User]
    exact = dict(conditions)
    if "id" in exact:
        candidates = [state.users.rows[exact["id"]]] if exact["id"] in state.users.rows else []
    elif "username" in exact:
        candidates = state.users.by("username", exact["username"])
    elif "email" in exact and not re.search(r"[%_]", str(exact["email"])):
        candidates = state.users.by("email", str(exact["email"]).lower())
    else:
        candidates = list(state.users)
    users = []
    for user in sorted(candidates, key=lambda u: u.id):
        if user.deleted:
            continue
        ok = True
        for key, value in conditions:
            if key in ("email", "firstname", "lastname"):
                ok = ok and bool(_like(str(value)).match(getattr(user, key)))  # LIKE, case-insensitive
            else:
                ok = ok and getattr(user, key) == value
        if not ok:
            continue
        details = _details(call, user)
        if details and all(details.get(k) for k, _ in conditions):
            users.append(details)
    return {"users": users, "warnings": warnings}
