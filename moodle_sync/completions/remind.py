"""Reminders to people whose deadline is near and who have not completed: a plan of one
:class:`SendReminder` per person and course, never twice to the same person about the same course within the
interval. ``remind --dry-run`` prints the plan through the one Explainer (completions/explain_reminders.py);
a real run hands it to the one Applier (completions/write_reminders.py), which sends the messages in batches
and logs each one in the store (the reminders table), so that a re-run does not remind twice.

Messages are not idempotent: a call whose answer was not Moodle's own (lost, or a proxy's 502/503/504
page after it forwarded the call) may have delivered them. The service the tool uses has no function
to read the web-service user's sent messages back, so such messages are recorded as "maybe sent" (they
count as reminders for the interval) and never sent again; the result says who they were."""

from __future__ import annotations

import datetime
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from moodle_sync import clock
from moodle_sync.completions.facts import build_facts
from moodle_sync.errors import ConfigError, PlanError
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.reconcile.apply import ApplyResult
from moodle_sync.reconcile.plan import Action, ChangeKind, Plan, PlanContext
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


#: what an apply records for a message whose answer was lost (recorded as a reminder, never sent again)
MAYBE_SENT = ("the answer was lost, so it may or may not have been delivered (Moodle offers no way to read back "
              "what was sent); recorded as sent and not sent again, so that nobody gets it twice")


@dataclass(frozen=True)
class SendReminder(Action):
    """One Moodle message to one person about one course (core_message_send_instant_messages)."""

    kind: ClassVar[ChangeKind] = ChangeKind.CREATE
    userid: int
    course_idnumber: str
    #: the deadline, ISO date
    deadline: str
    #: 'deadline' (before it) or 'overdue' (after it): the store counts overdue reminders for ``--max``
    reminder: str
    text: str
    #: not sent if the store has a reminder about the course to the person since this time (ISO, UTC)
    not_since: str

    @property
    def target(self) -> str:
        return f"{self.course_idnumber} user {self.userid}"


@dataclass(frozen=True)
class ReminderRound(PlanContext):
    """What a reminder plan was made from beyond its actions: who was left out, and why."""

    overdue: bool
    max_reminders: int
    #: reminded within the interval
    skipped_recent: int = 0
    #: late people who have had ``max_reminders`` overdue reminders about the course
    skipped_max: int = 0
    #: course versions left out because Moodle tracks no completion in them (no criteria, completion off)
    not_tracked: tuple[str, ...] = ()

    @classmethod
    def rebuild(cls, values: dict[str, Any]) -> dict[str, Any]:
        values["not_tracked"] = tuple(values.get("not_tracked", ()))
        return values


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

    @classmethod
    def of(cls, plan: Plan, applied: ApplyResult | None = None) -> RemindResult:
        """Who ``plan`` would remind (``applied`` None: a dry run), or what its apply did."""
        context = plan.context
        if not isinstance(context, ReminderRound):
            raise PlanError("not a reminder plan (a bug in moodle-sync)")
        actions = [a for a in plan.actions if isinstance(a, SendReminder)]
        result = cls(due=[Reminder(a.userid, a.course_idnumber, datetime.date.fromisoformat(a.deadline), a.text,
                                   a.reminder) for a in actions],
                     skipped_recent=context.skipped_recent, skipped_max=context.skipped_max,
                     not_tracked=list(context.not_tracked))
        if applied is not None:
            done = set(applied.done)
            result.sent = sum(1 for a in actions if a.id in done)
            result.maybe_sent = [a.userid for a in actions if applied.skipped.get(a.id) == MAYBE_SENT]
            # reminded by another run between the plan and the apply
            result.skipped_recent += sum(1 for a in actions if a.id in applied.skipped
                                         and applied.skipped[a.id] != MAYBE_SENT)
            result.failures = [f"user {a.userid}: {applied.failed[a.id]}" for a in actions if a.id in applied.failed]
        return result


def load_template(specs: SpecSet, name: str = TEMPLATE) -> string.Template:
    path = Path(specs.root) / name
    if not path.exists():
        raise ConfigError(f"no reminder text at {path}", hint="write the Swedish message there; it may use "
                          "$kurs, $sista_dag, $dagar_kvar (or $dagar_sedan) and $lank")
    return string.Template(path.read_text(encoding="utf-8"))


def plan_reminders(api: MoodleApi, specs: SpecSet, store: StateStore, *, before: datetime.timedelta,
                   interval: datetime.timedelta, scope: Scope, overdue: bool = False, max_reminders: int = 3,
                   today: datetime.date | None = None) -> Plan:
    """Find who to remind, leave out those reminded within ``interval``: the plan of the messages. Reads only.

    Without ``overdue``: people whose deadline is within ``before``. With it: people past their deadline,
    one reminder per ``interval`` and at most ``max_reminders`` overdue reminders per person and course.
    """
    today = today or clock.today()
    kind = "overdue" if overdue else "deadline"
    template = load_template(specs, OVERDUE_TEMPLATE if overdue else TEMPLATE)
    completions = CompletionStore(store)
    actions: list[SendReminder] = []
    skipped_recent = skipped_max = 0
    not_tracked: list[str] = []
    cutoff = (clock.now() - interval).isoformat(timespec="seconds")
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
            if idnumber not in not_tracked:
                not_tracked.append(idnumber)
            continue
        last = completions.last_reminder(fact.person, idnumber)
        if last is not None and last >= cutoff:
            skipped_recent += 1
            continue
        if overdue and completions.reminders_sent(fact.person, idnumber, "overdue") >= max_reminders:
            skipped_max += 1
            continue
        text = template.safe_substitute(kurs=specs.courses[fact.course_key].title,
                                        sista_dag=fact.deadline.isoformat(),
                                        dagar_kvar=str((fact.deadline - today).days),
                                        dagar_sedan=str((today - fact.deadline).days),
                                        lank=_course_link(api, store, site, idnumber, links))
        actions.append(SendReminder(userid=fact.person, course_idnumber=idnumber, deadline=fact.deadline.isoformat(),
                                    reminder=kind, text=text, not_since=cutoff))
    return Plan(actions=tuple(actions), notes=(), spec_digest=specs.digest, moodle_digest="",
                moodle_url=api.client.transport.base_url, specs_commit=specs.git_commit,
                context=ReminderRound(overdue=overdue, max_reminders=max_reminders, skipped_recent=skipped_recent,
                                      skipped_max=skipped_max, not_tracked=tuple(not_tracked)))


def _course_link(api: MoodleApi, store: StateStore, site: str, idnumber: str, links: dict[str, str]) -> str:
    """The course's page in Moodle (its id from the store, else one read), once per course per run."""
    if idnumber not in links:
        known = store.get("course", idnumber)
        courseid = known.moodle_id if known else (c.id if (c := api.course_by_idnumber(idnumber)) else None)
        links[idnumber] = f"{site}{COURSE_PATH}{courseid}" if courseid else site
    return links[idnumber]
