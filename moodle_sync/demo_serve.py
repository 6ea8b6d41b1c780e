"""After ``moodle-sync demo --serve``: the demo's site stays up for trying commands by hand.

It prints the two ``export`` lines that point other commands at it, and on every Enter lets more of
its emulated learners complete their courses, so ``pull`` and ``report`` have something new to show.
"""

from __future__ import annotations

import random
import sys
import threading
from typing import TextIO

from moodle_sync import clock
from moodle_sync.console import Console
from moodle_sync.emulator import Emulator
from moodle_sync.identity import parse_course_idnumber
from moodle_sync.moodle.functions import MoodleApi

__all__ = ["complete_more", "serve_on"]

#: the share of the not-yet-completed learners that complete on each Enter
SHARE = 0.25


def complete_more(emulator: Emulator, api: MoodleApi, share: float, done: set[tuple[int, int]],
                  seed: int = 0) -> int:
    """Let ``share`` of the learners who have not completed yet finish every activity of their course.

    ``done`` holds ``(course id, user id)`` pairs already completed here; it is updated. Returns how
    many enrolments were completed.
    """
    now = clock.epoch()
    count = 0
    for course in api.courses_by_field("", ""):
        if parse_course_idnumber(course.idnumber) is None:
            continue  # not a managed course version (templates, the front page)
        modules = [m["id"] for m in emulator.course_modules(course.id) if m["completion"]]
        if not modules:
            continue  # nothing to complete: Moodle does not track completion there
        waiting = [u.id for u in api.enrolled_users(course.id, only_active=True) if (course.id, u.id) not in done]
        for uid in random.Random(course.id * 7919 + seed).sample(waiting, round(len(waiting) * share)):
            emulator.set_last_course_access(course.id, uid, now)
            for cm in modules:
                emulator.set_activity_completion(cm, uid, 1, now)
            done.add((course.id, uid))
            count += 1
    return count


def serve_on(emulator: Emulator, api: MoodleApi, url: str, token: str, console: Console,
             stdin: TextIO | None = None, out: TextIO | None = None,
             done: set[tuple[int, int]] | None = None) -> None:
    """Keep serving until interrupted (Ctrl-C, SIGTERM); each line on ``stdin`` completes more courses."""
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    console.say("\n== The demo's site stays up: point other commands at it with ==")
    print(f"export MOODLE_URL={url}\nexport MOODLE_TOKEN={token}", file=out, flush=True)
    console.say("then e.g. `moodle-sync plan course_specs/`, `moodle-sync pull`, `moodle-sync report`.\n"
                f"Press Enter to let another {SHARE:.0%} of the learners complete their courses; "
                f"Ctrl-C stops the site.")
    done = set() if done is None else done
    for rounds, _line in enumerate(stdin, 1):
        n = complete_more(emulator, api, SHARE, done, seed=rounds)
        console.say(f"{n} more {'enrolment' if n == 1 else 'enrolments'} completed; `moodle-sync pull` brings "
                    f"them into the state store, `moodle-sync report` shows them.")
    threading.Event().wait()  # stdin closed: serve until interrupted
