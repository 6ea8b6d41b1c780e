"""One sync at a time: a file lock (fcntl) in the state store's directory, taken by `apply`, `pull` and
`roster import` on the command line and by the portal's scheduler and roster imports.

The lock is the kernel's (``flock``): it is released when its file is closed or its process dies, so a
killed run never leaves a stale lock behind. The lock file names who holds it, for the message the
second one gets.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from moodle_sync.acting import whoami
from moodle_sync.errors import SyncBusy
from moodle_sync.i18n import _
from moodle_sync.store.db import now_iso

LOCK_NAME = "sync.lock"
__all__ = ["SyncBusy", "SyncLock", "acquire", "held", "lock_path"]


def lock_path(state_path: Path | str) -> Path:
    """The lock file beside the state store (one lock per state directory)."""
    return Path(state_path).resolve().parent / LOCK_NAME


class SyncLock:
    """A held lock; ``release()`` (or leaving the ``with`` block) lets the next sync run."""

    def __init__(self, handle: IO[str], path: Path) -> None:
        self._handle: IO[str] | None = handle
        self.path = path

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.truncate(0)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> SyncLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def acquire(state_path: Path | str, what: str, *, wait: float = 0.0) -> SyncLock:
    """Take the sync lock for ``what`` ("apply", "pull", "roster import W" …), waiting up to ``wait`` seconds.

    Raises:
        SyncBusy: another process (or another thread of this one) holds it.
    """
    path = lock_path(state_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open while the lock is held
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip()
                handle.close()
                hint = _("wait until it has finished and run this again; `moodle-sync runs` shows it")
                raise SyncBusy(_("another sync is running ({holder}); nothing was done").format(
                    holder=holder or _("unknown")), holder=holder, hint=hint) from None
            time.sleep(0.2)
    handle.seek(0)
    handle.truncate(0)
    handle.write(f"{what} by {_whoami()}@{socket.gethostname()} pid {os.getpid()} since {now_iso()}\n")
    handle.flush()
    return SyncLock(handle, path)


@contextlib.contextmanager
def held(state_path: Path | str, what: str, *, wait: float = 0.0) -> Iterator[SyncLock]:
    lock = acquire(state_path, what, wait=wait)
    try:
        yield lock
    finally:
        lock.release()


def _whoami() -> str:
    return whoami()
