"""Users: creation, deletion, the password policy, password e-mails and user_get_user_details() (user/lib.php).

Details follow what a site admin sees; fields the caller may not see are left out, as Moodle does.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from moodle_sync.emulator.errors import moodle_exception
from moodle_sync.emulator.model.records import CONTEXT_USER, Course, User
from moodle_sync.emulator.model.state import SiteConfig, State
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.moodlelib.enrollib import user_course_ids, user_roles_in
from moodle_sync.emulator.paramtypes import clean_param
from moodle_sync.emulator.strings import get_string

DEFAULT_FIELDS = (
    "id", "username", "fullname", "firstname", "lastname", "email", "address", "phone1", "phone2", "department",
    "institution", "interests", "firstaccess", "lastaccess", "auth", "confirmed", "idnumber", "lang", "theme",
    "timezone", "mailformat", "description", "descriptionformat", "city", "country", "profileimageurlsmall",
    "profileimageurl", "customfields", "groups", "roles", "preferences", "enrolledcourses", "suspended",
    "lastcourseaccess", "trackforums",
)

USER_TEXT_FIELDS = ("idnumber", "phone1", "phone2", "institution", "department", "address", "city", "country",
                    "middlename", "alternatename", "firstnamephonetic", "lastnamephonetic", "interests", "theme")


def check_password_policy(config: SiteConfig, password: str) -> str:
    """check_password_policy(): '' when fine, else the HTML error list Moodle uses as an errorcode."""
    errors = []
    if len(password) < config.minpasswordlength:
        errors.append(get_string("errorminpasswordlength", "auth", config.minpasswordlength))
    if len(re.findall(r"\d", password)) < config.minpassworddigits:
        errors.append(get_string("errorminpassworddigits", "auth", config.minpassworddigits))
    if sum(1 for c in password if c.islower()) < config.minpasswordlower:
        errors.append(get_string("errorminpasswordlower", "auth", config.minpasswordlower))
    if sum(1 for c in password if c.isupper()) < config.minpasswordupper:
        errors.append(get_string("errorminpasswordupper", "auth", config.minpasswordupper))
    if sum(1 for c in password if not c.isalnum()) < config.minpasswordnonalphanum:
        errors.append(get_string("errorminpasswordnonalphanum", "auth", config.minpasswordnonalphanum))
    return "".join(f"<div>{e}</div>" for e in errors)


def hash_password(password: str) -> str:
    return "$emulated$" + hashlib.sha256(password.encode()).hexdigest() if password else ""


@dataclass(frozen=True)
class PasswordMail:
    """One e-mail setnew_password_and_mail() sent: who got it and which password it told them."""

    userid: int
    username: str
    email: str
    password: str
    time: int


# Sent e-mails are not rows of any table: email_to_user() hands the message to the mailer at once, so a
# rolled-back call cannot take it back. Kept per site, outside the State's journal.
_OUTBOX: weakref.WeakKeyDictionary[State, list[PasswordMail]] = weakref.WeakKeyDictionary()


def setnew_password_and_mail(state: State, now: int, user: User) -> PasswordMail:
    """lib/moodlelib.php setnew_password_and_mail(): store a generated password and e-mail it to the user.

    The password is a database write (undone if the call rolls back); the e-mail is sent immediately and
    stays sent. create_users also sets the preference ``auth_forcepasswordchange``.
    """
    password = secrets.token_urlsafe(12)  # generate_password()
    preferences = {**user.preferences, "auth_forcepasswordchange": "1"}
    preferences.pop("create_password", None)
    state.users.update(user, password=hash_password(password), preferences=preferences)
    mail = PasswordMail(user.id, user.username, user.email, password, now)
    _OUTBOX.setdefault(state, []).append(mail)
    return mail


def password_mails(state: State) -> list[PasswordMail]:
    """Every password e-mail this site has sent, oldest first (including those of rolled-back calls)."""
    return list(_OUTBOX.get(state, ()))


def create_user(state: State, now: int, data: dict[str, Any]) -> User:
    """user_create_user(): a confirmed local user (the caller has checked username/email/auth/lang)."""
    id_ = state.users.new_id()
    contextid = state.new_context(CONTEXT_USER, id_)
    text = {k: str(data.get(k) or "") for k in USER_TEXT_FIELDS}
    user = User(
        id=id_, auth=str(data.get("auth") or "manual"), confirmed=1, deleted=0,
        suspended=int(bool(data.get("suspended"))),
        username=str(data["username"]), password=hash_password(str(data.get("password") or "")),
        firstname=str(data["firstname"]), lastname=str(data["lastname"]), email=str(data["email"]),
        maildisplay=int(data.get("maildisplay", 2)), mailformat=int(data.get("mailformat", 1)),
        lang=str(data.get("lang") or state.config.lang), calendartype=str(data.get("calendartype") or "gregorian"),
        timezone=str(data.get("timezone") or "99"), firstaccess=0, lastaccess=0,
        description=data.get("description"), descriptionformat=int(data.get("descriptionformat", 1)),
        timecreated=now, timemodified=now, contextid=contextid,
        customfields={str(k): str(v) for k, v in dict(data.get("customfields") or {}).items()},
        preferences={str(k): str(v) for k, v in dict(data.get("preferences") or {}).items()}, **text)
    return state.users.insert(user)


def delete_user(state: State, now: int, user: User) -> User:
    """delete_user(): membership, enrolments, roles and groups go; the row stays, scrambled."""
    from moodle_sync.emulator.moodlelib.enrollib import unenrol_user

    for member in state.cohort_members.by("userid", user.id):
        state.cohort_members.delete(member)
    for ue in state.user_enrolments.by("userid", user.id):
        unenrol_user(state, state.enrol.rows[ue.enrolid], user.id)
    for gm in state.group_members.by("userid", user.id):
        state.group_members.delete(gm)
    for ra in state.role_assignments.by("userid", user.id):
        state.role_assignments.delete(ra)
    # the username becomes "<email>.<time>" and the email an md5, so both can be reused (lib/moodlelib.php)
    delname = str(clean_param(f"{user.email}.{now}", "username")) or f"deleted.{now}"
    while state.users.count_by("username", delname):
        delname += "1"
    return state.users.update(user, deleted=1, username=delname, email=hashlib.md5(user.username.encode()).hexdigest(),
                              idnumber="", timemodified=now)


def user_details(state: State, site_url: str, user: User, *, fields: Sequence[str] | None = None,
                 course: Course | None = None, can: Callable[[str], bool] = lambda cap: True,
                 viewer_id: int = 2, now: int = 0) -> dict[str, Any] | None:
    """user_get_user_details(): the fields asked for (all by default) that the caller may see."""
    if user.deleted:
        return None
    wanted = list(fields) if fields else list(DEFAULT_FIELDS)
    for name in wanted:
        if name not in DEFAULT_FIELDS:
            raise moodle_exception("invaliduserfield", a=name)
    isadmin = state.is_siteadmin(viewer_id) and can("moodle/site:config")
    current = user.id == viewer_id
    if not current and not can("moodle/user:viewdetails"):
        return None
    viewall = isadmin or current or can("moodle/user:viewalldetails")
    out: dict[str, Any] = {"id": user.id}
    if "username" in wanted and viewall:
        out["username"] = user.username
    if isadmin or can("moodle/site:viewfullnames"):
        if "firstname" in wanted:
            out["firstname"] = user.firstname
        if "lastname" in wanted:
            out["lastname"] = user.lastname
    out["fullname"] = state.user_fullname(user)
    if "customfields" in wanted and user.customfields:
        out["customfields"] = [{"type": "text", "value": v, "name": k, "shortname": k}
                               for k, v in user.customfields.items() if v]
    if "profileimageurl" in wanted:
        out["profileimageurl"] = fmt.user_picture_url(site_url, state.config.themerev, "f1")
    if "profileimageurlsmall" in wanted:
        out["profileimageurlsmall"] = fmt.user_picture_url(site_url, state.config.themerev, "f2")
    hidden = isadmin or can("moodle/user:viewhiddendetails")
    for name in ("address", "phone1", "phone2"):
        if name in wanted and getattr(user, name) and hidden:
            out[name] = getattr(user, name)
    if "description" in wanted and user.description is not None:
        out["description"], out["descriptionformat"] = user.description, user.descriptionformat
    for name in ("country", "city"):
        if name in wanted and getattr(user, name):
            out[name] = getattr(user, name)
    if "suspended" in wanted:
        out["suspended"] = bool(user.suspended)
    for name in ("firstaccess", "lastaccess"):
        if name in wanted:
            out[name] = getattr(user, name) or 0
    if "lastcourseaccess" in wanted:
        la = state.lastaccess.first_by("user_course", (user.id, course.id)) if course else None
        out["lastcourseaccess"] = la.timeaccess if la else 0
    if "email" in wanted and (isadmin or current or can("moodle/course:useremail") or user.maildisplay == 1):
        out["email"] = user.email
    if "interests" in wanted and user.interests:
        out["interests"] = user.interests
    if "idnumber" in wanted and user.idnumber and viewall:
        out["idnumber"] = user.idnumber
    if "institution" in wanted and user.institution and viewall:
        out["institution"] = user.institution
    if "department" in wanted and viewall:
        out["department"] = user.department  # isset(): an empty department is still returned
    if course is not None and "roles" in wanted:
        out["roles"] = []
        for roleid in user_roles_in(state, course.contextid, user.id):
            role = state.roles.rows[roleid]
            # standard roles have an empty name in the role table; only custom names show here
            out["roles"].append({"roleid": role.id, "name": role.name, "shortname": role.shortname,
                                 "sortorder": role.sortorder})
    if course is not None and "groups" in wanted and (isadmin or can("moodle/site:accessallgroups")):
        course_groups = set(state.groups.ids_by("courseid", course.id))
        out["groups"] = []
        for gm in sorted(state.group_members.by("userid", user.id), key=lambda g: g.groupid):
            if gm.groupid in course_groups:
                group = state.groups.rows[gm.groupid]
                out["groups"].append({"id": group.id, "name": group.name, "description": group.description,
                                      "descriptionformat": group.descriptionformat})
    if "enrolledcourses" in wanted:
        mine = [state.courses.rows[c] for c in user_course_ids(state, user.id, True, now)]
        if mine:
            out["enrolledcourses"] = [{"id": c.id, "fullname": c.fullname, "shortname": c.shortname}
                                      for c in sorted(mine, key=lambda c: c.id) if c.category]
    if "preferences" in wanted and current:
        out["preferences"] = [{"name": k, "value": v} for k, v in user.preferences.items()]
    if viewall:
        for name in ("auth", "confirmed", "lang", "theme", "timezone", "mailformat"):
            if name in wanted:
                value = getattr(user, name)
                out[name] = bool(value) if name == "confirmed" else value
        if "trackforums" in wanted:  # 4.4+ answers it (4.3's signature drops it); no function here sets it
            out["trackforums"] = 0
    return out
