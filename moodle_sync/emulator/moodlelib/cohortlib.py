"""Cohorts and their members (cohort/lib.php). Cohorts live in the system or a category context."""

from __future__ import annotations

from moodle_sync.emulator.model.records import Cohort, CohortMember
from moodle_sync.emulator.model.state import State


def add_cohort(state: State, now: int, *, contextid: int, name: str, idnumber: str | None, description: str = "",
               descriptionformat: int = 1, visible: int = 1, theme: str = "", component: str = "") -> Cohort:
    return state.cohorts.insert(Cohort(state.cohorts.new_id(), contextid, name, idnumber, description,
                                       descriptionformat, visible, component, now, now, theme))


def add_member(state: State, now: int, cohortid: int, userid: int) -> None:
    if state.cohort_members.count_by("cohort_user", (cohortid, userid)):
        return
    state.cohort_members.insert(CohortMember(state.cohort_members.new_id(), cohortid, userid, now))


def remove_member(state: State, cohortid: int, userid: int) -> None:
    for member in state.cohort_members.by("cohort_user", (cohortid, userid)):
        state.cohort_members.delete(member)


def delete_cohort(state: State, cohort: Cohort) -> None:
    for member in state.cohort_members.by("cohortid", cohort.id):
        state.cohort_members.delete(member)
    state.cohorts.delete(cohort)


def member_ids(state: State, cohortid: int) -> list[int]:
    """Member ids ordered by lastname, firstname (core_cohort_get_cohort_members)."""
    users = [state.users.rows[m.userid] for m in state.cohort_members.by("cohortid", cohortid)]
    return [u.id for u in sorted(users, key=lambda u: (u.lastname, u.firstname, u.id))]
