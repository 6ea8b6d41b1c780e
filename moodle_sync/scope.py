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

from moodle_sync.counties import COUNTIES
from moodle_sync.errors import ScopeError
from moodle_sync.identity import COHORT_PREFIX, parse_cohort_idnumber
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.store.db import StateStore


@dataclass(frozen=True)
class Scope:
    """Who acts: an LMS admin (``county=None``: every county) or a regional hub bound to one county."""

    name: str = "admin"
    county: str | None = None

    @classmethod
    def hub(cls, name: str, county: str) -> Scope:
        if county not in COUNTIES:
            raise ScopeError(f"hub {name!r} is configured for unknown county {county!r}")
        return cls(name=name, county=county)

    def require(self, county: str) -> None:
        """Raise ScopeError unless this identity may change or read ``county``."""
        if self.county is not None and county != self.county:
            raise ScopeError(f"{self.name} may only work with {COUNTIES[self.county].name} ({self.county}), "
                             f"not {COUNTIES[county].name if county in COUNTIES else county} ({county}); "
                             f"nothing was changed")

    def visible_counties(self) -> list[str]:
        return [self.county] if self.county else list(COUNTIES)


def hub_may_use(county: str, counties: set[str]) -> bool:
    """Whether a hub of ``county`` may use an existing account known to belong to ``counties``: only one of its
    own county's, and of no other (an account in no county is not the hub's: an administrator adopts it)."""
    return counties == {county}


def outside_text(county: str) -> str:
    """The one answer a hub of ``county`` gets for a row or person it may not use, whatever the reason (another
    county's person, an account in no county, a site admin, nobody at all): it names nothing about anyone."""
    return (f"held for an administrator: this e-mail, employee id or username does not name a person of "
            f"{COUNTIES[county].name} that this hub may use; nothing is shown or sent for it. If the person "
            f"works in {COUNTIES[county].name}, an administrator can do it (without --hub), and the person is "
            f"the county's from then on")


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
