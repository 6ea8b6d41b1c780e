"""Who may read and change what: an LMS admin everything, a regional hub its own county – its rows, its
options, and its people.

A person is *known to belong to* a county when the state store has them from that county's roster, or when
they are a member of one of the tool's cohorts ``tg:<group>:<county>`` in Moodle (a hub working on another
machine has another store; the cohorts are the same for everyone). A hub may read, change, move, enrol or
place only an account that belongs to its own county and to no other (:func:`hub_may_use`): made by the tool
from that county's roster, or placed in that county's cohorts by an administrator. Every other existing
account (another county's person, an account in no county such as a teacher's or the site admin's, an
account two counties claim) is held for an administrator: whatever the cause, the hub gets the one text of
:func:`outside_text`, which names nothing about the account, so that a hub's answers never tell where an
e-mail or employee id is in use, nor anything about that person. An administrator (no hub) adopts such
accounts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from moodle_sync.config import Hub
from moodle_sync.counties import COUNTIES, resolve_county
from moodle_sync.errors import ScopeError
from moodle_sync.i18n import _
from moodle_sync.identity import COHORT_PREFIX, parse_cohort_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.store.db import StateStore


@dataclass(frozen=True)
class Scope:
    """Who acts, on which counties: made once at the edge (a command's ``--hub``/``--county``, the portal's login
    and the county in its address) and handed down as the one checked value. The library asks it
    (:meth:`covers`, :meth:`require`, :meth:`may_use`); nothing below the jobs compares county codes itself
    (``tests/meta/test_jobs.py``).

    ``county`` is the one county worked on (a hub's own, or the one an administrator chose; ``None``: every
    county). ``admin`` says whose limits apply: an administrator may use any account and adopt those in no
    county, a hub only its own county's (:func:`hub_may_use`).
    """

    name: str = "admin"
    county: str | None = None
    admin: bool = True

    @classmethod
    def for_admin(cls, name: str = "admin") -> Scope:
        """An administrator: every county."""
        return cls(name=name)

    @classmethod
    def for_hub(cls, name: str, hub: Hub) -> Scope:
        """Hub ``name`` (``[hubs.NAME]``, or a portal account's hub): its own county, its own people."""
        if hub.county not in COUNTIES:
            raise ScopeError(_("hub {name} is configured for unknown county {county}").format(
                name=repr(name), county=repr(hub.county)))
        return cls(name=name, county=hub.county, admin=False)

    @classmethod
    def for_county(cls, county: str, *, name: str = "admin") -> Scope:
        """An administrator working on one county (``--county``; an admin on a county's portal pages).

        Raises:
            ScopeError: no such county (the forgiving lookup of counties.resolve_county: W, 20, Dalarna …).
        """
        try:
            code = resolve_county(county).code
        except ValueError as e:
            raise ScopeError(str(e), hint=_("use a letter code such as W or AB")) from e
        return cls(name=name, county=code)

    @property
    def is_hub(self) -> bool:
        """Whether a hub's limits apply (its own county's accounts only; rows naming others are held)."""
        return not self.admin

    def covers(self, county: str | None) -> bool:
        """Whether ``county`` is within this scope (every county is an administrator's without one chosen)."""
        return self.county is None or county == self.county

    def require(self, county: str) -> None:
        """Raise ScopeError unless this identity may change or read ``county``."""
        if not self.covers(county):
            raise ScopeError(_("{name} may only work with {own} ({code}), not {other} ({other_code}); nothing "
                               "was changed").format(name=self.name, own=COUNTIES[str(self.county)].name,
                                                     code=self.county,
                                                     other=COUNTIES[county].name if county in COUNTIES else county,
                                                     other_code=county))

    def within(self, county: str) -> Scope:
        """This scope narrowed to ``county`` (a hub's is its own already).

        Raises:
            ScopeError: ``county`` is outside this scope.
        """
        self.require(county)
        return Scope(name=self.name, county=county, admin=self.admin)

    def narrowed(self, county: str) -> Scope | None:
        """:meth:`within` for a county typed by someone (a portal address): ``None`` when it is no county's
        code or not this scope's."""
        code = county.upper()
        return self.within(code) if code in COUNTIES and self.covers(code) else None

    def one_county(self) -> str:
        """The one county this scope works on.

        Raises:
            ScopeError: an administrator's scope of every county (name the county: ``--county``).
        """
        if self.county is None:
            raise ScopeError("name the county with --county CODE (or act as a hub with --hub NAME)")
        return self.county

    def may_use(self, counties: set[str]) -> bool:
        """Whether this scope may use an existing account known to belong to ``counties`` (see
        :func:`hub_may_use`); an administrator may use any."""
        return self.admin or hub_may_use(str(self.county), counties)

    def outside_text(self) -> str:
        """The one text a hub gets for a person it may not use (:func:`outside_text`)."""
        return outside_text(str(self.county))

    def visible_counties(self) -> list[str]:
        return [self.county] if self.county else list(COUNTIES)


def hub_may_use(county: str, counties: set[str]) -> bool:
    """Whether a hub of ``county`` may use an existing account known to belong to ``counties``: only one of its
    own county's, and of no other (an account in no county is not the hub's: an administrator adopts it)."""
    return counties == {county}


def outside_text(county: str) -> str:
    """The one answer a hub of ``county`` gets for a row or person it may not use, whatever the reason (another
    county's person, an account in no county, a site admin, nobody at all): it names nothing about anyone."""
    return _("held for an administrator: this e-mail, employee id or username does not name a person of "
             "{county} that this hub may use; nothing is shown or sent for it. If the person works in {county}, "
             "an administrator can do it (without --hub), and the person is the county's from then on").format(
                 county=COUNTIES[county].name)


def known_counties(api: MoodleApi, store: StateStore | None, user_ids: Iterable[int]) -> dict[int, set[str]]:
    """The counties each of ``user_ids`` is known to belong to: the store's (a roster's) county and the
    county of every tool cohort they are a member of. People known to none are left out. Reads only.

    Calls: core_cohort_search_cohorts, core_cohort_get_cohort_members (every tool cohort: no core web
    service lists the cohorts of one user).
    """
    wanted = set(user_ids)
    out: dict[int, set[str]] = defaultdict(set)
    if not wanted:
        return {}
    if store is not None:
        for uid, person in store.persons().items():
            if uid in wanted:
                out[uid].add(person.county)
    cohorts = {c.id: parsed[1] for c in api.search_cohorts(COHORT_PREFIX)
               if (parsed := parse_cohort_idnumber(c.idnumber)) is not None}
    for cid, members in api.cohort_members(cohorts).items():
        for uid in members & wanted:
            out[uid].add(cohorts[cid])
    return dict(out)
