"""Per phase of a run: the Moodle calls it made, the items it handled and its wall time (``-v`` prints them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moodle_sync.moodle.call_stats import CallStats


@dataclass
class Phase:
    name: str
    items: int = 0
    calls: int = 0
    writes: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.name, "items": self.items, "calls": self.calls, "writes": self.writes,
                "seconds": round(self.seconds, 3)}

    def line(self) -> str:
        return (f"  {self.name:<18} {self.calls:>6} calls ({self.writes} writes) {self.items:>7} items "
                f"{self.seconds:>8.1f} s")


@dataclass
class PhaseClock:
    """Times the phases of one run from the client's call counters (phases run one after another)."""

    stats: CallStats | None
    phases: list[Phase] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str, items: int = 0) -> Iterator[Phase]:
        """Time the block as phase ``name`` handling ``items`` things (the block may change ``.items``)."""
        record = Phase(name, items)
        calls, writes = (self.stats.total, self.stats.writes) if self.stats else (0, 0)
        start = time.perf_counter()
        try:
            yield record
        finally:
            record.seconds = time.perf_counter() - start
            if self.stats:
                record.calls, record.writes = self.stats.total - calls, self.stats.writes - writes
            self.phases.append(record)

    def lines(self) -> list[str]:
        return ["Phases (calls, items, wall time):", *(p.line() for p in self.phases)]

    def to_list(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.phases]
