"""What an HTTP answer from the web-service endpoint means: Moodle's JSON, or the error that came instead.

Moodle answers HTTP 200 even for failures; the body decides (ws-reference §1.4-1.5): a JSON body with
``exception`` is Moodle refusing the call (:func:`api_error`). Anything else that is not Moodle's JSON –
maintenance, a redirect, web services switched off, a wrong URL, a proxy's page – becomes a
TransportError saying what it was and what to do; those a retry would only repeat are marked final.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from moodle_sync import clock
from moodle_sync.errors import (
    AuthError,
    InvalidParameter,
    MoodleError,
    MoodleUnavailable,
    TransportError,
    error_for_body,
    redact,
)
from moodle_sync.moodle.first_contact import as_text
from moodle_sync.moodle.transport import HttpAnswer

__all__ = ["api_error", "decode"]


def decode(answer: HttpAnswer, wsfunction: str, items: Sequence[Any] | None, *, endpoint: str) -> Any:
    """Moodle's decoded JSON for a 2xx answer (an exception body too: see :func:`api_error`), else the error
    that says what came instead: maintenance, a redirect, web services off, a wrong URL, a refusal by the web
    server, a page that is not JSON.

    Raises:
        MoodleUnavailable: HTTP 503 (its ``retry_after`` from the Retry-After header).
        AuthError: an empty HTTP 403: web services or REST are disabled.
        TransportError: anything else that is not Moodle's JSON; ``transient`` is False where a retry would
            only repeat it (a redirect, a 404, another 4xx).
    """
    status = answer.status
    if status == 503:
        err: TransportError = MoodleUnavailable(
            "HTTP 503: the site is in maintenance or overloaded", wsfunction=wsfunction, status=503,
            items=items, sent=False, hint="try again later")
        _set_retry_after(err, answer)
        raise err
    if 200 <= status < 300:
        try:
            body = json.loads(answer.text)
        except ValueError:
            raise TransportError(
                f"the answer is not JSON (HTTP {status}, {_content_type(answer)}): {_excerpt(answer.text)}",
                wsfunction=wsfunction, status=status, items=items, sent=True,
                hint="a proxy or a PHP notice may be in the way; check the site's web server") from None
        return body
    if 300 <= status < 400:
        location = redact(answer.headers.get("Location", "") or "?")
        raise _final(TransportError(
            f"HTTP {status}: the web-service endpoint redirects to {location}", wsfunction=wsfunction,
            status=status, items=items, sent=False,
            hint="set the Moodle URL to the site's final address (https, exact host name)"))
    if status == 403 and not answer.text.strip():
        raise AuthError(exception=f"HTTP {status}", errorcode="", wsfunction=wsfunction, items=items,
                        message="web services or the REST protocol are disabled on this site",
                        hint="Site administration > Server > Web services > Overview: enable web "
                             "services and the REST protocol")
    if status == 404:
        raise _final(TransportError(
            f"HTTP 404 at {endpoint}: the URL does not look like a Moodle site",
            wsfunction=wsfunction, status=status, items=items, sent=False,
            hint="give the address of the site's front page (without /webservice/...)"))
    if status in (408, 429):
        err = TransportError(f"HTTP {status}: the server asks to slow down or retry", wsfunction=wsfunction,
                             status=status, items=items, sent=False)
        _set_retry_after(err, answer)
        raise err
    if 400 <= status < 500:
        raise _final(TransportError(
            f"HTTP {status} from the web server: {_excerpt(answer.text)}", wsfunction=wsfunction,
            status=status, items=items, sent=False,
            hint="a proxy, firewall or the web server refused the request before Moodle saw it"))
    raise TransportError(f"HTTP {status}: {_excerpt(answer.text)}", wsfunction=wsfunction, status=status,
                         items=items, sent=True)

def api_error(body: dict[str, Any], wsfunction: str, items: Sequence[Any] | None) -> MoodleError:
    """Moodle's exception body as the error of its kind (by ``errorcode``); an unknown function says so."""
    if body.get("errorcode") == "invalidrecord" and _names_external_functions(body):
        # a missing record in external_functions: the function itself is unknown, nothing is "not found"
        return InvalidParameter(
            exception=str(body.get("exception") or ""), errorcode="invalidrecord",
            message=redact(str(body.get("message") or "")), debuginfo=redact(str(body.get("debuginfo") or "")),
            wsfunction=wsfunction, items=items,
            hint=f"the function {wsfunction} does not exist on this site: check its name, the Moodle "
                 f"version, and that its plugin is installed")
    return error_for_body(body, wsfunction=wsfunction, items=items)


def _names_external_functions(body: dict[str, Any]) -> bool:
    """Moodle's answer to an unknown wsfunction, in any language: error/invalidrecord is "Can't find data
    record in database table {$a}." with the table's name as {$a}, so translations keep it."""
    return "external_functions" in f"{body.get('message') or ''} {body.get('debuginfo') or ''}"


def _final(error: TransportError) -> TransportError:
    """Mark an error that a retry would only repeat (a redirect, a 404, a refusal by the web server)."""
    setattr(error, "transient", False)  # noqa: B010
    return error


def _set_retry_after(error: TransportError, answer: HttpAnswer) -> None:
    value = (answer.headers.get("Retry-After") or "").strip()
    if not value:
        return
    seconds: float | None = None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = max(0.0, (when - clock.now()).total_seconds())
    if seconds is not None:
        setattr(error, "retry_after", seconds)  # noqa: B010 - read by MoodleClient._wait


def _excerpt(text: str) -> str:
    """A body for a message: quoted text, or what kind of page it is (never HTML)."""
    return as_text(redact(text.strip()))


def _content_type(answer: HttpAnswer) -> str:
    return answer.headers.get("Content-Type", "") or "no content type"
