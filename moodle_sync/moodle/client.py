"""``MoodleClient.call(wsfunction, params) -> JSON``: one web-service call, its errors and retries.

Moodle answers HTTP 200 even for failures; the body decides (ws-reference §1.4-1.5, :mod:`.decode`). Reads
are retried on transport trouble; a write is re-sent only when it certainly never reached Moodle. A write
that is not idempotent (a create, an import, a message) is never re-sent after anything but Moodle's
own JSON answer: a proxy's 5xx page may come after Moodle ran it (see :func:`.write_kinds.write_kind`).
The client also keeps a call within PHP's ``max_input_vars`` (:meth:`MoodleClient.chunk`), counts its
requests (:mod:`.call_stats`) and logs one line per call.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from moodle_sync.errors import (
    ConfigError,
    MoodleError,
    MoodleUnavailable,
    SiteNotReached,
    TransportError,
    WriteOutcomeUnknown,
    redact,
    register_secret,
)
from moodle_sync.logs import unnamed
from moodle_sync.moodle.call_stats import CallStats
from moodle_sync.moodle.decode import api_error, decode
from moodle_sync.moodle.first_contact import not_moodle, nothing_answers
from moodle_sync.moodle.transport import HttpAnswer, Transport, encode_params
from moodle_sync.moodle.write_kinds import WriteKind, write_kind

__all__ = ["MoodleClient", "RetryPolicy"]

log = logging.getLogger(__name__)

#: the form keys the REST server takes for itself (ws-reference §1.1); never function parameters
RESERVED_KEYS = frozenset({"wstoken", "wsfunction", "moodlewsrestformat", "moodlewssettingraw",
                           "moodlewssettingfilter", "moodlewssettingfileurl", "moodlewssettinglang",
                           "moodlewssettingtimezone"})

# --- policy -----------------------------------------------------------------------------------------

@dataclass
class RetryPolicy:
    """How hard to retry: attempts per call, exponential waits with jitter, a bound on the total time."""

    attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 30.0
    total_timeout: float = 300.0


# --- the client -------------------------------------------------------------------------------------

class MoodleClient:
    """Calls Moodle web-service functions over a :class:`Transport` with one token.

    Args:
        transport: where to send (and how).
        token: the web-service token; registered with :func:`errors.register_secret` so that no
            message, log line or repr shows it.
        max_input_vars: the site's PHP ``max_input_vars``; a call never sends more form variables.
        retry: the retry policy (default :class:`RetryPolicy`).
        raw: ask for unformatted text (``moodlewssettingraw=1``): ``A & B``, not ``A &amp; B``.
        logger: where DEBUG (per request) and WARNING (per retry) lines go.
    """

    def __init__(self, transport: Transport, token: str, *, max_input_vars: int = 5000,
                 retry: RetryPolicy | None = None, raw: bool = True, logger: logging.Logger | None = None) -> None:
        if not token:
            raise ConfigError("the web-service token is empty", key="token",
                              hint="set MOODLE_SYNC_TOKEN or token_command")
        register_secret(token)
        self.transport = transport
        self._token = token
        self.max_input_vars = max_input_vars
        self.retry = retry or RetryPolicy()
        self.raw = raw
        self.log = logger or log
        self.stats = CallStats()
        #: whether Moodle's web service has answered this client yet; until it has, a read that finds
        #: nothing listening or a page that is not Moodle's fails at once (see first_contact.py)
        self.answered = False

    def __repr__(self) -> str:
        return f"MoodleClient(url={self.transport.base_url!r}, token=***)"

    # --- calling ------------------------------------------------------------------------------------

    def call(self, wsfunction: str, params: Mapping[str, Any] | None = None, *,
             items: Sequence[Any] | None = None, settings: Mapping[str, str] | None = None) -> Any:
        """Call one web-service function and return its decoded JSON answer (``None`` for ``null``).

        Args:
            wsfunction: e.g. ``core_course_create_courses``.
            params: the function's parameters, encoded by :func:`encode_params`.
            items: the batch items this call carries, attached to any error it raises.
            settings: request settings, e.g. ``{"lang": "en", "timezone": "Europe/Stockholm"}`` sent as
                ``moodlewssettinglang`` / ``moodlewssettingtimezone`` (webservice/lib.php
                set_web_service_call_settings(): how Moodle formats strings and dates for this call).

        Raises:
            MoodleApiError: Moodle answered with an exception body (subclass by ``errorcode``).
            MoodleUnavailable: maintenance, upgrade or HTTP 503, still so after the retries.
            WriteOutcomeUnknown: a write was sent but its answer was lost; it was not re-sent.
            TransportError: no usable answer, after the retries the policy allows.
            ConfigError: the call needs more form variables than ``max_input_vars``.
        """
        pairs = self._form(wsfunction, params or {})
        pairs[3:3] = [(f"moodlewssetting{k}", v) for k, v in sorted((settings or {}).items())]
        if len(pairs) > self.max_input_vars:
            raise ConfigError(f"{wsfunction}: this call needs {len(pairs)} form variables, more than "
                              f"max_input_vars={self.max_input_vars} (PHP would silently drop the rest)",
                              key="max_input_vars", hint="split the batch with MoodleClient.chunk()")
        kind = write_kind(wsfunction)
        write = kind != "read"
        policy = self.retry
        retrying = Retrying(
            stop=stop_after_attempt(max(1, policy.attempts)) | stop_before_delay(policy.total_timeout),
            wait=self._wait,
            retry=retry_if_exception(lambda e: _retryable(e, write=write)),
            before_sleep=lambda state: self._log_retry(wsfunction, state),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                number = attempt.retry_state.attempt_number
                return self._attempt(wsfunction, pairs, items, kind=kind, retry=number > 1, attempt=number)
        raise AssertionError("unreachable: tenacity either returns or reraises")  # pragma: no cover

    def _form(self, wsfunction: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        clash = RESERVED_KEYS.intersection(params)
        if clash:
            raise ValueError(f"{wsfunction}: parameter names reserved by the REST server: {sorted(clash)}")
        pairs = [("wstoken", self._token), ("wsfunction", wsfunction), ("moodlewsrestformat", "json")]
        if self.raw:
            pairs.append(("moodlewssettingraw", "1"))
        return pairs + encode_params(params)

    def _attempt(self, wsfunction: str, pairs: list[tuple[str, str]], items: Sequence[Any] | None, *,
                 kind: WriteKind, retry: bool, attempt: int = 1) -> Any:
        write = kind != "read"
        self.stats.record(wsfunction, write=write, retry=retry)
        started = time.monotonic()
        outcome = "ok"
        try:
            if self.log.isEnabledFor(logging.DEBUG):
                sent = "&".join(f"{k}={v}" for k, v in pairs)
                self.log.debug("moodle: → %s %s", self.transport.endpoint, unnamed(redact(sent)))
            try:
                answer = self.transport.post_form(pairs)
            except TransportError as e:
                if not self.answered and kind == "read" and (gone := nothing_answers(e, self.transport.base_url)):
                    raise gone from None
                raise self._rebuilt(e, wsfunction, items) from e
            if self.log.isEnabledFor(logging.DEBUG):
                body = unnamed(redact(answer.text))
                self.log.debug("moodle: ← HTTP %d %s%s", answer.status, body[:4000],
                               f"… ({len(body)} characters)" if len(body) > 4000 else "")
            if not self.answered and kind == "read" and (alien := not_moodle(answer, self.transport.base_url)):
                raise alien
            body = self._decode(answer, wsfunction, items)
            if write:
                self.stats.reached(True)
            return body
        except SiteNotReached as e:
            outcome = f"not Moodle (HTTP {e.status})" if e.status else "nothing answers"
            raise
        except TransportError as e:
            outcome = f"HTTP {e.status}" if e.status else _reason(e).split(" (")[0]
            server_error = e.status is not None and e.status >= 500
            if write:
                self.stats.reached(e.sent or server_error)
            if kind == "write" and (e.sent or server_error):
                # not Moodle's answer: a proxy's 5xx page, an HTML or cut-off body, a reset after sending.
                # A proxy answers 502/503/504 also after it forwarded the call (upstream reset), so even a
                # 503 may come after Moodle ran it: never re-send, let the caller re-read Moodle
                raise WriteOutcomeUnknown(
                    f"no answer from Moodle itself, so this write may or may not have been applied "
                    f"({_reason(e)})", wsfunction=wsfunction, status=e.status, items=items,
                    hint="re-read Moodle before deciding; do not re-send it blindly. Running the same "
                         "command again does this.") from e
            if write and e.sent and not isinstance(e, MoodleUnavailable):
                # the write may have been applied: never re-send it, let the caller re-read Moodle
                raise WriteOutcomeUnknown(
                    f"the answer to this write was lost, so it may or may not have been applied "
                    f"({_reason(e)})", wsfunction=wsfunction, status=e.status, items=items,
                    hint="re-read Moodle (by idnumber) before deciding; do not re-send it blindly. "
                         "Running apply again does this.") from e
            raise
        except MoodleError as e:  # Moodle refused it: its transaction was rolled back
            outcome = getattr(e, "errorcode", "") or "refused"
            raise
        finally:
            # -v: one line per call; a retry says which attempt it was (the wait is logged before it)
            values = len(pairs) - 3 - int(self.raw)
            count = (f"{len(items)} item{'' if len(items) == 1 else 's'}" if items is not None
                     else f"{values} form value{'' if values == 1 else 's'}")
            self.log.info("moodle: %s, %s, %s, %.0f ms%s", wsfunction, count, outcome,
                          (time.monotonic() - started) * 1000, f" (attempt {attempt})" if retry else "")

    def _rebuilt(self, e: TransportError, wsfunction: str, items: Sequence[Any] | None) -> TransportError:
        """The transport's error again, now naming the function and the batch."""
        cls = type(e)
        err = cls(str(e.args[0]) if e.args else "", wsfunction=wsfunction, status=e.status, items=items,
                  hint=e.hint, sent=e.sent)
        for attr in ("transient", "retry_after"):
            if hasattr(e, attr):
                setattr(err, attr, getattr(e, attr))
        return err

    def _decode(self, answer: HttpAnswer, wsfunction: str, items: Sequence[Any] | None) -> Any:
        body = decode(answer, wsfunction, items, endpoint=self.transport.endpoint)
        self.answered = True  # Moodle's own JSON, an exception body included
        if isinstance(body, dict) and "exception" in body:
            raise api_error(body, wsfunction, items)
        return body

    # --- retrying -----------------------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        after = getattr(error, "retry_after", None)
        if isinstance(after, int | float):
            return max(0.0, min(float(after), self.retry.max_wait))
        # exponential backoff plus up to one initial wait of jitter, so parallel callers spread out
        policy = self.retry
        exponent = min(state.attempt_number - 1, 60)
        backoff = policy.initial_wait * 2.0 ** exponent + random.uniform(0, policy.initial_wait)
        return max(0.0, min(backoff, policy.max_wait))

    def _log_retry(self, wsfunction: str, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        reason = _reason(error) if error else "?"
        wait = state.next_action.sleep if state.next_action else 0.0
        self.log.warning("%s: attempt %d failed (%s); retrying in %.2fs", wsfunction, state.attempt_number,
                         reason, wait)

    # --- batching -----------------------------------------------------------------------------------

    def chunk(self, wsfunction: str, listkey: str, items: Sequence[Mapping[str, Any]], *,
              fixed: Mapping[str, Any] | None = None, max_items: int | None = None) -> list[list[Mapping[str, Any]]]:
        """Split ``items`` into consecutive batches whose calls stay within ``max_input_vars``.

        A call's form variables are the reserved keys, the encoded ``fixed`` parameters and the items
        under ``listkey``. PHP silently drops variables past its limit, and Moodle then reports a
        "Missing required key" about an item that was never whole.

        Args:
            wsfunction: the function the batches are for.
            listkey: the list parameter the items go under (``courses``, ``enrolments``…).
            items: the items, in order; every one ends up in exactly one batch.
            fixed: the call's other parameters.
            max_items: at most this many items per batch.

        Raises:
            ConfigError: one item alone (with the fixed parameters) needs more than ``max_input_vars``.
        """
        fixed = fixed or {}
        if listkey in fixed:
            raise ValueError(f"{listkey!r} is both the list key and a fixed parameter")
        if max_items is not None and max_items < 1:
            raise ValueError("max_items must be at least 1")
        budget = self.max_input_vars - len(self._form(wsfunction, fixed))
        batches: list[list[Mapping[str, Any]]] = []
        current: list[Mapping[str, Any]] = []
        used = 0
        for index, item in enumerate(items):
            need = len(encode_params({listkey: [item]}))
            if need > budget:
                raise ConfigError(
                    f"{wsfunction}: item {index} of {listkey} needs {need} form variables, but only {max(budget, 0)} "
                    f"fit under max_input_vars={self.max_input_vars}", key="max_input_vars",
                    hint="raise max_input_vars in the site's php.ini (and moodle-sync's setting) or send less per item")
            full = max_items is not None and len(current) >= max_items
            if current and (used + need > budget or full):
                batches.append(current)
                current, used = [], 0
            current.append(item)
            used += need
        if current:
            batches.append(current)
        return batches


# --- helpers ----------------------------------------------------------------------------------------

def _retryable(error: BaseException, *, write: bool) -> bool:
    if isinstance(error, WriteOutcomeUnknown):
        return False
    if isinstance(error, MoodleUnavailable):
        return True  # refused before anything ran, for reads and writes alike
    if isinstance(error, TransportError):
        return bool(getattr(error, "transient", True)) and (not write or not error.sent)
    return False  # MoodleApiError and everything else: the answer is final


def _reason(error: BaseException | None) -> str:
    """An error's message without the function-name prefix and hint (already redacted)."""
    if error is None:
        return ""
    text = str(error).split("\n  hint:")[0]
    wsfunction = getattr(error, "wsfunction", "")
    if wsfunction and text.startswith(f"{wsfunction}: "):
        text = text[len(wsfunction) + 2:]
    return text
