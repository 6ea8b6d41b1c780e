"""Import a county hub's roster: people to create and update, cohort members to add and remove,
and the enrolments that follow – planned first (nothing written), then applied.

The roster is the complete list of the county's staff for the target groups it names: people an
earlier roster placed in those cohorts and missing from it now leave them (so their enrolments are
suspended, never removed), unless the mode is ``add``. Members someone else added in Moodle are left
where they are, and existing accounts a roster names are adopted, never made twice. County scoping
lives here, not in the CLI: a hub may only touch its own county.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from moodle_sync.counties import COUNTIES
from moodle_sync.errors import (
    ConfigError,
    MoodleApiError,
    MoodleError,
    RosterError,
    ScopeError,
)
from moodle_sync.identity import COHORT_PREFIX, cohort_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import Created as CreatedUser
from moodle_sync.moodle.models import ItemWarning, NewUser, User, UserUpdate
from moodle_sync.parallel import run_parallel
from moodle_sync.phases import PhaseClock
from moodle_sync.reconcile.cohorts import placed_by_roster
from moodle_sync.reconcile.words import count_words as nw
from moodle_sync.rosters import emails
from moodle_sync.rosters.roster import Roster, RosterRow, RowProblem
from moodle_sync.rosters.said import leaving_lines, skipped_lines, skipped_rows_json
from moodle_sync.scope import Scope, known_counties, outside_text
from moodle_sync.send import FATAL, send_bisecting
from moodle_sync.settle import LOST_ANSWER_WAIT, settle
from moodle_sync.store.db import Person, StateStore

#: an import that would take more than this share of a county's members out of their cohorts stops
MASS_REMOVAL_SHARE = 0.20
USERS_PER_CREATE = 100
MEMBERS_PER_CALL = 500

# The ``auth`` an import gives new accounts (setting ``auth``, default manual). Moodle 4.3's create_users
# (user/externallib.php) refuses an auth whose is_internal() is true when the user has neither a password nor
# createpassword; is_internal() is true for manual, email, none and nologin (auth/*/auth.php) and for any plugin
# that does not override it (lib/authlib.php), false for cas, ldap, shibboleth, oauth2 and mnet.
#: internal auths whose users log in with a Moodle password: Moodle makes one and e-mails it (createpassword=1)
MAILED_PASSWORD_AUTHS = frozenset({"manual", "email", "none"})
#: internal, but its users cannot log in: a random password nobody is told (an e-mail would only confuse them)
NO_LOGIN_AUTHS = frozenset({"nologin"})
#: auths an import refuses before writing anything, and why
REFUSED_AUTHS = {
    "mnet": "create_users does not offer it (a network user needs a remote host)",
    "webservice": "create_users does not offer it (web-service accounts are made by hand)",
    "lti": "LTI accounts are made by LTI launches; Moodle treats lti as internal and would need a password",
}
# Any other plugin name (cas, ldap, shibboleth, oauth2, a site's own SSO plugin such as saml2) is sent without a
# password: Moodle refuses it if the plugin is not installed, or if it is internal (e.g. db with internal passwords).

Mode = Literal["replace", "add"]


@dataclass(frozen=True)
class UserChange:
    userid: int
    row: RosterRow
    changes: dict[str, tuple[str, str]]


@dataclass
class RosterPlan:
    """What an import will do. Nothing has been written when this exists."""

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
    #: a dry run's mass removal, which the real import refuses without --allow-mass-removal (the why)
    mass_removal: str = ""
    #: user id → the e-mail the state store has, for saying who would leave
    leaving: dict[int, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"rows": len(self.rows), "create": len(self.create), "update": len(self.update),
                "add_members": len(self.add), "remove_members": len(self.remove),
                "skipped_invalid": len(self.skipped_rows), "blocked": len(self.blocked),
                "adopt": len(self.adopted), "keep_members": len(self.kept),
                "refused": len(self.refused), "email_not_changed": len(self.email_held)}

    @property
    def has_changes(self) -> bool:
        # blocked and refused rows count: applying is what reports them as failures (not "in sync");
        # adopting is a change: the store learns the person is the roster's (so leaving it takes them out)
        return bool(self.create or self.update or self.add or self.remove or self.blocked or self.refused
                    or self.adopted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "county": self.county, "mode": self.mode, "groups": list(self.groups), "counts": self.counts(),
            "create": [{"row": r.row, "email": r.email, "name": f"{r.firstname} {r.lastname}"} for r in self.create],
            "update": [{"row": u.row.row, "userid": u.userid, "changes": u.changes} for u in self.update],
            "add": [{"cohort": c, "user": u if isinstance(u, int) else u.email} for c, u in self.add],
            "remove": [{"cohort": c, "userid": u} for c, u in self.remove],
            "blocked": [{"row": r.row, "email": r.email, "reason": why} for r, why in self.blocked],
            "adopt": [{"row": r.row, "email": r.email, "userid": uid} for r, uid in self.adopted],
            "keep_members": [{"cohort": c, "userid": u} for c, u in self.kept],
            "refused": [{"row": r.row, "email": r.email, "reason": why} for r, why in self.refused],
            "email_not_changed": [{"row": r.row, "reason": why} for r, why in self.email_held],
            "skipped_invalid": skipped_rows_json(self.skipped),
            "mass_removal": self.mass_removal or None,
        }


def username_for(email: str) -> str:
    """Moodle usernames are lower-case ``[a-z0-9_.@-]``: the lower-cased email with others replaced."""
    return re.sub(r"[^a-z0-9_.@-]", "_", email.lower())


def plan_roster(api: MoodleApi, roster: Roster, *, county: str, scope: Scope, mode: Mode = "replace",
                skip_invalid: bool = False, allow_mass_removal: bool = False,
                store: StateStore | None = None, workers: int = 4,
                dry_run: bool = False) -> RosterPlan:
    """Compare a roster with Moodle and say what an import would change. Reads only.

    The people earlier rosters named are in ``store``: a matched account none of them is, is adopted; a cohort
    member whom no roster of this county placed in that cohort is kept, whatever this roster says (someone
    added them in Moodle; the tool only takes out whom a roster put in). Without a store, every match is an
    adoption and nobody is taken out.

    For a hub, a row that names (by employee id, e-mail in any case, or username) a person known to belong
    to another county (``store``, or Moodle's tool cohorts: see moodle_sync/scope.py) is refused with the one
    text that shows nothing of them; they are neither changed, moved nor enrolled.

    Raises:
        ScopeError: the county, or a row's county, is outside the caller's scope or this import.
        RosterError: invalid rows (unless ``skip_invalid``), missing cohorts, or a mass removal
            without ``allow_mass_removal``.
    """
    if county not in COUNTIES:
        raise RosterError(f"unknown county {county!r}", hint="use a letter code such as W or AB")
    scope.require(county)
    others = [r for r in roster.rows if r.county and r.county != county]
    if others:
        rows = ", ".join(f"row {r.row} ({r.county})" for r in others[:10])
        raise ScopeError(f"the roster names other counties than {COUNTIES[county].name} ({county}): {rows}; "
                         f"nothing was changed", hint="split the file per county, or fix the county column")
    if roster.problems and not skip_invalid:
        raise RosterError(f"{roster.path}: {len(roster.problems)} problem(s); nothing was written",
                          problems=roster.problems,
                          hint="fix the rows, or pass --skip-invalid to import the valid rows only")
    groups = tuple(sorted({g for r in roster.rows for g in r.target_groups}))
    plan = RosterPlan(county=county, mode=mode, groups=groups, rows=list(roster.rows),
                      skipped_rows=roster.invalid_rows if skip_invalid else [], scoped=scope.county is not None,
                      skipped=list(roster.problems) if skip_invalid else [])

    wanted_cohorts = {cohort_idnumber(g, county) for g in groups}
    found = {c.idnumber: c.id for c in api.search_cohorts(COHORT_PREFIX) if c.idnumber in wanted_cohorts}
    missing = sorted(wanted_cohorts - set(found))
    if missing:
        raise RosterError(f"cohorts missing in Moodle: {', '.join(missing)}",
                          hint="run `moodle-sync apply` first: it creates the cohorts of every target group")
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
            plan.update.append(UserChange(user.id, row, changes))
    plan.blocked = _creation_refusals(api, plan.create, known=list(users.values()), named=named, workers=workers)
    if scope.county is not None:
        _refuse_outside(api, store, plan, named, scope.county)
    blocked_rows = {r.row for r, _why in plan.blocked + plan.refused}
    plan.adopted = [(r, uid) for r, uid in plan.adopted if r.row not in blocked_rows]
    plan.create = [r for r in plan.create if r.row not in blocked_rows]

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
            for uid in sorted(members - desired[idn] - plan.untouched):
                (plan.remove if placed_by_roster(known_people.get(uid), idn) else plan.kept).append((idn, uid))
    plan.leaving = {uid: p.email for _idn, uid in plan.remove if (p := known_people.get(uid)) and p.email}
    if plan.current_members and len(plan.remove) > MASS_REMOVAL_SHARE * plan.current_members \
            and not allow_mass_removal:
        share = (f"this import would take {len(plan.remove)} of {plan.current_members} members "
                 f"({len(plan.remove) / plan.current_members:.0%}) out of {COUNTIES[county].name}'s cohorts")
        if dry_run:  # a dry run shows who would leave; the real import stops here
            plan.mass_removal = (f"{share}: the import itself will refuse that unless you pass --allow-mass-removal "
                                 f"(check that the file is the county's complete list for its target groups)")
            return plan
        raise RosterError(
            f"{share}; nothing was written", hint="check that the file is the county's complete list for its target "
                                                 "groups (--dry-run lists who would leave); if it is, pass "
                                                 "--allow-mass-removal (their enrolments are suspended, not removed)")
    return plan


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


def _email_changes(api: MoodleApi, plan: RosterPlan, users: dict[int, User],
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


def _refuse_outside(api: MoodleApi, store: StateStore | None, plan: RosterPlan, named: dict[int, list[User]],
                    county: str) -> None:
    """Take a hub's rows that name anyone known to belong to another county out of every other part of the
    plan, into ``plan.refused`` with one text whatever the cause.

    The refusals that would otherwise tell the hub that an account it did not match exists get that text
    too: a new person whose e-mail an account has in other capitals, and an e-mail change to an address
    another account has. Only its own accounts' reasons (an SSO account's e-mail) keep their own text.
    """
    counties = known_counties(api, store, {u.id for found in named.values() for u in found})
    outside = {row for row, found in named.items() if any(counties.get(u.id, set()) - {county} for u in found)}
    outside |= {r.row for r, _why in plan.blocked if named.get(r.row)}
    outside |= {r.row for r, _why in plan.email_held if any(u.id != plan.matched[r.row] for u in named[r.row])}
    if not outside:
        return
    why = outside_text(county)
    plan.refused = [(r, why) for r in plan.rows if r.row in outside]
    plan.create = [r for r in plan.create if r.row not in outside]
    plan.blocked = [(r, w) for r, w in plan.blocked if r.row not in outside]
    plan.update = [u for u in plan.update if u.row.row not in outside]
    plan.email_held = [(r, w) for r, w in plan.email_held if r.row not in outside]
    for row in outside:
        plan.matched.pop(row, None)
        plan.moodle_emails.pop(row, None)
        plan.untouched |= {u.id for u in named[row]}


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
            out.append((r, f"its Moodle username would be {username!r}, the same as row {other.row}'s "
                           f"({other.email}): usernames keep only a-z, 0-9 and _.@-; check both addresses"))
    taken = _accounts_by_email_any_case(api, [r.email for r in rows], known, workers)
    for r in rows:
        if r.email in taken:
            if named is not None:
                named.setdefault(r.row, []).extend(taken[r.email])
            who = ", ".join(f"user {u.id} ({u.email}, username {u.username!r})" for u in taken[r.email])
            out.append((r, f"an account with this e-mail exists with other capitals or another username: {who}; "
                           f"Moodle refuses a second one. Give the row its employee id (the account's ID "
                           f"number), or fix the account in Moodle"))
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


def _user_changes(user: User, row: RosterRow) -> dict[str, tuple[str, str]]:
    """Names and organisation follow the roster, but a value is never blanked."""
    wanted = {"firstname": row.firstname, "lastname": row.lastname, "institution": row.organisation,
              "department": row.unit, "idnumber": row.employee_id or ""}
    return {k: (getattr(user, k), v) for k, v in wanted.items() if v and getattr(user, k) != v}


@dataclass
class RosterOutcome:
    created: int = 0
    updated: int = 0
    added: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)
    #: things people should know that are not failures (e.g. password e-mails of accounts that were not kept)
    notes: list[str] = field(default_factory=list)
    #: everyone the import touched (the rows' people and those who left)
    user_ids: set[int] = field(default_factory=set)
    #: people this import created: they cannot have any enrolment yet
    new_user_ids: set[int] = field(default_factory=set)
    #: milliseconds per new account of the first create call (sent alone, so its time is Moodle's own)
    create_ms: float | None = None

    def take(self, other: RosterOutcome) -> None:
        """Add what one batch (``other``) did."""
        self.created += other.created
        self.updated += other.updated
        self.added += other.added
        self.removed += other.removed
        self.failures += other.failures
        self.notes += other.notes

    def to_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "added": self.added, "removed": self.removed,
                "failures": self.failures, "notes": self.notes}


Report = Callable[[str], None]


def check_auth(auth: str) -> None:
    """Refuse an ``auth`` setting that create_users would refuse for every new person.

    Raises:
        ConfigError: not a plugin name (PARAM_AUTH would clean it), or one of :data:`REFUSED_AUTHS`.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*[a-z0-9]", auth):
        raise ConfigError(f"auth {auth!r} is not the name of a Moodle auth plugin", key="auth",
                          hint="use the plugin's short name in lower case, e.g. manual, nologin, shibboleth")
    if auth in REFUSED_AUTHS:
        raise ConfigError(f"auth {auth!r} cannot be given to new accounts: {REFUSED_AUTHS[auth]}", key="auth",
                          hint="use manual (Moodle e-mails a password) or the site's single sign-on plugin")


