"""`doctor`: the site's checks (connection, release, the token's functions, role ids, site switches, what a new
account costs) in a :class:`~moodle_sync.moodle.doctor_report.DoctorReport`."""

from __future__ import annotations

from collections.abc import Mapping

from moodle_sync.completions.explain import report_doctor
from moodle_sync.email_cost import doctor_text, probe
from moodle_sync.errors import MoodleSyncError, SiteNotReached
from moodle_sync.jobs.site import load
from moodle_sync.moodle.doctor_report import DoctorReport
from moodle_sync.moodle.functions import MoodleApi

__all__ = ["DoctorReport", "TESTED_RELEASES", "check_site", "doctor", "feature_warnings", "version_warnings"]


#: the Moodle releases the tool is tested on (recordings of real sites, the emulator, lab checks), newest first
TESTED_RELEASES = ("4.5", "4.3")
#: Moodle 4.1's version number: the first with report builder web services (the completion report)
REPORT_BUILDER_VERSION = 2022112800


def version_warnings(release: str, version: str) -> list[str]:
    """What doctor says of a Moodle release the tool is not tested on (nothing for a tested one).

    Raises:
        ValueError: ``version`` is not a number.
    """
    branch = ".".join(release.split()[0].split(".")[:2]) if release.strip() else ""
    if branch in TESTED_RELEASES:
        return []
    tested = " and ".join(TESTED_RELEASES)
    warnings = [f"Moodle {release or version} is not a release this tool is tested on ({tested}): its web "
                f"services may lack functions or answer differently; check `plan` before `apply`"]
    if int(float(version or 0)) < REPORT_BUILDER_VERSION:
        warnings.append("before Moodle 4.1 there is no report builder web service: `pull` asks Moodle one person "
                        "at a time (about 23 ms a person)")
    return warnings


def feature_warnings(features: Mapping[str, int]) -> list[str]:
    """What the site's switched-off features stop the tool from doing; a feature not listed says nothing."""
    warnings = []
    if features.get("enablecompletion", 1) == 0:
        warnings.append("completion tracking is off for the whole site: Moodle answers cannotviewreport for every "
                        "course, so `pull` finds no course completion, reports show none and `remind` reminds no one; "
                        "courses `apply` creates get completion off (core_course_create_courses); switch on "
                        "Site administration > Advanced features > Enable completion tracking")
    if features.get("messaging", 1) == 0:
        warnings.append("messaging is off for the whole site: Moodle refuses every message (disabled), so "
                        "`remind` cannot send reminders; switch on Site administration > Advanced features > "
                        "Enable messaging system")
    return warnings


def doctor(api: MoodleApi, required: tuple[str, ...] = MoodleApi.FUNCTIONS,
           roles: Mapping[str, int] | None = None, course_ids: list[int] | None = None) -> DoctorReport:
    """Check the connection, Moodle's version, that the token's service has every function, and
    that the configured role ids match the roles Moodle shows in the given courses' enrolments
    (no web service lists roles: this is the only way to see them). Site switches that disable part
    of the tool (completion tracking, messaging) become warnings."""
    report = DoctorReport(url=api.client.transport.base_url)
    info = api.site_info()
    report.release, report.version, report.username = info.release, info.version, info.username
    report.warnings = feature_warnings(info.features())
    report.site_admin = info.userissiteadmin
    if not info.userissiteadmin:
        # user_get_user_details() shows e-mail, idnumber, institution and department only with
        # moodle/site:viewuseridentity + showuseridentity or moodle/user:viewalldetails; without them
        # people are not found by e-mail or employee id, and imports would try to create them again
        report.warnings.append(f"the web-service user {info.username!r} is not a site administrator: it needs "
                               "moodle/user:viewalldetails (or moodle/site:viewuseridentity with e-mail and ID "
                               "number in showuseridentity) and moodle/course:update, or people and courses are "
                               "not found by e-mail, employee id or idnumber and would be created again; see "
                               "ws-reference.md §5 for the capabilities")
    names = info.function_names()
    report.missing_functions = [f for f in required if f not in names]
    lacking: dict[str, list[str]] = {}
    for f, why in MoodleApi.OPTIONAL_FUNCTIONS.items():
        if f not in names:
            lacking.setdefault(why, []).append(f)
    report.warnings += [f"the service lacks {', '.join(fs)}: {why}; add {'them' if len(fs) > 1 else 'it'} to the "
                        f"service" for why, fs in lacking.items()]
    try:
        report.warnings += version_warnings(info.release or "", str(info.version or ""))
    except ValueError:
        report.problems.append(f"cannot read Moodle's version {info.version!r}")
    if "core_user_get_users" in names and "core_user_get_users_by_field" in names:
        report.email_lookup_ms = probe(api)
        if report.email_lookup_ms:
            text, slow = doctor_text(*report.email_lookup_ms)
            if slow:
                report.warnings.append(text)
            else:
                report.new_accounts = text
    if roles and course_ids and "core_enrol_get_enrolled_users" in names:
        seen: dict[str, int] = {}
        for cid in course_ids:
            for user in api.enrolled_users(cid, only_active=False, fields="id,roles", page_size=200)[:200]:
                seen.update({r.shortname: r.roleid for r in user.roles if r.shortname})
        for shortname, rid in sorted(roles.items()):
            if shortname in seen and seen[shortname] != rid:
                report.problems.append(f"role {shortname!r} has id {seen[shortname]} on this site, but the "
                                       f"configuration says {rid}: fix [roles] in moodle-sync.toml")
        report.roles_seen = seen
    return report


def check_site(api: MoodleApi, *, specs_path: str, roles: Mapping[str, int] | None,
               completion_report: str) -> tuple[DoctorReport, str]:
    """`doctor`: :func:`doctor` with the managed courses (for the role ids) and the template courses the specs
    name, when the specs can be read (doctor also runs without them); and what the completion report
    ``completion_report`` needs (completions/explain.py), as a line for people ("" for nothing to say)."""
    course_ids: list[int] = []
    templates: dict[str, str] = {}
    try:  # the managed courses, to compare the [roles] map with the roles Moodle shows in them
        spec_set = load(specs_path)
        course_ids = [c.id for s in spec_set.courses.values() if (c := api.course_by_idnumber(s.idnumber))]
        templates = {s.template: s.key for s in spec_set.courses.values() if s.template}
    except SiteNotReached:
        raise
    except MoodleSyncError:
        pass  # doctor also runs without specs
    report = doctor(api, roles=roles, course_ids=course_ids)
    for template, key in sorted(templates.items()):
        if api.course_by_idnumber(template) is None:
            report.problems.append(f"template course {template!r} (named by course spec {key}) does not exist in "
                                   f"Moodle: create it (with its activities and completion criteria) and give it "
                                   f"that ID number, or remove `template` from the spec")
    return report, report_doctor(api, completion_report, report)
