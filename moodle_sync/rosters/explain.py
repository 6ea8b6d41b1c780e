"""A roster import plan for people: the file's header, who is created, adopted, updated, who joins and leaves
which cohort, the rows nothing is sent for, and the enrolments that follow (``roster import --dry-run``)."""

from __future__ import annotations

from moodle_sync.counties import COUNTIES
from moodle_sync.reconcile.explain import ExplainerCore
from moodle_sync.reconcile.plan import Action, Plan
from moodle_sync.reconcile.words import count_words as nw
from moodle_sync.rosters.actions import (
    ChangeCohortMembers,
    CreateUsers,
    FollowEnrolments,
    RecordPeople,
    RefuseRows,
    UpdateUsers,
)
from moodle_sync.rosters.said import leaving_lines, skipped_lines
from moodle_sync.rosters.view import RosterView

__all__ = ["RosterExplainer", "render_roster_plan"]

SAMPLE = 5
BLOCKED_SHOWN = 20


class RosterExplainer(ExplainerCore):
    """The roster import's actions, in the words the import has always used."""

    def visit_create_users(self, action: CreateUsers) -> list[str]:
        names = ", ".join(p.name for p in action.people[:SAMPLE])
        return [f"+ create {nw(len(action.people), 'user')}: {names}" + (" …" if len(action.people) > SAMPLE else "")]

    def visit_record_people(self, action: RecordPeople) -> list[str]:
        adopted = [p for p in action.people if p.row in action.adopted]
        if not adopted:
            return []  # the store learns who the matched people are: nothing changes for them
        names = ", ".join(f"{p.name} (user {p.userid})" for p in adopted[:SAMPLE])
        return [f"= adopt {nw(len(adopted), 'existing account')} no roster named before (no new account is made): "
                f"{names}" + (" …" if len(adopted) > SAMPLE else "")]

    def visit_update_users(self, action: UpdateUsers) -> list[str]:
        changes = action.changes
        names = ", ".join(f"{u.person.name} ({', '.join(u.changes)})" for u in changes[:SAMPLE])
        lines = [f"~ update {nw(len(changes), 'user')}: {names}" + (" …" if len(changes) > SAMPLE else "")]
        moved = [(u.person.row, *u.changes["email"]) for u in changes if "email" in u.changes]
        lines += [f"    row {row}: e-post: {old} → {new}" if old is not None else f"    row {row}: new e-post: {new}"
                  for row, old, new in moved[:BLOCKED_SHOWN]]
        if len(moved) > BLOCKED_SHOWN:
            lines.append(f"    … and {len(moved) - BLOCKED_SHOWN} more e-mail changes (--json lists all)")
        return lines

    def visit_change_cohort_members(self, action: ChangeCohortMembers) -> list[str]:
        lines = []
        if action.add:
            lines.append(f"+ add {nw(len(action.add), 'cohort membership')}")
        if action.remove:
            lines.append(f"- remove {nw(len(action.remove), 'cohort membership')} (their enrolments are suspended, "
                         f"never removed)")
        return lines

    def visit_refuse_rows(self, action: RefuseRows) -> list[str]:
        lines = []
        if action.blocked:
            who = "1 person" if len(action.blocked) == 1 else f"{len(action.blocked)} people"
            lines.append(f"! {who} cannot be created (nothing is sent for them):")
            lines += [f"    row {r.row} ({r.email}): {r.reason}" for r in action.blocked[:BLOCKED_SHOWN]]
            if len(action.blocked) > BLOCKED_SHOWN:
                lines.append(f"    … and {len(action.blocked) - BLOCKED_SHOWN} more (--json lists all)")
        if action.refused:
            lines.append(f"! {nw(len(action.refused), 'row')} held for an administrator (nothing is sent for them):")
            lines += [f"    row {r.row} ({r.email}): {r.reason}" for r in action.refused[:BLOCKED_SHOWN]]
            if len(action.refused) > BLOCKED_SHOWN:
                lines.append(f"    … and {len(action.refused) - BLOCKED_SHOWN} more (--json lists all)")
        return lines

    def visit_follow_enrolments(self, action: FollowEnrolments) -> list[str]:
        words = {"enrol": "enrol", "reactivate": "reactivate", "suspend": "suspend (never unenrol)",
                 "redate": "new dates for"}
        older = f" (an older version: the rules enrol in {action.newest})" if action.newest else ""
        lines = [f"  then enrolments in {action.idnumber}{older}: "
                 + ", ".join(f"{words[k]} {n}" for k, n in action.counts().items() if n)]
        items = action.items()
        for what, i in items[:BLOCKED_SHOWN]:
            who = f"{i.name} <{i.email}>" + (f" (created by this import, row {i.row})" if i.awaits_create else "")
            moves = " (moves to the newest version)" if i.userid and i.userid in action.moved else ""
            lines.append(f"    {what} {who}" + (f" as {i.role}" if i.role and what != "suspend" else "") + moves)
        if len(items) > BLOCKED_SHOWN:
            lines.append(f"    … and {len(items) - BLOCKED_SHOWN} more (--json lists all)")
        return lines


#: the order people read a roster plan in (the actions are applied in the plan's order)
SHOWN_BEFORE_KEPT = (CreateUsers, RecordPeople, UpdateUsers, ChangeCohortMembers)


def render_roster_plan(plan: Plan, explainer: ExplainerCore) -> str:
    """The import plan for people: counts, a sample of names, and the enrolments that follow."""
    view = RosterView(plan)
    ctx = view.context
    county = COUNTIES[ctx.county]

    def shown(*kinds: type[Action]) -> list[str]:
        return [line for kind in kinds for a in plan.actions if isinstance(a, kind) for line in explainer.describe(a)]

    lines = [f"Roster for {county.name} ({ctx.county}), target groups: {', '.join(ctx.groups) or '-'}",
             f"  {nw(ctx.rows, 'person', 'people')} in the file"
             + (f", {nw(len(ctx.skipped_rows), 'invalid row')} skipped" if ctx.skipped_rows else "")]
    lines += skipped_lines(ctx.skipped)
    if view.mass_removal:
        lines.append(f"! {view.mass_removal}")
    lines += shown(*SHOWN_BEFORE_KEPT)
    lines += leaving_lines(ctx.leavers)
    if ctx.kept_for_unused_rows:
        lines.append(f"= keep {nw(ctx.kept_for_unused_rows, 'cohort membership')} of people whose only rows were "
                     f"skipped or held: nobody leaves because a row of theirs could not be used")
    if ctx.kept:
        sample = ", ".join(f"user {k.userid} in {k.cohort}" for k in ctx.kept[:SAMPLE])
        lines.append(f"= keep {nw(len(ctx.kept), 'cohort membership')} no roster made (added in Moodle by someone "
                     f"else): {sample}" + (" …" if len(ctx.kept) > SAMPLE else "") + "; moodle-sync never takes them "
                     "out, do it in Moodle if they should leave")
    lines += shown(RefuseRows)
    if ctx.email_held:
        lines.append(f"! {nw(len(ctx.email_held), 'e-mail change')} not sent:")
        lines += [f"    row {r.row}: {r.reason}" for r in ctx.email_held[:BLOCKED_SHOWN]]
        if len(ctx.email_held) > BLOCKED_SHOWN:
            lines.append(f"    … and {len(ctx.email_held) - BLOCKED_SHOWN} more (--json lists all)")
    if not view.has_changes:
        lines.append("No changes: Moodle already matches this roster.")
    lines += shown(FollowEnrolments)
    return "\n".join(lines)