def apply_roster(api: MoodleApi, store: StateStore, plan: RosterPlan, *, auth: str = "manual",
                 report: Report | None = None, workers: int = 1, clock: PhaseClock | None = None) -> RosterOutcome:
    """Write a roster plan: users first, then members, each step in batches sent ``workers`` at a time.

    Batches of one step never touch the same person: a roster's rows have distinct e-mails and usernames (two
    rows that would share one are blocked by the plan), so Moodle's uniqueness checks in PHP cannot race
    between them. The first create batch goes alone and is timed (``RosterOutcome.create_ms``): on a site
    without an index on lower(email) each new account costs a scan of the user table (see email_cost.py).

    New accounts get ``auth``: manual, email or none have Moodle make a password and e-mail it to the person
    (createpassword); nologin accounts get a random password nobody is told; any other plugin (cas, ldap,
    shibboleth, oauth2, saml2 …) is single sign-on and gets no password. mnet, webservice and lti are refused.

    The people created are recorded in the store even when a later step fails or stops the import.

    Raises:
        ConfigError: ``auth`` is refused (nothing was written).
        AuthError, PermissionDenied, MoodleUnavailable: the import stopped; what was done is recorded.
    """
    check_auth(auth)
    say = report or (lambda _m: None)
    out = RosterOutcome()
    ids: dict[int, int] = dict(plan.matched)
    out.failures += [f"row {r.row} ({r.email}): not created: {why}" for r, why in plan.blocked]
    out.failures += [f"row {r.row} ({r.email}): {why}" for r, why in plan.refused]
    # the e-mail the store records: never one Moodle does not have (a changed one only once Moodle shows it)
    recorded = {r.row: plan.moodle_emails.get(r.row, r.email) for r in plan.rows}
    clock = clock or PhaseClock(None)
    try:
        with clock.phase("create users", len(plan.create)):
            _create_all(api, plan.create, auth, out, say, ids, workers)
        with clock.phase("update users", len(plan.update)):
            _update_all(api, plan.update, out, workers)
            recorded.update(_emails_now(api, plan))
        with clock.phase("cohort members", len(plan.add) + len(plan.remove)):
            _change_members(api, plan, ids, out, workers)
    finally:
        if plan.scoped:
            out.failures = [_as_outside(f, plan.county) for f in out.failures]
        out.user_ids = set(ids.values()) | {uid for _idn, uid in plan.remove}
        out.new_user_ids = set(ids.values()) - set(plan.matched.values())
        store.upsert_persons([
            Person(userid=ids[r.row], county=plan.county, target_groups=r.target_groups,
                   organisation=r.organisation, unit=r.unit,
                   employment_start=r.employment_start.isoformat() if r.employment_start else None,
                   employee_id=r.employee_id, email=recorded[r.row])
            for r in plan.rows if r.row in ids])
    return out


