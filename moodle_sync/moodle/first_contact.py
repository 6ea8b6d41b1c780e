"""The first call of a run: is there a Moodle web service at the address at all?

Until Moodle has answered once, a read that finds nothing listening, or a page that is not Moodle's
(an HTML page, a 404, a 501), fails at once with one line for people instead of being retried: a
retry would only repeat it. Once the site has answered, the same faults are retried as usual (a
restart, a proxy's hiccup). Moodle's REST server answers every call with JSON and HTTP 200, its
errors included (webservice/rest/locallib.php, ``webservice_rest_server::send_error``).
"""

from __future__ import annotations

import html
import re
from http import HTTPStatus

from moodle_sync.errors import SiteNotReached, TransportError
from moodle_sync.moodle.transport import REST_PATH, HttpAnswer

__all__ = ["as_text", "not_moodle", "nothing_answers"]

#: answers a working site gives for a while (a gateway between restarts, maintenance, slow down): retried
#: (500: PHP stopped on an error, which a Moodle site under load may do once)
_PASSING = frozenset({408, 429, 500, 502, 503, 504})
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML = re.compile(r"^\s*(<!doctype html|<html|<head|<body|<\?xml)", re.IGNORECASE)
_TAG = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def nothing_answers(error: TransportError, base_url: str) -> SiteNotReached | None:
    """One line when no connection could be made at all (refused, no such host), else None."""
    if error.sent or not getattr(error, "transient", True) or "timed out" in str(error):
        # reached the server; a TLS verification failure (its own hint says what to do); or a connect
        # timeout, which a busy network gives too: retried
        return None
    reason = str(error.args[0]).split(" (")[0] if error.args else "no connection"
    return _final(SiteNotReached(f"nothing answers at {base_url} ({reason}): is the address right and the site "
                                 f"up?"))


def not_moodle(answer: HttpAnswer, base_url: str) -> SiteNotReached | None:
    """One line when the answer cannot be Moodle's web service, else None (Moodle's JSON, or a passing fault)."""
    status = answer.status
    if status in _PASSING or (status == 403 and not answer.text.strip()) or 300 <= status < 400:
        return None  # retried, or a message of its own (web services disabled, a redirect)
    if 200 <= status < 300 and (_is_json(answer.text) or not _HTML.match(answer.text)):
        return None  # Moodle's JSON, or something before it (a PHP notice): the client's own message
    try:
        phrase = f" {HTTPStatus(status).phrase}"
    except ValueError:
        phrase = ""
    return _final(SiteNotReached(
        f"{base_url} does not look like a Moodle site: it answered HTTP {status}{phrase} with "
        f"{describe(answer)}, not Moodle's web service; the address should be the site's front page, like "
        f"https://moodle.example.se (moodle-sync adds {REST_PATH})", status=status, sent=True))


def _final(error: SiteNotReached) -> SiteNotReached:
    setattr(error, "transient", False)  # noqa: B010 - read by the client's retry rule
    return error


def describe(answer: HttpAnswer) -> str:
    """What kind of body an answer has, in a few words."""
    text = answer.text.strip()
    if not text:
        return "an empty body"
    if _HTML.match(text) or "html" in answer.headers.get("Content-Type", "").lower():
        return _page(text)
    if _is_json(text):
        return "a JSON document that is not Moodle's"
    return "text"


def as_text(body: str) -> str:
    """A body for an error message: an excerpt of plain text (quoted), or what kind of page it is."""
    if _HTML.match(body):
        return _page(body)
    return repr(body[:200])


def _page(text: str) -> str:
    """An HTML page in words: its title, else the start of its text (never markup)."""
    found = _TITLE.search(text)
    if found and (title := " ".join(html.unescape(found.group(1)).split())):
        return f'an HTML page titled "{title[:80]}"'
    words = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    return f'an HTML page ("{words[:80]}…")' if len(words) > 80 else (f'an HTML page ("{words}")' if words
                                                                       else "an HTML page")


def _is_json(text: str) -> bool:
    import json

    try:
        json.loads(text)
    except ValueError:
        return False
    return True
