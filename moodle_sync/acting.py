"""Who a run, an import or an export is done for, as the state store records it: the person logged in to the
portal while they act (``anna@dalarna.se (portal)``), else the operating system's user of the command line.

The portal is one process acting for many people; without this, every run it makes would be recorded as the
service's own user (``root@vm``).
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator
from contextvars import ContextVar

_acting_for: ContextVar[str | None] = ContextVar("moodle_sync_acting_for", default=None)


@contextlib.contextmanager
def acting_for(person: str) -> Iterator[None]:
    """What is recorded inside (this task or thread, and threads started with its context) names ``person``."""
    token = _acting_for.set(person)
    try:
        yield
    finally:
        _acting_for.reset(token)


def portal_person() -> str | None:
    """The portal user acted for, or None on the command line."""
    return _acting_for.get()


def whoami() -> str:
    """The portal user acted for, else the operating system's user ("unknown" when it has none)."""
    person = _acting_for.get()
    if person:
        return person
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