def _emails_now(api: MoodleApi, plan: RosterPlan) -> dict[int, str]:
    """Row → the e-mail Moodle now has, for the rows whose e-mail the plan changes (read back: a warning or a
    lost answer leaves the old one)."""
    changed = {c.row.row: c.userid for c in plan.update if "email" in c.changes}
    if not changed:
        return {}
    try:
        now = {u.id: u.email for u in api.users_by_field("id", [str(i) for i in changed.values()])}
    except FATAL:
        raise
    except MoodleError:
        return {}  # the store keeps Moodle's e-mail from before; the next import looks again
    return {row: now[uid] for row, uid in changed.items() if uid in now}


#: Moodle's own refusals that tell an address or username exists (create_users: "… already exists",
#: update_users: the warning useremailduplicate); the checks before sending find them when the service has
#: core_user_get_users, and a hub sees them as its one refusal text
_EXISTS = re.compile(r"^(row \d+ \([^)]*\)).*(already exists|useremailduplicate)", re.S)


def _as_outside(failure: str, county: str) -> str:
    m = _EXISTS.match(failure)
    return f"{m.group(1)}: {outside_text(county)}" if m else failure


def _said(e: MoodleError) -> str:
    """Moodle's answer without the batch hint (these messages already name the row)."""
    return str(e).split("\n  hint:")[0]


