"""Every error moodle-sync raises, in one tree.

Each error says what happened, where, and what to do next. The CLI prints ``Error: <str(e)>`` on
stderr and exits 1 (``--debug`` shows the traceback).

- MoodleSyncError
    - ConfigError            a setting is missing or wrong (names the key and where it came from)
    - SpecError              course specs do not validate (carries every problem, each with file:line)
    - PlanError              the plan cannot be made or applied safely (not ours, missing template,
                             completion criteria locked, stale plan file)
    - RosterError            a roster file cannot be read, or rows are invalid (each with row and column)
    - ScopeError             a hub tried to touch or read outside its county
    - StoreError             the local SQLite state store cannot be used
    - SyncBusy               another sync (apply, pull, roster import) holds the lock; nothing was done
    - ApplyError             apply finished only partly; ``.outcome`` says what was done (rerun converges)
        - RowsRefused        a roster import did the rest but refused rows before sending them; a rerun
                             refuses them again, so it names the rows and who can fix them (exit 1)
    - MoodleError            anything from talking to Moodle; ``.wsfunction`` is always set
        - TransportError     no usable answer: connection, timeout, HTTP 5xx, a body that is not JSON
            - MoodleUnavailable   503 / ``upgraderunning`` / ``sitemaintenance`` (retry later)
            - WriteOutcomeUnknown a write was sent but its answer was lost: re-read Moodle before
                                  deciding; never re-send blindly
            - SiteNotReached      the first call found no Moodle web service at the address (nothing
                                  listening, an HTML page, a 404/501): one line, never retried
        - UnreadableAnswer   Moodle answered JSON the tool cannot read (a key missing, null where a
                             value is needed, a wrong type): names the field and the value seen
        - MoodleApiError     Moodle answered with an exception body (HTTP 200):
                             ``.exception .errorcode .message .debuginfo``
            - AuthError          ``invalidtoken``, ``accessexception`` (function not in the service,
                                 token expired, IP restriction …)
            - PermissionDenied   ``nopermissions``, ``wsusercannotassign``, ``restrictedcontextexception``
            - InvalidParameter   ``invalidparameter``, ``errorinvalidparam``, ``invalidrecord`` of an
                                 unknown function …
            - NotFound           ``invalidrecord``, ``invalidcourseid``, ``invaliduser`` …
            - Conflict           ``shortnametaken``, ``courseidnumbertaken``, ``categoryidnumbertaken``
            - CompletionError    ``nocriteriaset``, ``usernotenroled``, ``cannotviewreport``

The token never appears in any of these: :func:`redact` is applied to every message built from a
server answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moodle_sync.i18n import _

__all__ = [
    "ApplyError",
    "AuthError",
    "CompletionError",
    "ConfigError",
    "Conflict",
    "InvalidParameter",
    "MoodleApiError",
    "MoodleError",
    "MoodleSyncError",
    "MoodleUnavailable",
    "NotFound",
    "PermissionDenied",
    "PlanError",
    "RosterError",
    "RowsRefused",
    "ScopeError",
    "SiteNotReached",
    "SpecError",
    "SpecProblem",
    "StoreError",
    "SyncBusy",
    "TransportError",
    "UnreadableAnswer",
    "WriteOutcomeUnknown",
    "error_for_body",
    "redact",
]

_SECRETS: set[str] = set()


def register_secret(secret: str) -> None:
    """Remember a secret (the token) so that :func:`redact` hides it wherever it shows up."""
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` by ``***``."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class MoodleSyncError(Exception):
    """Base of every error moodle-sync raises on purpose."""

    hint: str = ""

    def __str__(self) -> str:
        text = redact(super().__str__())
        if self.hint and self.hint not in text:
            text = f"{text}\n  {_('hint:')} {self.hint}"
        return text


class ConfigError(MoodleSyncError):
    """A setting is missing or invalid. ``key`` names it, ``source`` says where it came from."""

    def __init__(self, message: str, *, key: str = "", source: str = "", hint: str = "") -> None:
        self.key = key
        self.source = source
        self.hint = hint
        where = f" ({key} from {source})" if key and source else (f" ({key})" if key else "")
        super().__init__(f"{message}{where}")


class SpecProblem:
    """One problem in one spec file: where it is, what is wrong, and how to fix it."""

    def __init__(self, file: str, line: int | None, message: str, hint: str = "", loc: str = "") -> None:
        self.file = file
        self.line = line
        self.message = message
        self.hint = hint
        self.loc = loc

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        loc = f" [{self.loc}]" if self.loc else ""
        hint = f"\n    hint: {self.hint}" if self.hint else ""
        return f"{where}:{loc} {self.message}{hint}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "loc": self.loc, "message": self.message,
                "hint": self.hint}

    def __repr__(self) -> str:
        return f"SpecProblem({self})"


class SpecError(MoodleSyncError):
    """The specs do not validate. ``problems`` lists every one of them, each with file and line."""

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the specs:\n{lines}")


class PlanError(MoodleSyncError):
    """The plan cannot be made or applied safely; nothing was changed because of it."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.hint = hint
        super().__init__(message)


