"""The person list a county downloads (personer-W-….csv): one row per person and course version, with
Swedish headings and values, the person's name (read from Moodle, the store keeps none) and the course by its
title – what `report --personal-data` gives the command line with keys and ids, for a coordinator.

Each download is logged in the state store's export log, as the command line's is.
"""

from __future__ import annotations

import csv
import io

from moodle_sync.i18n import lazy_gettext
from moodle_sync.jobs import report as report_job
from moodle_sync.portal.names import Names
from moodle_sync.portal.site import Site
from moodle_sync.reports.render._format import inert
from moodle_sync.scope import Scope
from moodle_sync.store.completions import CompletionStore

HEADINGS = [lazy_gettext("First name"), lazy_gettext("Last name"), lazy_gettext("E-mail"),
            lazy_gettext("Organisation"), lazy_gettext("Target groups"), lazy_gettext("Course"),
            lazy_gettext("Version"), lazy_gettext("Enrolment"), lazy_gettext("Enrolled since"),
            lazy_gettext("Completed"), lazy_gettext("Completion date from"), lazy_gettext("Deadline"),
            lazy_gettext("Deadline rule")]
STATUS = {"active": lazy_gettext("active"), "suspended": lazy_gettext("suspended")}
SOURCE = {"report": lazy_gettext("Moodle's completion report"), "criteria": lazy_gettext("the course's criteria"),
          "first_seen": lazy_gettext("first seen completed")}
#: users read from Moodle per call for their names
BATCH = 200


def person_list(site: Site, scope: Scope) -> bytes:
    """``scope``'s county's person list as CSV (UTF-8 with BOM and semicolons, as Excel in Sweden opens it)."""
    specs = site.specs()
    store = site.store()
    try:
        facts = report_job.facts(specs, store, scope)
        persons = store.persons()
        CompletionStore(store).log_personal_export(scope=scope.county or "all counties",
                                                   what="person list (portal)", rows=len(facts))
    finally:
        store.close()
    ids = sorted({f.person for f in facts})
    api = site.api(scope)
    users = {u.id: u for start in range(0, len(ids), BATCH)
             for u in api.users_by_field("id", [str(i) for i in ids[start:start + BATCH]])}
    names = Names(specs=specs)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow([str(h) for h in HEADINGS])
    for f in sorted(facts, key=lambda f: (users[f.person].lastname if f.person in users else "", f.person,
                                          f.course_key, f.major)):
        user = users.get(f.person)
        person = persons.get(f.person)
        row = [user.firstname if user else "", user.lastname if user else "", person.email if person else "",
               f.organisation, names.target_groups(f.target_groups), names.course(f.course_key), f.major,
               STATUS[f.status], f.enrolled_since.isoformat() if f.enrolled_since else "",
               f.completed_on.isoformat() if f.completed_on else "", SOURCE[f.completed_source]
               if f.completed_source else "", f.deadline.isoformat() if f.deadline else "", f.deadline_kind or ""]
        writer.writerow([inert(str(cell)) for cell in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