def _new_user(row: RosterRow, auth: str) -> NewUser:
    if auth in MAILED_PASSWORD_AUTHS:
        password: dict[str, Any] = {"createpassword": 1}
    elif auth in NO_LOGIN_AUTHS:
        password = {"password": _unknown_password()}
    else:
        password = {}
    return NewUser(username=username_for(row.email), auth=auth, firstname=row.firstname, lastname=row.lastname,
                   email=row.email, idnumber=row.employee_id, institution=row.organisation or None,
                   department=row.unit or None, **password)


def _unknown_password() -> str:
    """32 random characters cycling lower, upper, digit, symbol: passes any usual password policy."""
    pools = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "#%*+-=?@_")
    return "".join(secrets.choice(pools[i % len(pools)]) for i in range(32))


def _create_users(api: MoodleApi, rows: list[RosterRow], auth: str, out: RosterOutcome, say: Report,
                  ids: dict[int, int]) -> None:
    """Create users into ``ids`` (row → user id) as they are made, so an import stopped later loses none.

    Finds the bad row of a rejected batch (Moodle only says "invalidparameter") and re-reads a lost one.
    With e-mailed passwords a rejected batch is retried one person per call, not bisected: see
    :func:`_create_one_by_one`.
    """
    def sent(batch: Sequence[RosterRow], created: list[CreatedUser]) -> None:
        out.created += len(created)
        ids.update((r.row, c.id) for r, c in zip(batch, created, strict=True))

    def unknown(batch: Sequence[RosterRow], _e: MoodleError) -> None:
        # Moodle may have made them, or still be making them: re-read (never re-send) like a lost course create
        names = {r.row: username_for(r.email) for r in batch}
        found = settle(len(batch), lambda: {u.username: u.id for u in api.users_by_field(
            "username", list(names.values()))}, report=say, what="users")
        done = {row: found[name] for row, name in names.items() if name in found}
        ids.update(done)
        out.created += len(done)
        out.failures += [f"row {r.row} ({r.email}): no answer from Moodle and the account did not show within "
                         f"{LOST_ANSWER_WAIT:.0f} s; not sent again (Moodle may still be creating it): run the "
                         f"import again in a few minutes" for r in batch if r.row not in done]

    def refused(batch: Sequence[RosterRow], e: MoodleError) -> None:
        if len(batch) == 1:
            out.failures.append(f"row {batch[0].row} ({batch[0].email}): Moodle refused the user: {_said(e)}")
        else:  # e-mailed passwords: one person per call (see _create_one_by_one)
            _create_one_by_one(api, list(batch), auth, out, say, ids)

    # without e-mails, halves can be re-sent freely
    send_bisecting(rows, lambda b: api.create_users([_new_user(r, auth) for r in b]), on_sent=sent,
                   on_unknown=unknown, on_refused=refused, catch=(MoodleApiError,),
                   split=lambda b, _e: len(b) > 1 and auth not in MAILED_PASSWORD_AUTHS)