class RosterError(MoodleSyncError):
    """A roster file cannot be read or has invalid rows; ``problems`` lists each with its row.

    ``swedish``, when set, says the same to a hub in the portal (without the file's name, which the page shows).
    """

    def __init__(self, message: str, *, problems: Sequence[Any] = (), hint: str = "", swedish: str = "") -> None:
        self.problems = list(problems)
        self.hint = hint
        self.swedish = swedish
        lines = "".join(f"\n  {p}" for p in self.problems)
        super().__init__(f"{message}{lines}")


class ScopeError(MoodleSyncError):
    """A regional hub asked to change or read something outside its own county. Nothing was done."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.hint = hint
        super().__init__(message)


class SyncBusy(MoodleSyncError):
    """Another sync (apply, pull or roster import) holds the sync lock
    (moodle_sync/writing/synclock.py); nothing was done."""

    def __init__(self, message: str, *, holder: str = "", hint: str = "") -> None:
        self.holder = holder
        self.hint = hint
        super().__init__(message)


class StoreError(MoodleSyncError):
    """The local state store cannot be opened, migrated or written."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.hint = hint
        super().__init__(message)


class ApplyError(MoodleSyncError):
    """Apply (or a roster import) stopped or finished partly. ``outcome`` maps action ids to
    done/failed/skipped; ``partial`` says whether part of the work was written (exit code 3: run again),
    by default whether any action is done."""

    def __init__(self, message: str, *, outcome: dict[str, str] | None = None, hint: str = "",
                 partial: bool | None = None) -> None:
        self.outcome = outcome or {}
        self.partial = partial if partial is not None else any(v == "done" for v in self.outcome.values())
        self.hint = hint or "run the same command again: apply converges and never duplicates"
        super().__init__(message)


class RowsRefused(ApplyError):
    """A roster import wrote everything else, but refused ``rows`` before sending anything for them (a new
    person Moodle would refuse, a hub's row naming someone it may not use). Running it again plans the same
    refusals, so this is not "run it again": ``partial`` is never set (exit 1), the message names each row and
    what to fix, and the hint who can. ``report`` is the import's outcome as ``--json`` shows it."""

    def __init__(self, message: str, *, rows: Sequence[str], report: dict[str, Any] | None = None,
                 hint: str = "") -> None:
        self.rows = list(rows)
        self.report = report or {}
        super().__init__(message, outcome={"roster": "rows refused"}, hint=hint, partial=False)


class MoodleError(MoodleSyncError):
    """Anything that went wrong talking to Moodle."""

    def __init__(self, message: str, *, wsfunction: str = "", items: Sequence[Any] | None = None,
                 hint: str = "") -> None:
        self.wsfunction = wsfunction
        #: which batch items were sent in the failed call (for writes), so the caller can name them
        self.items = list(items) if items is not None else []
        self.hint = hint
        super().__init__(f"{wsfunction}: {message}" if wsfunction else message)


class TransportError(MoodleError):
    """No usable answer (connection, timeout, HTTP 5xx, non-JSON body). Retryable for reads."""

    def __init__(self, message: str, *, wsfunction: str = "", status: int | None = None,
                 items: Sequence[Any] | None = None, hint: str = "", sent: bool = True) -> None:
        self.status = status
        #: False when the request certainly never reached Moodle (connection refused): safe to re-send
        self.sent = sent
        super().__init__(message, wsfunction=wsfunction, items=items, hint=hint)


class SiteNotReached(TransportError):
    """The address does not lead to a Moodle web service (nothing listening, a page that is not Moodle's).

    Raised only before the site has answered once in a run, when a retry would only repeat it; the
    message is one line for people and names no function.
    """

    def __init__(self, message: str, *, wsfunction: str = "", status: int | None = None,
                 sent: bool = False) -> None:
        super().__init__(message, status=status, sent=sent)
        self.wsfunction = wsfunction


class MoodleUnavailable(TransportError):
    """Moodle is in maintenance or upgrading (HTTP 503, ``sitemaintenance``, ``upgraderunning``)."""


class WriteOutcomeUnknown(TransportError):
    """A write was sent but no answer came back: it may or may not have been applied.

    Never re-send it blindly; re-read Moodle (by idnumber) and decide.
    """


