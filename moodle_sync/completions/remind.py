"""Reminders to people whose deadline is near and who have not completed: a Moodle message each,
never twice to the same person about the same course within the interval, each one logged.

Messages are not idempotent: a call whose answer was not Moodle's own (lost, or a proxy's 502/503/504
page after it forwarded the call) may have delivered them. The service the tool uses has no function
to read the web-service user's sent messages back, so such messages are recorded as "maybe sent" (they
count as reminders for the interval) and never sent again; the result says who they were."""

from __future__ import annotations

import datetime
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodle_sync.completions.facts import build_facts
from moodle_sync.errors import ConfigError, MoodleError, WriteOutcomeUnknown
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import InstantMessage
from moodle_sync.scope import Scope
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.completions import CompletionStore
from moodle_sync.store.db import StateStore

TEMPLATE = "reminders/paminnelse.txt"
#: the text for people past their deadline (``remind --overdue``)
OVERDUE_TEMPLATE = "reminders/paminnelse-sen.txt"
MESSAGES_PER_CALL = 100
#: where a course is in Moodle (course/view.php takes its id)
COURSE_PATH = "/course/view.php?id="


@dataclass
class Reminder:
    userid: int
    course_idnumber: str
    deadline: datetime.date
    text: str
    #: 'deadline' (before it) or 'overdue' (after it)
    kind: str = "deadline"


@dataclass
class RemindResult:
    due: list[Reminder] = field(default_factory=list)
    skipped_recent: int = 0
    #: late people left out because they have had ``--max`` overdue reminders about the course already
    skipped_max: int = 0
    sent: int = 0
    #: user ids whose message may or may not have gone out (no answer from Moodle): not sent again
    maybe_sent: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: course versions left out because Moodle tracks no completion in them (no criteria, completion off)
    not_tracked: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"due": len(self.due), "skipped_recently_reminded": self.skipped_recent,
                "skipped_max_reminders": self.skipped_max, "sent": self.sent,
                "maybe_sent": self.maybe_sent, "failures": self.failures, "completion_not_tracked": self.not_tracked,
                "reminders": [{"userid": r.userid, "course": r.course_idnumber, "deadline": r.deadline.isoformat(),
                               "kind": r.kind} for r in self.due]}


def load_template(specs: SpecSet, name: str = TEMPLATE) -> string.Template:
    path = Path(specs.root) / name
    if not path.exists():
        raise ConfigError(f"no reminder text at {path}", hint="write the Swedish message there; it may use "
                          "$kurs, $sista_dag, $dagar_kvar (or $dagar_sedan) and $lank")
    return string.Template(path.read_text(encoding="utf-8"))


def remind(api: MoodleApi, specs: SpecSet, store: StateStore, *, before: datetime.timedelta,
           interval: datetime.timedelta, scope: Scope, dry_run: bool = False, overdue: bool = False,
           max_reminders: int = 3, today: datetime.date | None = None) -> RemindResult:
    """Find who to remind, skip those reminded within ``interval``, send.

    Without ``overdue``: people whose deadline is within ``before``. With it: people past their deadline,
    one reminder per ``interval`` and at most ``max_reminders`` overdue reminders per person and course.
    """
    today = today or datetime.date.today()
    kind = "overdue" if overdue else "deadline"
    template = load_template(specs, OVERDUE_TEMPLATE if overdue else TEMPLATE)
    completions = CompletionStore(store)
    result = RemindResult()
    cutoff = (datetime.datetime.now(datetime.UTC) - interval).isoformat(timespec="seconds")
    site = api.siteurl()  # the address people reach the site at (its wwwroot), not the one the tool typed
    links: dict[str, str] = {}
    for fact in build_facts(specs, store, scope):
        if fact.status != "active" or fact.completed_on or fact.deadline is None or fact.major != fact.current_major:
            continue
        if not (fact.deadline < today if overdue else today <= fact.deadline <= today + before):
            continue
        idnumber = specs.courses[fact.course_key].idnumber
        if not fact.tracked:
            # no criteria, or completion off (in the spec or in Moodle): nobody can be seen to complete it,
            # so a reminder would also go to those who have done it
            if idnumber not in result.not_tracked:
                result.not_tracked.append(idnumber)
            continue
        last = completions.last_reminder(fact.person, idnumber)
        if last is not None and last >= cutoff:
            result.skipped_recent += 1
            continue
        if overdue and completions.reminders_sent(fact.person, idnumber, "overdue") >= max_reminders:
            result.skipped_max += 1
            continue
        text = template.safe_substitute(kurs=specs.courses[fact.course_key].title,
                                        sista_dag=fact.deadline.isoformat(),
                                        dagar_kvar=str((fact.deadline - today).days),
                                        dagar_sedan=str((today - fact.deadline).days),
                                        lank=_course_link(api, store, site, idnumber, links))
        result.due.append(Reminder(fact.person, idnumber, fact.deadline, text, kind))
    if dry_run:
        return result
    for start in range(0, len(result.due), MESSAGES_PER_CALL):
        batch = result.due[start:start + MESSAGES_PER_CALL]
        try:
            sent = api.send_messages([InstantMessage(touserid=r.userid, text=r.text, textformat=0,
                                                     clientmsgid=f"remind-{r.userid}") for r in batch])
        except WriteOutcomeUnknown:
            # they may have been delivered: recorded as reminders (msgid unknown), so not sent twice
            for reminder in batch:
                completions.record_reminder(reminder.userid, reminder.course_idnumber, None, reminder.kind)
            result.maybe_sent += [r.userid for r in batch]
            continue
        except MoodleError as e:
            result.failures.append(f"{len(batch)} messages: {e}")
            continue
        for reminder, answer in zip(batch, sent, strict=False):
            if answer.msgid and answer.msgid > 0:
                completions.record_reminder(reminder.userid, reminder.course_idnumber, answer.msgid, reminder.kind)
                result.sent += 1
            else:
                result.failures.append(f"user {reminder.userid}: {answer.errormessage or 'not sent'}")
    return result


def _course_link(api: MoodleApi, store: StateStore, site: str, idnumber: str, links: dict[str, str]) -> str:
    """The course's page in Moodle (its id from the store, else one read), once per course per run."""
    if idnumber not in links:
        known = store.get("course", idnumber)
        courseid = known.moodle_id if known else (c.id if (c := api.course_by_idnumber(idnumber)) else None)
        links[idnumber] = f"{site}{COURSE_PATH}{courseid}" if courseid else site
    return links[idnumber]
