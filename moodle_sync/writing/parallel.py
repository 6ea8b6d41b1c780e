"""Send independent write batches side by side, within the configured number of workers.

Each job writes into its own result object, made before it starts, so the caller merges what every job did
(also the jobs that stopped half way) in one thread. When a job raises (an error that stops the run, such as
:class:`~moodle_sync.errors.MoodleUnavailable`), the jobs not yet started are not started, those already
running finish, and the first error is raised once every result has been handed to ``merge``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

J = TypeVar("J")
S = TypeVar("S")


def run_parallel(jobs: Sequence[J], work: Callable[[J, S], None], *, new: Callable[[], S],
                 merge: Callable[[J, S], None], workers: int) -> None:
    """Run ``work(job, state)`` for every job, at most ``workers`` at a time; ``merge`` each state in order
    of completion, in the calling thread.

    Args:
        jobs: independent batches (no job may need another's result).
        work: sends one job, recording what it did in ``state`` as it goes.
        new: makes the empty state of one job.
        merge: takes one job's state into the caller's result (called for every job that started).
        workers: the most jobs running at once (1: one after another, in order).

    Raises:
        the first error a job raised, after every started job has finished and been merged.
    """
    stop = threading.Event()
    first: list[BaseException] = []

    def run(job: J, state: S) -> None:
        if stop.is_set():
            return
        try:
            work(job, state)
        except BaseException:
            stop.set()
            raise

    if max(1, workers) == 1 or len(jobs) <= 1:
        for job in jobs:
            state = new()
            try:
                work(job, state)
            finally:
                merge(job, state)
        return
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        running: dict[Future[None], tuple[J, S]] = {}
        for job in jobs:
            state = new()
            running[pool.submit(run, job, state)] = (job, state)
        pending = set(running)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job, state = running[future]
                merge(job, state)
                error = future.exception()
                if error is not None and not first:
                    first.append(error)
    if first:
        raise first[0]