#: the first create call is timed only when it holds at least this many people (fewer say little)
TIMED_CREATE_MIN = 20
#: the clock the first create call is timed with
CLOCK = time.perf_counter


def _create_all(api: MoodleApi, rows: list[RosterRow], auth: str, out: RosterOutcome, say: Report,
                ids: dict[int, int], workers: int) -> None:
    """Create in calls of :data:`USERS_PER_CREATE`: the first alone (timed), the others ``workers`` at a time."""
    batches = [rows[i:i + USERS_PER_CREATE] for i in range(0, len(rows), USERS_PER_CREATE)]

    def merge(_batch: list[RosterRow], state: tuple[RosterOutcome, dict[int, int]]) -> None:
        out.take(state[0])
        ids.update(state[1])
        say(f"  users created: {out.created}/{len(rows)}")

    def new() -> tuple[RosterOutcome, dict[int, int]]:
        return RosterOutcome(), {}

    def work(batch: list[RosterRow], state: tuple[RosterOutcome, dict[int, int]]) -> None:
        _create_users(api, batch, auth, state[0], say, state[1])

    if not batches:
        return
    first = new()
    start = CLOCK()
    try:
        work(batches[0], first)
    finally:
        merge(batches[0], first)
    if len(batches[0]) >= TIMED_CREATE_MIN and first[0].created == len(batches[0]):
        out.create_ms = (CLOCK() - start) * 1000 / len(batches[0])
    run_parallel(batches[1:], work, new=new, merge=merge, workers=workers)


