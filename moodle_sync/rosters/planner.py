"""Plan a county hub's roster import: compare the roster with Moodle and say, as plan actions, which people are
created and updated, which cohort members are added and removed, and the enrolments that follow. Reads only.

The roster is the complete list of the county's staff for the target groups it names: people an
earlier roster placed in those cohorts and missing from it now leave them (so their enrolments are
suspended, never removed), unless the mode is ``add``. Members someone else added in Moodle are left
where they are, and existing accounts a roster names are adopted, never made twice. County scoping
lives here, not in the CLI: a hub may only touch its own county.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal

from moodle_sync import clock
from moodle_sync.config import DEFAULT_ROLES
from moodle_sync.counties import COUNTIES
from moodle_sync.errors import RosterError
from moodle_sync.i18n import _
from moodle_sync.identity import COHORT_PREFIX, cohort_idnumber, parse_cohort_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import User
from moodle_sync.reconcile.cohorts import placed_by_roster
from moodle_sync.reconcile.plan import Action, Plan
from moodle_sync.rosters import emails
from moodle_sync.rosters.actions import (
    ChangeCohortMembers,
    CreateUsers,
    FollowEnrolments,
    KeptMember,
    Leaver,
    Member,
    RecordPeople,
    RefuseRows,
    RosterContext,
    RowWhy,
    UpdateUsers,
    UserChange,
)
from moodle_sync.rosters.follow import CohortChange, PersonRef, plan_followed_enrolments, read_enrolments_for
from moodle_sync.rosters.other_counties import other_counties_as_problems
from moodle_sync.rosters.people import check_auth, username_for
from moodle_sync.rosters.roster import Roster, RosterRow, RowProblem
from moodle_sync.scope import Scope, known_counties
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import Person, StateStore

#: an import that would take more than this share of a county's members out of their cohorts stops
MASS_REMOVAL_SHARE = 0.20

Mode = Literal["replace", "add"]


@dataclass
class _Draft:
    """What an import will do, while it is worked out (made into plan actions at the end)."""


    county: str
    mode: Mode
    groups: tuple[str, ...]
    rows: list[RosterRow]
    create: list[RosterRow] = field(default_factory=list)
    update: list[UserChange] = field(default_factory=list)
    #: (cohort idnumber, user id or the row of a person still to be created)
    add: list[tuple[str, int | RosterRow]] = field(default_factory=list)
    remove: list[tuple[str, int]] = field(default_factory=list)
    matched: dict[int, int] = field(default_factory=dict)   # roster row → Moodle user id
    cohort_ids: dict[str, int] = field(default_factory=dict)
    current_members: int = 0
    skipped_rows: list[int] = field(default_factory=list)
    #: new people Moodle would refuse to create (row, why and what to do): never sent, failures of the import
    blocked: list[tuple[RosterRow, str]] = field(default_factory=list)
    #: existing accounts no roster named before (made in Moodle by others): matched, from now on the roster's
    adopted: list[tuple[RosterRow, int]] = field(default_factory=list)
    #: (cohort idnumber, user id) of members no roster placed there, whom this roster does not name: left alone
    kept: list[tuple[str, int]] = field(default_factory=list)
    #: a hub's rows naming someone outside its scope (row, the one text of scope.outside_text): nothing is
    #: sent for them and nothing of the person is shown; failures of the import
    refused: list[tuple[RosterRow, str]] = field(default_factory=list)
    #: cohort members a refused row names: left as they are (neither added nor removed)
    untouched: set[int] = field(default_factory=set)
    #: Moodle's e-mail of each matched row's account (what the store records unless the e-mail is changed)
    moodle_emails: dict[int, str] = field(default_factory=dict)
    #: rows whose new e-mail is not sent, and why (the store keeps Moodle's e-mail for them)
    email_held: list[tuple[RosterRow, str]] = field(default_factory=list)
    #: made for a hub: Moodle's own "already exists" refusals are reported with the hub's one refusal text
    scoped: bool = False
    #: with --skip-invalid: every problem of the rows left out (row number, column, why)
    skipped: list[RowProblem] = field(default_factory=list)
    #: a mass removal, which the import refuses without --allow-mass-removal (the share, in words)
    mass_removal: str = ""
    #: user id → the e-mail the state store has, for saying who would leave
    leaving: dict[int, str] = field(default_factory=dict)
    #: everyone who leaves a cohort, named, with what they lose
    leavers: list[Leaver] = field(default_factory=list)
    #: memberships kept because the person's only rows were skipped or held
    kept_for_unused_rows: int = 0


def plan_roster(api: MoodleApi, roster: Roster, *, county: str, scope: Scope, mode: Mode = "replace",
                skip_invalid: bool = False, allow_mass_removal: bool = False, store: StateStore | None = None,
                workers: int = 4, auth: str = "manual", specs: SpecSet | None = None,
                roles: Mapping[str, int] | None = None, today: datetime.date | None = None) -> Plan:
    """Compare a roster with Moodle and say what an import would change. Reads only.

    The people earlier rosters named are in ``store``: a matched account none of them is, is adopted; a cohort
    member whom no roster of this county placed in that cohort is kept, whatever this roster says (someone
    added them in Moodle; the tool only takes out whom a roster put in). Without a store, every match is an
    adoption and nobody is taken out.

    For a hub, a row that names (by employee id, e-mail in any case, or username) a person known to belong
    to another county (``store``, or Moodle's tool cohorts: see moodle_sync/scope.py) is refused with the one
    text that shows nothing of them; they are neither changed, moved nor enrolled.

    A mass removal (more than :data:`MASS_REMOVAL_SHARE` of the county's members) without
    ``allow_mass_removal`` is in the plan's context: it shows who would leave, and :func:`refuse_mass_removal`
    stops an import about to apply it. With ``specs`` that have enrolment rules, the enrolments that follow
    close the plan, planned for the people the import touches from the members it leaves (``roles``: the
    site's role ids, default a stock Moodle's; ``today``: the day the rules judge completions on, default
    today in Sweden): see rosters/follow.py.

    Raises:
        ScopeError: the county is outside the caller's scope. A row naming another county is one more invalid
            row (rosters/other_counties.py): refused with the others, or skipped with ``skip_invalid``.
        RosterError: invalid rows (unless ``skip_invalid``) or missing cohorts.
        ConfigError: ``auth`` cannot be given to new accounts (see rosters/people.py).
    """
    check_auth(auth)
    if county not in COUNTIES:
        raise RosterError(_("unknown county {county}").format(county=repr(county)),
                          hint=_("use a letter code such as W or AB"))
    scope = scope.within(county)
    roster = other_counties_as_problems(roster, scope)
    if roster.problems and not skip_invalid:
        raise RosterError(_("{path}: {n} problem(s); nothing was written").format(path=roster.path,
                                                                                   n=len(roster.problems)),
                          problems=roster.problems,
                          hint=_("fix the rows, or pass --skip-invalid to import the valid rows only"))
    groups = tuple(sorted({g for r in roster.rows for g in r.target_groups}))
    plan = _Draft(county=county, mode=mode, groups=groups, rows=list(roster.rows),
                      skipped_rows=roster.invalid_rows if skip_invalid else [], scoped=scope.is_hub,
                      skipped=list(roster.problems) if skip_invalid else [])

    wanted_cohorts = {cohort_idnumber(g, county) for g in groups}
    found = {c.idnumber: c.id for c in api.search_cohorts(COHORT_PREFIX) if c.idnumber in wanted_cohorts}
    missing = sorted(wanted_cohorts - set(found))
    if missing:
        raise RosterError(_("cohorts missing in Moodle: {cohorts}").format(cohorts=", ".join(missing)),
                          hint=_("run `moodle-sync apply` first: it creates the cohorts of every target group"))
    plan.cohort_ids = found

    known_people = store.persons() if store is not None else {}
    named: dict[int, list[User]] = {}   # row → every account its employee id, e-mail or username finds
    users = _match_users(api, roster.rows, named=named)
    new_emails = _email_changes(api, plan, users, named, workers)
    for row in roster.rows:
        user = users.get(row.row)
        if user is None:
            plan.create.append(row)
            continue
        plan.matched[row.row] = user.id
        if user.id not in known_people:
            plan.adopted.append((row, user.id))
        plan.moodle_emails[row.row] = user.email
        changes = _user_changes(user, row)
        if row.row in new_emails:
            changes["email"] = (user.email, new_emails[row.row])
        if changes:
            plan.update.append(UserChange(_person(row, user.id, user.email), user.id, changes))
    plan.blocked = _creation_refusals(api, plan.create, known=list(users.values()), named=named, workers=workers)
    if scope.is_hub:
        _refuse_outside(api, store, plan, named, scope)
    if scope.is_hub:
        _hide_old_values(plan)
    blocked_rows = {r.row for r, _why in plan.blocked + plan.refused}
    plan.adopted = [(r, uid) for r, uid in plan.adopted if r.row not in blocked_rows]
    plan.create = [r for r in plan.create if r.row not in blocked_rows]

    # people named only by rows left out (invalid with --skip-invalid) keep their cohorts, as held rows' do
    unused = _named_by_invalid_rows(api, roster) - set(plan.matched.values())
    current = api.cohort_members(found.values())
    by_id = {v: k for k, v in found.items()}
    plan.current_members = sum(len(m) for m in current.values())
    desired: dict[str, set[int]] = {idn: set() for idn in found}
    for row in roster.rows:
        for g in row.target_groups:
            idn = cohort_idnumber(g, county)
            uid = plan.matched.get(row.row)
            if uid is None:
                if row.row not in blocked_rows:
                    plan.add.append((idn, row))
                continue
            desired[idn].add(uid)
            if uid not in current.get(found[idn], set()):
                plan.add.append((idn, uid))
    if mode == "replace":
        for cid, members in sorted(current.items()):
            idn = by_id[cid]
            for uid in sorted(members - desired[idn]):
                placed = placed_by_roster(known_people.get(uid), idn)
                if uid in plan.untouched or uid in unused:
                    plan.kept_for_unused_rows += placed
                    continue
                (plan.remove if placed else plan.kept).append((idn, uid))
    plan.leaving = {uid: p.email for _idn, uid in plan.remove if (p := known_people.get(uid)) and p.email}
    plan.leavers = _leavers(api, plan, known_people, current, by_id, specs)
    if plan.current_members and len(plan.remove) > MASS_REMOVAL_SHARE * plan.current_members \
            and not allow_mass_removal:
        plan.mass_removal = _("this import would take {n} of {members} members ({share}) out of {county}'s "
                              "cohorts").format(n=len(plan.remove), members=plan.current_members,
                                                share=f"{len(plan.remove) / plan.current_members:.0%}",
                                                county=COUNTIES[county].name)
    context = RosterContext(county=county, mode=mode, groups=groups, file=str(roster.path), sha256=roster.sha256,
                            hub=scope.name, rows=len(roster.rows), skipped_rows=tuple(plan.skipped_rows),
                            skipped=tuple(plan.skipped), mass_removal=plan.mass_removal,
                            kept=tuple(KeptMember(c, u) for c, u in plan.kept),
                            email_held=tuple(RowWhy(r.row, r.email, why) for r, why in plan.email_held),
                            leavers=tuple(plan.leavers), kept_for_unused_rows=plan.kept_for_unused_rows)
    follow = _follow(api, specs, store, plan, DEFAULT_ROLES if roles is None else roles, today or clock.today()) \
        if specs is not None and specs.rules else ()
    return Plan(actions=_actions(plan, auth, follow), notes=(), spec_digest=specs.digest if specs else "",
                moodle_digest="", moodle_url=api.client.transport.base_url, context=context)


def refuse_mass_removal(plan: Plan) -> None:
    """Stop an import about to apply a plan that takes too many people out of their cohorts.

    Raises:
        RosterError: the plan's context holds a mass removal (made without ``allow_mass_removal``).
    """
    share = plan.context.mass_removal if isinstance(plan.context, RosterContext) else ""
    if share:
        raise RosterError(
            f"{share}; nothing was written", hint="check that the file is the county's complete list for its target "
                                                 "groups (--dry-run lists who would leave); if it is, pass "
                                                 "--allow-mass-removal (their enrolments are suspended, not removed)")


def _person(r: RosterRow, userid: int | None = None, moodle_email: str | None = None) -> RosterRow:
    """The row as the plan names the person: the account it matched, and no county (the action's)."""
    return replace(r, target_groups=tuple(r.target_groups), county=None, userid=userid, moodle_email=moodle_email)


def _actions(plan: _Draft, auth: str, follow: tuple[FollowEnrolments, ...]) -> tuple[Action, ...]:
    """The draft as actions, in the order they are applied."""
    county = plan.county
    out: list[Action] = []
    if plan.blocked or plan.refused:
        out.append(RefuseRows(county, blocked=tuple(RowWhy(r.row, r.email, why) for r, why in plan.blocked),
                              refused=tuple(RowWhy(r.row, r.email, why) for r, why in plan.refused)))
    matched = [_person(r, plan.matched[r.row], plan.moodle_emails.get(r.row)) for r in plan.rows
               if r.row in plan.matched]
    if matched:
        out.append(RecordPeople(county, people=tuple(matched), adopted=tuple(r.row for r, _uid in plan.adopted)))
    if plan.create:
        out.append(CreateUsers(county, auth=auth, people=tuple(_person(r) for r in plan.create), scoped=plan.scoped))
    if plan.update:
        out.append(UpdateUsers(county, changes=tuple(plan.update), scoped=plan.scoped))
    if plan.add or plan.remove:
        add = tuple(Member(idn, plan.cohort_ids[idn], userid=who) if isinstance(who, int)
                    else Member(idn, plan.cohort_ids[idn], row=who.row) for idn, who in plan.add)
        remove = tuple(Member(idn, plan.cohort_ids[idn], userid=uid, email=plan.leaving.get(uid, ""))
                       for idn, uid in plan.remove)
        out.append(ChangeCohortMembers(county, add=add, remove=remove))
    out += follow
    return tuple(out)


def _follow(api: MoodleApi, specs: SpecSet, store: StateStore | None, plan: _Draft, roles: Mapping[str, int],
            today: datetime.date) -> tuple[FollowEnrolments, ...]:
    """The enrolments that follow the draft's cohort changes, for the people it touches (rosters/follow.py)."""
    # a row names its person as the roster does (a hub's plan never shows what an account holds)
    people = {p.key: p for p in (*(PersonRef(v.name, v.email, userid=v.userid) for v in plan.leavers),
                                 *(PersonRef(r.name, r.email, userid=plan.matched[r.row]) for r in plan.rows
                                   if r.row in plan.matched),
                                 *(PersonRef(r.name, r.email, row=r.row) for r in plan.create))}
    change = CohortChange(plan.county, add=tuple((idn, people[who] if isinstance(who, int) else
                                                  PersonRef(who.name, who.email, row=who.row))
                                                 for idn, who in plan.add),
                          remove=tuple(plan.remove), people=tuple(people.values()))
    rule_groups = {g for r in specs.rules.values() for g in r.target_groups}
    rule_people = {plan.matched[r.row] for r in plan.rows
                   if r.row in plan.matched and set(r.target_groups) & rule_groups}
    actual, state = read_enrolments_for(api, specs, store, plan.county, change.existing, rule_people)
    return plan_followed_enrolments(specs, actual, state, change, roles, today)


def _named_by_invalid_rows(api: MoodleApi, roster: Roster) -> set[int]:
    """The accounts the roster's invalid rows name (by employee id, e-mail or username), as far as they read."""
    if not roster.invalid:
        return set()
    named: dict[int, list[User]] = {}
    _match_users(api, [r for r in roster.invalid if r.email or r.employee_id], named=named)
    return {u.id for found in named.values() for u in found}


def _leavers(api: MoodleApi, plan: _Draft, known: dict[int, Person], current: dict[int, set[int]],
             by_id: dict[int, str], specs: SpecSet | None) -> list[Leaver]:
    """Everyone the plan takes out of a cohort: name (Moodle's), the store's e-mail and organisation, the
    target groups they leave, and the course versions whose enrolment the rules then suspend (a rule none of
    their remaining groups in the county still gives them)."""
    left: dict[int, set[str]] = defaultdict(set)
    for idn, uid in plan.remove:
        left[uid].add(_group_of(idn) or idn)
    if not left:
        return []
    names = {u.id: f"{u.firstname} {u.lastname}" for u in api.users_by_field("id", map(str, left))}
    removed = set(plan.remove)
    out: list[Leaver] = []
    for uid, groups in sorted(left.items()):
        stays = {_group_of(by_id[cid]) for cid, members in current.items()
                 if uid in members and (by_id[cid], uid) not in removed}
        courses = sorted({specs.courses[r.course].idnumber for r in specs.rules.values()
                          if set(r.target_groups) & groups and not set(r.target_groups) & stays}) if specs else []
        person = known.get(uid)
        out.append(Leaver(uid, names.get(uid, _("user {id}").format(id=uid)), person.email if person else "",
                          person.organisation if person else "", tuple(sorted(groups)), tuple(courses)))
    return out


def _group_of(cohort: str) -> str | None:
    parsed = parse_cohort_idnumber(cohort)
    return parsed[0] if parsed else None

def _match_users(api: MoodleApi, rows: Sequence[RosterRow], *,
                 named: dict[int, list[User]] | None = None) -> dict[int, User]:
    """Roster row → Moodle user: by employee id when given, else by lower-cased email/username.

    ``named`` gets, per row, every account its employee id, e-mail or username finds (not only the match).
    """
    ids = [r.employee_id for r in rows if r.employee_id]
    all_by_idnumber: dict[str, list[User]] = defaultdict(list)
    for u in api.users_by_field("idnumber", ids) if ids else []:
        all_by_idnumber[u.idnumber].append(u)
    by_idnumber = {idn: found[-1] for idn, found in all_by_idnumber.items()}
    emails = [r.email for r in rows]
    by_email = {u.email.lower(): u for u in api.users_by_field("email", emails)} if emails else {}
    usernames = [username_for(r.email) for r in rows if r.email not in by_email]
    by_username = {u.username: u for u in api.users_by_field("username", usernames)} if usernames else {}
    out: dict[int, User] = {}
    for r in rows:
        user = (by_idnumber.get(r.employee_id) if r.employee_id else None) or by_email.get(r.email) \
            or by_username.get(username_for(r.email))
        if user is not None:
            out[r.row] = user
        if named is not None:
            found = [*all_by_idnumber.get(r.employee_id or "", []), by_email.get(r.email),
                     by_username.get(username_for(r.email))]
            named[r.row] = list({u.id: u for u in found if u is not None}.values())
    return out


def _email_changes(api: MoodleApi, plan: _Draft, users: dict[int, User],
                   named: dict[int, list[User]], workers: int = 1) -> dict[int, str]:
    """Row → the new e-mail to send, for rows matched by employee id whose e-mail changed; the others go to
    ``plan.email_held`` with why. The accounts found with a new e-mail in any case join ``named``."""
    changes = emails.changed_emails([(r, users[r.row]) for r in plan.rows if r.row in users])
    if not changes:
        return {}
    taken = _accounts_by_email_any_case(api, [r.email for r, _u in changes], [u for _r, u in changes], workers)
    for r, _u in changes:
        seen = {u.id for u in named[r.row]}
        named[r.row] += [u for u in taken.get(r.email, []) if u.id not in seen]
    send, held = emails.decide(changes, named)
    plan.email_held = [(r, held[r.row]) for r, _u in changes if r.row in held]
    return send


def _refuse_outside(api: MoodleApi, store: StateStore | None, plan: _Draft, named: dict[int, list[User]],
                    scope: Scope) -> None:
    """Take a hub's rows that name any existing account the hub may not use (see scope.hub_may_use: another
    county's person, an account in no county, a site admin) out of every other part of the plan, into
    ``plan.refused`` with one text whatever the cause: they are held for an administrator.

    The refusals that would otherwise tell the hub that an account it did not match exists get that text
    too: a new person whose e-mail an account has in other capitals, and an e-mail change to an address
    another account has. Only its own accounts' reasons (an SSO account's e-mail) keep their own text.
    """
    counties = known_counties(api, store, {u.id for found in named.values() for u in found})
    outside = {row for row, found in named.items()
               if not all(scope.may_use(counties.get(u.id, set())) for u in found)}
    outside |= {r.row for r, _why in plan.blocked if named.get(r.row)}
    outside |= {r.row for r, _why in plan.email_held if any(u.id != plan.matched[r.row] for u in named[r.row])}
    if not outside:
        return
    why = scope.outside_text()
    plan.refused = [(r, why) for r in plan.rows if r.row in outside]
    plan.create = [r for r in plan.create if r.row not in outside]
    plan.blocked = [(r, w) for r, w in plan.blocked if r.row not in outside]
    plan.update = [u for u in plan.update if u.person.row not in outside]
    plan.email_held = [(r, w) for r, w in plan.email_held if r.row not in outside]
    for row in outside:
        plan.matched.pop(row, None)
        plan.moodle_emails.pop(row, None)
        plan.untouched |= {u.id for u in named[row]}


def _hide_old_values(plan: _Draft) -> None:
    """A hub's plan names what its roster says, never what an existing account holds: no old value of a change,
    and no e-mail Moodle has (the applier reads it when it records the person)."""
    plan.update = [UserChange(replace(u.person, moodle_email=None), u.userid,
                              {k: (None, new) for k, (_old, new) in u.changes.items()}) for u in plan.update]
    plan.moodle_emails.clear()


def _creation_refusals(api: MoodleApi, rows: Sequence[RosterRow], *, known: Sequence[User],
                       named: dict[int, list[User]] | None = None, workers: int = 1) -> list[tuple[RosterRow, str]]:
    """The rows create_users would refuse for reasons the roster file cannot show. Reads only.

    A refused create_users call is rolled back whole, yet the password e-mails it sent for the people before
    the refused one stay sent, so these are found before anything is sent. The parser has checked what a row
    alone decides (blank or over-long names, tags, email syntax); left are a username two rows share (Moodle's
    usernames keep only a-z, 0-9 and ``_.@-``) and an email that exists in another case: create_users
    compares emails ignoring case (``sql_equal('email', :email, false)``) while the exact lookup that
    matched people does not, so such an account was not found. A site with allowaccountssameemail on would
    accept the second account; the import never makes one.
    """
    out: list[tuple[RosterRow, str]] = []
    first_with: dict[str, RosterRow] = {}
    for r in rows:
        username = username_for(r.email)
        other = first_with.setdefault(username, r)
        if other is not r:
            out.append((r, _("its Moodle username would be {username}, the same as row {row}'s ({email}): "
                             "usernames keep only a-z, 0-9 and _.@-; check both addresses").format(
                                 username=repr(username), row=other.row, email=other.email)))
    taken = _accounts_by_email_any_case(api, [r.email for r in rows], known, workers)
    for r in rows:
        if r.email in taken:
            if named is not None:
                named.setdefault(r.row, []).extend(taken[r.email])
            who = ", ".join(f"user {u.id} ({u.email}, username {u.username!r})" for u in taken[r.email])
            out.append((r, _("an account with this e-mail exists with other capitals or another username: {who}; "
                             "Moodle refuses a second one. Give the row its employee id (the account's ID number), "
                             "or fix the account in Moodle").format(who=who)))
    return sorted(out, key=lambda item: item[0].row)


def _accounts_by_email_any_case(api: MoodleApi, emails: Sequence[str], known: Sequence[User],
                                workers: int = 1) -> dict[str, list[User]]:
    """Accounts whose email equals one of ``emails`` (lower case) in any case, by lower-cased email.

    get_users compares emails with a case-insensitive LIKE, one pattern per call. A domain with more new
    addresses than the accounts already matched there (a first import) is read in one call, ``%@domain``;
    otherwise each address is read alone, so a later import does not fetch a whole domain's accounts.
    """
    wanted = set(emails)
    if not wanted or not api.has_function("core_user_get_users"):
        return {}  # an optional check: without it Moodle refuses such a row itself (see _create_users)
    by_domain: dict[str, list[str]] = defaultdict(list)
    for email in sorted(wanted):
        by_domain[email.rsplit("@", 1)[1]].append(email)
    known_at = Counter(u.email.lower().rsplit("@", 1)[-1] for u in known)
    patterns: list[str] = []
    for domain, addresses in sorted(by_domain.items()):
        patterns += [f"%@{domain}"] if len(addresses) > max(1, known_at[domain]) else addresses
    out: dict[str, dict[int, User]] = defaultdict(dict)
    # reads only: the patterns are read side by side (each is a scan of Moodle's user table)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        found = list(pool.map(api.users_with_email_like, patterns))
    for users in found:
        for user in users:
            if user.email.lower() in wanted:  # "_" in an address is a wildcard too
                out[user.email.lower()][user.id] = user
    return {email: list(users.values()) for email, users in out.items()}


def _user_changes(user: User, row: RosterRow) -> dict[str, tuple[str | None, str]]:
    """Names and organisation follow the roster, but a value is never blanked."""
    wanted = {"firstname": row.firstname, "lastname": row.lastname, "institution": row.organisation,
              "department": row.unit, "idnumber": row.employee_id or ""}
    return {k: (getattr(user, k), v) for k, v in wanted.items() if v and getattr(user, k) != v}

