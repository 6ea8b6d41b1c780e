"""MoodleApi's calls about cohorts and their members: search, read, create, update, add and remove members.

A part of :class:`.functions.MoodleApi` (the one class that calls ``MoodleClient.call``), kept here by
the Moodle area it talks to; each method's docstring names the function it calls (``Calls: …``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from moodle_sync.moodle.answers import read_list
from moodle_sync.moodle.client import MoodleClient
from moodle_sync.moodle.models import Cohort, CohortMembers, CohortUpdate, Created, ItemWarning, NewCohort

__all__ = ["CohortCalls"]


class CohortCalls:
    """Cohorts and cohort members (core_cohort_*): a part of MoodleApi."""

    client: MoodleClient

    # --- cohorts --------------------------------------------------------------------------------

    def search_cohorts(self, query: str, *, per_page: int = 200, includes: str = "all") -> list[Cohort]:
        """Every cohort whose name, idnumber or description contains ``query`` (all contexts), paged;
        ``includes="self"`` gives only the site-wide ones (the system context's).

        Moodle passes ``limitfrom`` on to ``cohort_get_all_cohorts()`` as a PAGE number, not an offset
        (cohort/externallib.php), so pages are counted, not rows.

        Calls: core_cohort_search_cohorts.
        """
        out: list[Cohort] = []
        page = 0
        while True:
            answer = self.client.call("core_cohort_search_cohorts", {
                "query": query, "context": {"contextlevel": "system", "instanceid": 0}, "includes": includes,
                "limitfrom": page, "limitnum": per_page})
            found = read_list("core_cohort_search_cohorts", answer, Cohort)
            out.extend(found)
            if len(found) < per_page:
                return out
            page += 1

    def get_cohorts(self, ids: Iterable[int]) -> list[Cohort]:
        """Cohorts by id (an unknown id fails the whole call in Moodle).

        Calls: core_cohort_get_cohorts.
        """
        ids = sorted(set(ids))
        if not ids:
            return []
        answer = self.client.call("core_cohort_get_cohorts", {"cohortids": ids})
        return read_list("core_cohort_get_cohorts", answer, Cohort)

    def create_cohorts(self, items: Sequence[NewCohort]) -> list[Created]:
        """Create cohorts in ONE call: all-or-nothing in Moodle (a duplicate idnumber fails it all).

        Calls: core_cohort_create_cohorts.
        """
        answer = self.client.call("core_cohort_create_cohorts",
                                  {"cohorts": [i.to_params() for i in items]}, items=list(items))
        return read_list("core_cohort_create_cohorts", answer, Created)

    def update_cohorts(self, items: Sequence[CohortUpdate]) -> None:
        """Update cohorts in one call (all-or-nothing; Moodle answers null).

        Calls: core_cohort_update_cohorts.
        """
        self.client.call("core_cohort_update_cohorts", {"cohorts": [i.to_params() for i in items]},
                         items=list(items))

    def cohort_members(self, cohort_ids: Iterable[int]) -> dict[int, set[int]]:
        """Member user ids of each cohort (an unknown cohort id fails the whole call).

        Calls: core_cohort_get_cohort_members.
        """
        ids = sorted(set(cohort_ids))
        out: dict[int, set[int]] = {i: set() for i in ids}
        for start in range(0, len(ids), 100):
            answer = self.client.call("core_cohort_get_cohort_members", {"cohortids": ids[start:start + 100]})
            for members in read_list("core_cohort_get_cohort_members", answer, CohortMembers):
                out[members.cohortid] = set(members.userids)
        return out

    def add_cohort_members(self, pairs: Sequence[tuple[int, int]]) -> list[ItemWarning]:
        """Add (cohort id, user id) pairs; already-members come back as warning code 3, not errors.

        Calls: core_cohort_add_cohort_members.
        """
        members = [{"cohorttype": {"type": "id", "value": str(c)}, "usertype": {"type": "id", "value": str(u)}}
                   for c, u in pairs]
        answer = self.client.call("core_cohort_add_cohort_members", {"members": members}, items=list(pairs))
        return read_list("core_cohort_add_cohort_members", answer, ItemWarning)

    def delete_cohort_members(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Remove (cohort id, user id) pairs; removing a non-member is a silent no-op in Moodle.

        Calls: core_cohort_delete_cohort_members.
        """
        self.client.call("core_cohort_delete_cohort_members",
                         {"members": [{"cohortid": c, "userid": u} for c, u in pairs]}, items=list(pairs))
