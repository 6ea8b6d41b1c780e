"""The cohorts the specs call for: one per target group × county, in the system context.

A cohort's idnumber ``tg:<group>:<county>`` marks it as the tool's own; its name is what people
read in Moodle, e.g. "Socialsekreterare och biståndsbedömare – Dalarnas län".
"""

from __future__ import annotations

from dataclasses import dataclass

from moodle_sync.counties import COUNTIES
from moodle_sync.identity import cohort_idnumber
from moodle_sync.specs.spec_set import SpecSet
from moodle_sync.store.db import Person


@dataclass(frozen=True)
class CohortSpec:
    idnumber: str
    group: str
    county: str
    name: str
    description: str


def placed_by_roster(person: Person | None, cohort: str) -> bool:
    """Whether a roster put the person in the cohort: the last roster naming them gave its county and group.
    Other members were added in Moodle by someone else; roster imports never take them out."""
    return person is not None and cohort in {cohort_idnumber(g, person.county) for g in person.target_groups}


def desired_cohorts(specs: SpecSet) -> dict[str, CohortSpec]:
    out: dict[str, CohortSpec] = {}
    for group in specs.target_groups.values():
        for county in COUNTIES.values():
            idn = cohort_idnumber(group.key, county.code)
            out[idn] = CohortSpec(idnumber=idn, group=group.key, county=county.code,
                                  name=f"{group.name} – {county.name}", description=group.description)
    return out