def _update_all(api: MoodleApi, changes: list[UserChange], out: RosterOutcome, workers: int) -> None:
    """Update in calls of :data:`USERS_PER_CREATE`, ``workers`` at a time (each person in one call only)."""
    batches = [changes[i:i + USERS_PER_CREATE] for i in range(0, len(changes), USERS_PER_CREATE)]
    run_parallel(batches, lambda batch, state: _update_users(api, batch, state), new=RosterOutcome,
                 merge=lambda _batch, state: out.take(state), workers=workers)


def _create_one_by_one(api: MoodleApi, rows: list[RosterRow], auth: str, out: RosterOutcome, say: Report,
                       ids: dict[int, int]) -> None:
    """Retry a refused batch one person per call, and say who may hold a password for a discarded account.

    create_users e-mails each person their password as it creates them (setnew_password_and_mail), inside
    a transaction that a later person's refusal rolls back, but an e-mail cannot be rolled back. Everyone
    before the refused person got one. Bisecting would re-send them in halves, up to one e-mail per halving;
    one person per call gives each at most one e-mail for an account that was not kept.
    """
    refused: RosterRow | None = None
    refusal = -1  # its entry in out.failures
    for r in rows:
        failures = len(out.failures)
        _create_users(api, [r], auth, out, say, ids)
        if refused is None and r.row not in ids:
            refused, refusal = r, failures
    # Moodle works through a call in order and stops at the first person it refuses
    mailed = rows if refused is None else rows[:rows.index(refused)]
    if mailed:
        at = f"at row {refused.row} ({refused.email})" if refused else "(each person was then accepted alone)"
        shown = ", ".join(f"{r.row} ({r.email})" for r in mailed[:10]) + (" …" if len(mailed) > 10 else "")
        note = (f"Moodle refused a call creating {len(rows)} people {at} and undid the accounts it had made, but "
                f"not the password e-mails it had already sent (an e-mail cannot be undone): {len(mailed)} "
                f"people may have received a password for an account that was not kept (rows {shown}). Each "
                f"was then created on their own and sent a new e-mail: the latest one holds the password that "
                f"works")
        out.notes.append(note)
        say(f"  note: {note}")
        if refused is not None and refusal < len(out.failures):
            out.failures[refusal] += (f" (the {len(mailed)} people before it in the same call may have been "
                                      f"e-mailed a password for an account that was not kept; see the notes)")


