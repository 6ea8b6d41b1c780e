"""Fault injection: make chosen calls slow, fail at the HTTP layer, lose their answer, or kill the client.

Faults match by wsfunction and skip ``after`` matching calls before firing ``times`` times. "lost" and
"crash" run the call first (it reached Moodle); "refuse" and "exception" do not; "http" does not unless
``ran=True`` (a reverse proxy that forwarded the call, then answered 502/503/504 itself: upstream reset).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["latency", "http", "refuse", "lost", "exception", "crash"]
KINDS: tuple[str, ...] = ("latency", "http", "refuse", "lost", "exception", "crash")

MAINTENANCE_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Site under maintenance</title></head>\n"
    "<body><div class=\"climaintenance\">This site is undergoing maintenance. Please try again later.</div>"
    "</body></html>\n"
)
PROXY_ERROR_PAGE = (
    "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n"
    "<hr><center>nginx</center>\n</body>\n</html>\n"
)


class SimulatedCrash(BaseException):  # noqa: N818 - named as the brief's public API
    """The client process 'died' right after its call reached Moodle (the call was executed).

    A BaseException so that ``except Exception`` in the code under test does not swallow it.
    """


@dataclass
class Fault:
    """One injected fault; see the module docstring for the kinds.

    Args:
        kind: latency | http | refuse | lost | exception | crash.
        wsfunction: only calls of this function match (None: any call).
        after: let this many matching calls through before firing.
        times: how often it fires (None: every matching call from then on).
        seconds: delay for "latency".
        status, body, headers: the HTTP answer for "http"; by default a 503 maintenance page with
            ``Retry-After: 300`` (any other status: no extra headers).
        ran: for "http": Moodle ran the call before the HTTP answer replaced its own (a proxy in front).
        error: the Moodle error body for "exception", e.g. ``{"exception": "moodle_exception",
            "errorcode": "sitemaintenance", "message": "..."}`` (or give it as JSON text in ``body``).
    """

    kind: FaultKind
    wsfunction: str | None = None
    after: int = 0
    times: int | None = 1
    seconds: float = 0.0
    status: int = 503
    body: str = ""
    headers: Mapping[str, str] | None = None
    error: Mapping[str, str] | None = None
    ran: bool = False
    seen: int = field(default=0, init=False, compare=False)
    fired: int = field(default=0, init=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.kind == "http":
            if not self.body:
                self.body = MAINTENANCE_PAGE if self.status == 503 else f"<html><body>HTTP {self.status}</body></html>"
            if self.headers is None:
                self.headers = {"Retry-After": "300"} if self.status == 503 else {}
        if self.ran and self.kind != "http":
            raise ValueError('ran=True is for faults of kind "http" (lost and crash always run the call)')
        if self.kind == "exception" and self.error is None and self.body:
            parsed = json.loads(self.body)
            self.error = {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else None
        if self.kind == "exception" and not self.error:
            raise ValueError('a fault of kind "exception" needs error={"exception", "errorcode", "message"}')

    @classmethod
    def maintenance(cls, wsfunction: str | None = None, *, after: int = 0, times: int | None = 1) -> Fault:
        """A 503 HTML maintenance page with Retry-After (lib/setup.php, CLI maintenance)."""
        return cls("http", wsfunction, after, times, status=503, body=MAINTENANCE_PAGE, headers={"Retry-After": "300"})

    @classmethod
    def proxy_error(cls, wsfunction: str | None = None, *, after: int = 0, times: int | None = 1) -> Fault:
        """A reverse proxy's 502 HTML page."""
        return cls("http", wsfunction, after, times, status=502, body=PROXY_ERROR_PAGE, headers={})

    @classmethod
    def gateway(cls, status: int = 503, wsfunction: str | None = None, *, ran: bool, after: int = 0,
                times: int | None = 1) -> Fault:
        """A reverse proxy's own HTML error page (502, 503 or 504), sent after it forwarded the call
        (``ran=True``: Moodle ran it, the upstream connection was then reset) or before (``ran=False``)."""
        if status not in (502, 503, 504):
            raise ValueError(f"a gateway answers 502, 503 or 504, not {status}")
        return cls("http", wsfunction, after, times, status=status, ran=ran, headers={},
                   body=PROXY_ERROR_PAGE.replace("502 Bad Gateway", f"{status} {_PHRASES[status]}"))


_PHRASES = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


class FaultSet:
    """The faults an emulator applies; thread-safe because the HTTP server handles calls in parallel."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        return len(self._faults)

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults))

    def fire(self, wsfunction: str) -> list[Fault]:
        """The faults that fire for this call: every due latency, and the first other due fault.

        Each matching fault counts the call towards its ``after``; a due fault that is not used (another
        non-latency fault came first) keeps its turn for the next call.
        """
        out: list[Fault] = []
        decided = False
        with self._lock:
            for fault in self._faults:
                if fault.wsfunction is not None and fault.wsfunction != wsfunction:
                    continue
                fault.seen += 1
                if fault.seen <= fault.after or (fault.times is not None and fault.fired >= fault.times):
                    continue
                if fault.kind != "latency":
                    if decided:
                        continue
                    decided = True
                fault.fired += 1
                out.append(fault)
        return out
