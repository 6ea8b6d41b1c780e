"""``CallStats``: how many HTTP requests a client sent, by function, reads and writes, retries.

Shared between threads (parallel batches use one client); ``-v`` and the run record show it per phase,
and ``writes_reached`` counts the writes Moodle may have run (every one but those that certainly never
reached it).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["CallStats"]


class CallStats:
    """Counts of HTTP requests sent, by function and kind; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_function: dict[str, int] = {}
        self._reads = self._writes = self._retries = self._writes_reached = 0

    def record(self, wsfunction: str, *, write: bool, retry: bool) -> None:
        with self._lock:
            self._by_function[wsfunction] = self._by_function.get(wsfunction, 0) + 1
            if write:
                self._writes += 1
            else:
                self._reads += 1
            if retry:
                self._retries += 1

    def reached(self, sent: bool) -> None:
        """Count a write request that reached Moodle, or may have (``sent``: its answer was lost)."""
        if sent:
            with self._lock:
                self._writes_reached += 1

    @property
    def writes_reached(self) -> int:
        """Write requests that Moodle may have run: everything but those that certainly never reached it."""
        with self._lock:
            return self._writes_reached

    @property
    def total(self) -> int:
        with self._lock:
            return self._reads + self._writes

    @property
    def reads(self) -> int:
        with self._lock:
            return self._reads

    @property
    def writes(self) -> int:
        with self._lock:
            return self._writes

    @property
    def retries(self) -> int:
        with self._lock:
            return self._retries

    @property
    def by_function(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_function)

    def snapshot(self) -> dict[str, Any]:
        """``{"total", "reads", "writes", "retries", "by_function": {wsfunction: n}}``."""
        with self._lock:
            return {"total": self._reads + self._writes, "reads": self._reads, "writes": self._writes,
                    "retries": self._retries, "by_function": dict(self._by_function)}

    def reset(self) -> None:
        with self._lock:
            self._by_function.clear()
            self._reads = self._writes = self._retries = self._writes_reached = 0