def _update_users(api: MoodleApi, changes: list[UserChange], out: RosterOutcome) -> None:
    """Update users; split a refused call in halves to find the person whose value Moodle refuses.

    update_users checks every value of the call (validate_parameters) before its per-user try/catch, so one
    value a PARAM_TEXT field would clean refuses all of them; nothing has been written then, so halves are
    re-sent freely. A failure inside the per-user part comes back as a warning for that user.
    """
    def sent(batch: Sequence[UserChange], warnings: list[ItemWarning]) -> None:
        by_id = {c.userid: c for c in batch}
        bad = {w.itemid for w in warnings}
        for w in warnings:
            change = by_id.get(w.itemid)
            where = f"row {change.row.row} ({change.row.email}), user {w.itemid}" if change else f"user {w.itemid}"
            out.failures.append(f"{where}: not updated: {w.warningcode}: {w.message}")
        out.updated += sum(1 for c in batch if c.userid not in bad)

    def failed(batch: Sequence[UserChange], e: MoodleError) -> None:
        if len(batch) == 1 and isinstance(e, MoodleApiError):
            c = batch[0]
            out.failures.append(f"row {c.row.row} ({c.row.email}): Moodle refused the update of user {c.userid} "
                                f"({', '.join(c.changes)}): {_said(e)}")
        else:
            out.failures.append(f"updating {len(batch)} users: {_said(e)}; the next import checks them again")

    send_bisecting(changes, lambda b: api.update_users(
        [UserUpdate(id=c.userid, **{k: new for k, (_old, new) in c.changes.items()}) for c in b]),
        on_sent=sent, on_refused=failed, on_unknown=failed)


def _change_members(api: MoodleApi, plan: RosterPlan, ids: dict[int, int], out: RosterOutcome,
                    workers: int = 1) -> None:
    """Add and remove cohort members in chunks, ``workers`` at a time (no pair is in two chunks); a refused
    chunk is a failure, the other chunks still go."""
    adds: list[tuple[int, int]] = []
    for idn, who in plan.add:
        member = ids.get(who.row) if isinstance(who, RosterRow) else who
        if member is not None:
            adds.append((plan.cohort_ids[idn], member))
    removes = [(plan.cohort_ids[idn], uid) for idn, uid in plan.remove]
    jobs = [("add", adds[i:i + MEMBERS_PER_CALL]) for i in range(0, len(adds), MEMBERS_PER_CALL)] + \
        [("remove", removes[i:i + MEMBERS_PER_CALL]) for i in range(0, len(removes), MEMBERS_PER_CALL)]

    def never(*_: object) -> bool:
        return False  # a refused chunk is a failure; the next import sends it again

    def work(job: tuple[str, list[tuple[int, int]]], state: RosterOutcome) -> None:
        kind, chunk = job

        def added(chunk: Sequence[tuple[int, int]], warnings: list[ItemWarning]) -> None:
            # every warning is a member not added; code 3 ("record already exists") is someone already there
            state.added += len(chunk) - len(warnings)
            state.failures += [f"cohort member: {w.message}" for w in warnings if w.warningcode != "3"]

        def removed(chunk: Sequence[tuple[int, int]], _answer: None) -> None:
            state.removed += len(chunk)

        if kind == "add":
            # a lost answer: adding a member twice only warns (code 3), safe to leave to the next import
            send_bisecting(chunk, api.add_cohort_members, on_sent=added,
                           on_unknown=lambda chunk, _e: added(chunk, []), split=never, catch=(MoodleApiError,),
                           on_refused=lambda chunk, e: state.failures.append(
                               f"adding {len(chunk)} cohort members: Moodle refused the call: {_said(e)}; none of "
                               f"them was added, the next import adds them"))
        else:
            send_bisecting(chunk, api.delete_cohort_members, on_sent=removed, split=never, catch=(MoodleApiError,),
                           on_unknown=lambda chunk, _e: state.failures.append(
                               f"{len(chunk)} removals: answer lost; the next import re-checks them"),
                           on_refused=lambda chunk, e: state.failures.append(
                               f"removing {len(chunk)} cohort members: Moodle refused the call: {_said(e)}; none "
                               f"of them was removed, the next import removes them"))

    run_parallel(jobs, work, new=RosterOutcome, merge=lambda _job, state: out.take(state), workers=workers)


SAMPLE = 5
BLOCKED_SHOWN = 20


