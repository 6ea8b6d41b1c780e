"""English language strings the emulated functions answer with (Moodle 4.3 lang/en files).

Only the strings the emulator can produce are here, each exactly as in its lang file (the rows of
tests/emulator/test_moodle_words.py assert them through the functions that answer them). A code that has
no string in the module the exception names reads ``module/code``, as moodle_exception's constructor
makes it (lib/setuplib.php): ``userdeleted``, ``keyalreadyset``, ``usernotupdatedguest`` … and
``webservice/formatnotsupported``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

STRINGS: dict[tuple[str, str], str] = {
    ("error", "nopermissions"): "Sorry, but you do not currently have permissions to do that ({$a}).",
    ("error", "shortnametaken"): "Short name is already used for another course ({$a})",
    ("error", "courseidnumbertaken"): "ID number is already used for another course ({$a})",
    ("error", "categoryidnumbertaken"): "ID number is already used for another category",
    ("error", "categorynamerequired"): "Category name is required",
    ("error", "categorytoolong"): "Category name too long",
    ("error", "idnumbertoolong"): "ID number is too long",
    ("error", "unknowcategory"): "Category not known!",
    ("error", "unknowncategory"): 'Unknown category with category ID number "{$a}"',
    ("error", "enddatebeforestartdate"): "The course end date must be after the start date.",
    ("error", "nostartdatenoenddate"): "A course end date can only be set if a start date is also set.",
    ("error", "invalidcourseid"): "You are trying to use an invalid course ID",
    ("error", "invalidcourse"): "Invalid course",
    ("error", "invaliduserfield"): "Invalid user field: {$a}",
    ("error", "invaliduserid"): "Invalid user ID",
    ("error", "cannotviewreport"): "You cannot view this report",
    ("message", "disabled"): "Messaging is disabled on this site",
    ("error", "useradminodelete"): "Administrator accounts cannot be deleted.",
    ("error", "usernotdeletederror"): "User not deleted - error",
    ("error", "movecatcontentstoroot"): "Moving the category content to root is not allowed. You must move the "
                                        "contents to an existing category!",
    ("error", "youcannotdeletecategory"): "You cannot delete category '{$a}' because you can neither delete the "
                                          "contents, nor move them elsewhere.",
    ("error", "cannotmovecategory"): "Cannot move category",
    ("error", "idnumbertaken"): "This ID number is already in use",
    ("error", "guestsarenotallowed"): "The guest user is not allowed to do this",
    ("error", "usernamelowercase"): "The username must be in lower case",
    ("error", "usernotupdatedadmin"): "Cannot update admin accounts",
    ("error", "useremailduplicate"): "Duplicate address",
    ("error", "dmlwriteexception"): "Error writing to database",
    ("debug", "codingerror"): "Coding error detected, it must be fixed by a programmer: {$a}",
    ("webservice", "invalidtoken"): "Invalid token - token not found",
    ("webservice", "wsaccessuserdeleted"): "Refused web service access for deleted username: {$a}",
    ("webservice", "errorinvalidparam"): 'The param "{$a}" is invalid.',
    ("webservice", "errorcatcontextnotvalid"): "You cannot execute functions in the category context (category id:"
                                               "{$a->catid}). The context error message was: {$a->message}",
    ("webservice", "errorcoursecontextnotvalid"): "You cannot execute functions in the course context (course id:"
                                                  "{$a->courseid}). The context error message was: {$a->message}",
    ("webservice", "criteriaerror"): "Missing permissions to search on a criterion.",
    ("webservice", "invalidextparam"): "Invalid external api parameter: {$a}",
    ("enrol_manual", "wsusercannotassign"): "You don't have the permission to assign this role ({$a->roleid}) to this"
                                            " user ({$a->userid}) in this course ({$a->courseid}).",
    ("enrol_manual", "wsnoinstance"): "Manual enrolment plugin instance doesn't exist or is disabled for the course"
                                      " (id = {$a->courseid})",
    ("completion", "nocriteriaset"): "No completion criteria set for this course",
    ("completion", "usernotenroled"): "User is not enrolled in this course",
    ("completion", "notenroled"): "You are not enrolled in this course",
    ("completion", "completionnotenabled"): "Completion is not enabled",
    ("completion", "activitiescompleted"): "Activity completion",
    ("completion", "selfcompletion"): "Self completion",
    ("completion", "markingyourselfcomplete"): "Marking yourself complete",
    ("completion", "viewingactivity"): "Viewing the {$a}",
    ("completion", "achievinggrade"): "Achieving grade",
    ("completion", "achievingpassinggrade"): "Achieving passing grade",
    ("group", "errorremovenotpermitted"): "You do not have permission to remove automatically-added group member {$a}",
    ("message", "touserdoesntexist"): "You cannot send a message to a user ID ({$a}) that doesn't exist.",
    ("message", "errormessagetoolong"): "The message is longer than the maximum allowed.",
    ("auth", "errorminpasswordlength"): "Passwords must be at least {$a} characters long.",
    ("auth", "errorminpassworddigits"): "Passwords must have at least {$a} digit(s).",
    ("auth", "errorminpasswordlower"): "Passwords must have at least {$a} lower case letter(s).",
    ("auth", "errorminpasswordupper"): "Passwords must have at least {$a} upper case letter(s).",
    ("auth", "errorminpasswordnonalphanum"): "The password must have at least {$a} special character(s) such "
                                             "as *, -, or #.",
}

# Human names of the capabilities the emulated functions check (lang/en/role.php and plugins' lang files).
CAPABILITY_NAMES: dict[str, str] = {
    "moodle/course:create": "Create courses",
    "moodle/course:update": "Update course settings",
    "moodle/course:delete": "Delete courses",
    "moodle/course:view": "View courses without participation",
    "moodle/course:viewhiddencourses": "View hidden courses",
    "moodle/course:visibility": "Hide/show courses",
    "moodle/course:changefullname": "Change course full name",
    "moodle/course:changeshortname": "Change course short name",
    "moodle/course:changeidnumber": "Change course ID number",
    "moodle/course:changesummary": "Change course summary",
    "moodle/course:changecategory": "Change course category",
    "moodle/course:setforcedlanguage": "Force course or activity language",
    "moodle/course:viewparticipants": "View participants",
    "moodle/course:enrolreview": "Review course enrolments",
    "moodle/course:managegroups": "Manage groups",
    "moodle/course:overridecompletion": "Override activity completion status",
    "moodle/category:manage": "Manage categories",
    "moodle/category:viewhiddencategories": "See hidden categories",
    "moodle/cohort:manage": "Create, delete and move cohorts",
    "moodle/cohort:assign": "Add and remove cohort members",
    "moodle/cohort:view": "View site-wide cohorts",
    "moodle/user:create": "Create users",
    "moodle/user:update": "Update user profiles",
    "moodle/user:delete": "Delete users",
    "moodle/user:viewdetails": "View user profiles",
    "moodle/user:viewhiddendetails": "View hidden details of users",
    "moodle/role:review": "Review permissions for others",
    "moodle/site:accessallgroups": "Access all groups",
    "moodle/site:sendmessage": "Send messages to any user",
    "moodle/site:config": "Change site configuration",
    "moodle/backup:backuptargetimport": "Backup for import",
    "moodle/restore:restoretargetimport": "Restore from files targeted as import",
    "enrol/manual:enrol": "Enrol users",
    "enrol/manual:unenrol": "Unenrol users from the course",
    "report/completion:view": "View course completion report",
    "report/progress:view": "View activity completion reports",
}

_PLACEHOLDER = re.compile(r"\{\$a(?:->(\w+))?\}")


def get_string(identifier: str, component: str = "error", a: object = None) -> str:
    """Like Moodle's get_string(): placeholders ``{$a}`` and ``{$a->key}`` are filled from ``a``."""
    template = STRINGS.get((component, identifier))
    if template is None:
        # moodle_exception with a missing string shows "module/errorcode" (lib/setuplib.php)
        return f"{component}/{identifier}"
    if a is None:
        # an unset $a leaves the placeholder as is: the 'wsnoinstance' quirk, ws-reference.md §2.6
        return template

    def fill(m: re.Match[str]) -> str:
        key = m.group(1)
        if key is None:
            return _php_str(a)
        if isinstance(a, Mapping) and key in a:
            return _php_str(a[key])
        return m.group(0)

    return _PLACEHOLDER.sub(fill, template)


def capability_name(capability: str) -> str:
    return CAPABILITY_NAMES.get(capability, capability)


def _php_str(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)
