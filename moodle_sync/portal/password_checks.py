"""Password hashing and checking off the event loop, a bounded number at a time.

An argon2id check holds 64 MiB and a core for about a fifth of a second, so the portal runs at most
``[portal] password_checks`` of them at once, in threads of its own (never the event loop, never
Starlette's shared thread pool). A request that cannot start its check within :data:`CHECK_WAIT` seconds
gets no check at all (None) and the page says to try again in a while: a burst of logins, from one
address or many, keeps the memory flat and waits at most that long instead of queueing without end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from moodle_sync.portal.auth import hash_password, verify_password

#: how long a request may wait for a free check before it is told to try again
CHECK_WAIT = 10.0

T = TypeVar("T")


class _TooLate:
    """A check whose request waited longer than the wait allows (it was not made)."""


_TOO_LATE = _TooLate()


class PasswordChecks:
    """At most ``workers`` password hashes or checks at a time; each waits at most ``wait`` seconds to start."""

    def __init__(self, workers: int, wait: float = CHECK_WAIT) -> None:
        self.workers = workers
        self.wait = wait
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password-check")

    async def verify(self, password_hash: str | None, password: str) -> bool | None:
        """Whether ``password`` matches (None: no check was free in time, nothing was checked)."""
        return await self._run(verify_password, password_hash, password)

    async def hash(self, password: str) -> str | None:
        """``password``'s argon2id hash (None: no check was free in time)."""
        return await self._run(hash_password, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, work: Callable[..., T], *args: str | None) -> T | None:
        # The deadline is checked when a thread takes the job: a job still queued after it is dropped at once,
        # so a request waits at most ``wait`` plus the checks already running, and only ``workers`` run at once.
        deadline = time.monotonic() + self.wait

        def job() -> T | _TooLate:
            return _TOO_LATE if time.monotonic() > deadline else work(*args)

        result = await asyncio.wrap_future(self._pool.submit(job))
        return None if isinstance(result, _TooLate) else result