def render_roster_plan(plan: RosterPlan, followups: dict[str, dict[str, int]] | None = None) -> str:
    """The import plan for people: counts, a sample of names, and the enrolments that follow."""
    c = plan.counts()
    county = COUNTIES[plan.county]
    lines = [f"Roster for {county.name} ({plan.county}), target groups: {', '.join(plan.groups) or '-'}",
             f"  {nw(c['rows'], 'person', 'people')} in the file"
             + (f", {nw(c['skipped_invalid'], 'invalid row')} skipped" if c["skipped_invalid"] else "")]
    lines += skipped_lines(plan.skipped)
    if plan.mass_removal:
        lines.append(f"! {plan.mass_removal}")
    if plan.create:
        names = ", ".join(f"{r.firstname} {r.lastname}" for r in plan.create[:SAMPLE])
        lines.append(f"+ create {nw(len(plan.create), 'user')}: {names}" + (" …" if len(plan.create) > SAMPLE else ""))
    if plan.adopted:
        names = ", ".join(f"{r.firstname} {r.lastname} (user {uid})" for r, uid in plan.adopted[:SAMPLE])
        lines.append(f"= adopt {nw(len(plan.adopted), 'existing account')} no roster named before (no new account is "
                     f"made): {names}" + (" …" if len(plan.adopted) > SAMPLE else ""))
    if plan.update:
        names = ", ".join(f"{u.row.firstname} {u.row.lastname} ({', '.join(u.changes)})" for u in plan.update[:SAMPLE])
        lines.append(f"~ update {nw(len(plan.update), 'user')}: {names}" + (" …" if len(plan.update) > SAMPLE else ""))
        moved = [(u.row.row, *u.changes["email"]) for u in plan.update if "email" in u.changes]
        lines += [f"    row {row}: e-post: {old} → {new}" for row, old, new in moved[:BLOCKED_SHOWN]]
        if len(moved) > BLOCKED_SHOWN:
            lines.append(f"    … and {len(moved) - BLOCKED_SHOWN} more e-mail changes (--json lists all)")
    if plan.add:
        lines.append(f"+ add {nw(len(plan.add), 'cohort membership')}")
    if plan.remove:
        lines.append(f"- remove {nw(len(plan.remove), 'cohort membership')} (their enrolments are suspended, never "
                     f"removed)")
        lines += leaving_lines(plan.remove, plan.leaving)
    if plan.kept:
        shown = ", ".join(f"user {uid} in {idn}" for idn, uid in plan.kept[:SAMPLE])
        lines.append(f"= keep {nw(len(plan.kept), 'cohort membership')} no roster made (added in Moodle by someone "
                     f"else): "
                     f"{shown}" + (" …" if len(plan.kept) > SAMPLE else "") + "; moodle-sync never takes them out, "
                     "do it in Moodle if they should leave")
    if plan.blocked:
        who = "1 person" if len(plan.blocked) == 1 else f"{len(plan.blocked)} people"
        lines.append(f"! {who} cannot be created (nothing is sent for them):")
        lines += [f"    row {r.row} ({r.email}): {why}" for r, why in plan.blocked[:BLOCKED_SHOWN]]
        if len(plan.blocked) > BLOCKED_SHOWN:
            lines.append(f"    … and {len(plan.blocked) - BLOCKED_SHOWN} more (--json lists all)")
    if plan.refused:
        lines.append(f"! {nw(len(plan.refused), 'row')} cannot be used by this hub (nothing is sent for them):")
        lines += [f"    row {r.row} ({r.email}): {why}" for r, why in plan.refused[:BLOCKED_SHOWN]]
        if len(plan.refused) > BLOCKED_SHOWN:
            lines.append(f"    … and {len(plan.refused) - BLOCKED_SHOWN} more (--json lists all)")
    if plan.email_held:
        lines.append(f"! {nw(len(plan.email_held), 'e-mail change')} not sent:")
        lines += [f"    row {r.row}: {why}" for r, why in plan.email_held[:BLOCKED_SHOWN]]
        if len(plan.email_held) > BLOCKED_SHOWN:
            lines.append(f"    … and {len(plan.email_held) - BLOCKED_SHOWN} more (--json lists all)")
    if not plan.has_changes:
        lines.append("No changes: Moodle already matches this roster.")
    for course, n in sorted((followups or {}).items()):
        parts = ", ".join(f"{k} {v}" for k, v in n.items() if v)
        if parts:
            lines.append(f"  then enrolments in {course}: {parts}")
    return "\n".join(lines)
