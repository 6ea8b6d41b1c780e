"""The state store's side of the bulk pull: a page marks whoever it shows as the store holds them only as seen, and
a person whose rows fall on two pages is merged as before."""

from __future__ import annotations

from pathlib import Path

from moodle_sync.store.db import StateStore
from moodle_sync.store.report_pull import Pass, ReportPullStore, Seen

URL = "https://moodle.test"
MARCH, FEB = 1773_000_000, 1770_000_000


def passes(pulls: ReportPullStore, stamp: str, pages: list[list[Seen]], *, before: bool) -> None:
    pulls.begin_pass(stamp)
    held = pulls.shown_before() if before else None
    for n, rows in enumerate(pages, 1):
        pulls.save_page(Pass(1, stamp, n, 1, 2), rows, held)
    pulls.close_roster(stamp, ["soc@1"])


def stored(pulls: ReportPullStore, stamp: str) -> list[tuple[object, ...]]:
    return [tuple(s) for s in pulls.shown(stamp)]


def test_a_person_split_over_two_pages_is_merged_alike_when_the_store_holds_them_unchanged(tmp_path: Path) -> None:
    """Cohort sync sorts before the manual method on a real site: the person's cohort row ends one page, the manual
    row (as the last pass merged it, so as the store holds it) starts the next; what the first page wrote must be
    merged with the second, not kept because the second looks unchanged."""
    cohort = Seen("soc@1", 7, MARCH, None, None, None, MARCH, True)  # added by cohort sync in March
    manual = Seen("soc@1", 7, MARCH, FEB, 0, "active", FEB, True)  # enrolled manually in February
    results = []
    for before in (False, True):
        store = StateStore(tmp_path / f"{before}.db", URL)
        pulls = ReportPullStore(store)
        passes(pulls, "2026-04-01T00:00:00+00:00", [[manual]], before=False)  # the last pass merged them so
        passes(pulls, "2026-04-02T00:00:00+00:00", [[cohort], [manual]], before=before)
        results.append(stored(pulls, "2026-04-02T00:00:00+00:00"))
        store.close()
    assert results[0] == results[1]
    course, user, completed, start, end, status, enrolled = results[1][0][:7]
    assert (start, end, status, enrolled) == (FEB, 0, "active", FEB)


def test_thousands_shown_as_the_store_holds_them_are_all_seen_and_none_is_gone(tmp_path: Path) -> None:
    """A routine page marks everyone it shows unchanged as seen, a list of rowids per statement: more people than one
    list holds are all seen by the pass, and the roster closes with nobody gone."""
    people = [Seen("soc@1", uid, MARCH if uid % 3 == 0 else None, FEB, 0, "active", FEB, True, since="2026-02-01")
              for uid in range(1, 2501)]
    store = StateStore(tmp_path / "state.db", URL)
    pulls = ReportPullStore(store)
    passes(pulls, "2026-04-01T00:00:00+00:00", [people[:1200], people[1200:]], before=False)
    passes(pulls, "2026-04-02T00:00:00+00:00", [people[:1200], people[1200:]], before=True)
    shown = pulls.shown("2026-04-02T00:00:00+00:00")
    gone = store._db.execute("SELECT COUNT(*) FROM course_people WHERE status='gone'").fetchone()[0]
    store.close()
    assert len(shown) == 2500 and gone == 0
    assert sorted((s.userid, s.completed, s.start) for s in shown) == [(p.userid, p.completed, p.start) for p in people]