class UnreadableAnswer(MoodleError):
    """Moodle answered, in JSON, something the tool cannot read: ``field`` is where, ``value`` what it saw.

    Nothing was changed because of it: answers are read before anything is decided.
    """

    def __init__(self, message: str, *, wsfunction: str, field: str, value: Any,
                 items: Sequence[Any] | None = None, hint: str = "") -> None:
        self.field = field
        self.value = value
        super().__init__(message, wsfunction=wsfunction, items=items, hint=hint or (
            "this site answers differently from Moodle 4.3's declared web-service contract: run "
            "`moodle-sync doctor` to see the site's version, and report this message (with --debug "
            "output) to the moodle-sync maintainers"))


class MoodleApiError(MoodleError):
    """Moodle answered with an exception body. Keeps Moodle's own fields."""

    def __init__(self, *, exception: str, errorcode: str, message: str, debuginfo: str = "",
                 wsfunction: str = "", items: Sequence[Any] | None = None, hint: str = "") -> None:
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo
        text = f"{errorcode or exception}: {message}"
        if debuginfo:
            text += f" ({debuginfo})"
        super().__init__(text, wsfunction=wsfunction, items=items, hint=hint or _HINTS.get(errorcode, ""))

    def as_dict(self) -> dict[str, Any]:
        return {"wsfunction": self.wsfunction, "exception": self.exception, "errorcode": self.errorcode,
                "message": redact(self.message), "debuginfo": redact(self.debuginfo)}


class AuthError(MoodleApiError):
    """The token is unknown or expired, or the function is not in the token's service."""


class PermissionDenied(MoodleApiError):
    """The web-service user lacks a capability for this call."""


class InvalidParameter(MoodleApiError):
    """Moodle rejected a parameter (often: a bad item in a batch; Moodle does not say which)."""


class NotFound(MoodleApiError):
    """A record Moodle was asked about does not exist."""


class Conflict(MoodleApiError):
    """A uniqueness rule was broken (shortname, idnumber already used)."""


class CompletionError(MoodleApiError):
    """Completion cannot be read: no criteria in the course, user not enrolled, no permission."""


_HINTS: dict[str, str] = {
    "invalidtoken": "check MOODLE_TOKEN (Site administration > Server > Web services > Manage tokens)",
    "accessexception": "add the function to the token's external service, or check the token's "
                       "expiry and IP restriction; `moodle-sync doctor` lists what is missing",
    "nopermissions": "give the web-service user's role the capability named in the message",
    "invalidparameter": "Moodle does not say which item was bad; moodle-sync splits batches to find it",
    "sitemaintenance": "the site is in maintenance mode; try again later",
    "upgraderunning": "the site is being upgraded; try again later",
    "shortnametaken": "another course already uses this short name",
    "courseidnumbertaken": "another course already uses this ID number",
    "categoryidnumbertaken": "another category already uses this ID number",
}

_BY_CODE: dict[str, type[MoodleApiError]] = {
    "invalidtoken": AuthError,
    "accessexception": AuthError,
    "wsaccessuserdeleted": AuthError,
    "wsaccessusersuspended": AuthError,
    "wsaccessuserunconfirmed": AuthError,
    "wsaccessusernologin": AuthError,
    "wsaccessuserexpired": AuthError,
    "forcepasswordchangenotice": AuthError,
    "sitepolicynotagreed": AuthError,
    "nopermissions": PermissionDenied,
    "wsusercannotassign": PermissionDenied,
    "restrictedcontextexception": PermissionDenied,
    "requireloginerror": PermissionDenied,
    "invalidparameter": InvalidParameter,
    "errorinvalidparam": InvalidParameter,
    "errorcatcontextnotvalid": InvalidParameter,
    "criteriaerror": InvalidParameter,
    "invalidrecord": NotFound,
    "invalidcourseid": NotFound,
    "invaliduser": NotFound,
    "invalidcoursemodule": NotFound,
    "shortnametaken": Conflict,
    "courseidnumbertaken": Conflict,
    "categoryidnumbertaken": Conflict,
    "nocriteriaset": CompletionError,
    "usernotenroled": CompletionError,
    "cannotviewreport": CompletionError,
}

_UNAVAILABLE = {"sitemaintenance", "upgraderunning"}


def error_for_body(body: dict[str, Any], *, wsfunction: str = "",
                   items: Sequence[Any] | None = None) -> MoodleError:
    """Turn Moodle's HTTP-200 error body into the matching typed exception."""
    code = str(body.get("errorcode") or "")
    message = redact(str(body.get("message") or ""))
    if code in _UNAVAILABLE:
        return MoodleUnavailable(f"{code}: {message}", wsfunction=wsfunction, items=items, sent=False,
                                 hint=_HINTS.get(code, ""))
    cls = _BY_CODE.get(code, MoodleApiError)
    return cls(exception=str(body.get("exception") or ""), errorcode=code, message=message,
               debuginfo=redact(str(body.get("debuginfo") or "")), wsfunction=wsfunction, items=items)
