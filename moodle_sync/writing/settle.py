"""Settle a write whose outcome is unknown by reading Moodle, never by sending it again.

A write that is not idempotent (a create, a template import, a message) may have run even when no
answer of Moodle's own came back: the answer was lost, or a reverse proxy answered 502/503/504 after
forwarding it. Moodle checks uniqueness in PHP before inserting (the columns have no unique index), so
re-sending while the first call may still be running can make duplicates. The caller reads what the
write should have made instead, with growing pauses, for up to :data:`LOST_ANSWER_WAIT` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

#: how long to keep re-reading for a write that may still be running in Moodle before giving up on it
#: for this run (what does not show is not sent again in that run; the next run re-reads first)
LOST_ANSWER_WAIT = 30.0

K = TypeVar("K")
V = TypeVar("V")


def settle(expected: int, read: Callable[[], dict[K, V]], *, wait: float | None = None,
           report: Callable[[str], None] | None = None, what: str = "") -> dict[K, V]:
    """Re-read until ``expected`` results show or the wait is over; return what showed.

    Args:
        expected: how many things the write should have made (e.g. the items of its batch).
        read: reads Moodle and returns what of the write it finds (key → e.g. the Moodle id).
        wait: seconds to keep re-reading (default :data:`LOST_ANSWER_WAIT`, read at call time).
        report: where to say that the tool is waiting.
        what: names the things, for ``report`` ("courses", "users" …).
    """
    say = report or (lambda _m: None)
    limit = LOST_ANSWER_WAIT if wait is None else wait
    deadline = time.monotonic() + limit
    pause = 1.0
    found = read()
    while len(found) < expected and time.monotonic() < deadline:
        say(f"  answer lost; Moodle does not show {expected - len(found)} of {expected} {what or 'yet'}"
            f"{' yet' if what else ''}: re-reading in {pause:.0f} s")
        time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
        found = read()
        pause *= 2
    return found
