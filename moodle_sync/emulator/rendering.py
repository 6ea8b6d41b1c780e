"""Answer bodies as Moodle's REST server writes them: PHP json_encode() or the REST XML format.

webservice/rest/locallib.php: JSON escapes ``/`` and non-ASCII like json_encode's defaults; XML wraps
values in RESPONSE/SINGLE/MULTIPLE/KEY/VALUE and errors in EXCEPTION.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from moodle_sync.emulator.errors import MoodleError
from moodle_sync.emulator.paramtypes import php_str
from moodle_sync.emulator.signatures import Description, Multiple, Single, Value

JSON_TYPE = "application/json"
XML_TYPE = "application/xml; charset=utf-8"


def php_json(value: Any) -> str:
    """json_encode() with its default flags: ``\\/`` and ``\\uXXXX`` escapes, no spaces."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def _xml_text(value: object) -> str:
    # htmlspecialchars(ENT_COMPAT): & < > and double quotes
    return escape(php_str(value), quote=False).replace('"', "&quot;")


def xmlize(value: Any, desc: Description | None) -> str:
    if desc is None:
        return ""
    if isinstance(desc, Value):
        if value is None:
            return '<VALUE null="null"/>\n'
        if isinstance(value, bool):
            value = int(value)  # bools as 1/0 in XML
        return f"<VALUE>{_xml_text(value)}</VALUE>\n"
    if isinstance(desc, Multiple):
        items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
        return "<MULTIPLE>\n" + "".join(xmlize(v, desc.content) for v in items) + "</MULTIPLE>\n"
    assert isinstance(desc, Single)
    obj = value if isinstance(value, dict) else {}
    out = "<SINGLE>\n"
    for key, sub in desc.keys.items():
        out += f'<KEY name="{key}">{xmlize(obj.get(key), sub)}</KEY>\n'
    return out + "</SINGLE>\n"


def render_result(value: Any, returns: Description | None, fmt: str) -> tuple[str, str]:
    """(content type, body) of a successful call whose result is already cleaned."""
    if fmt == "json":
        return JSON_TYPE, php_json(value)
    body = '<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n' + xmlize(value, returns) + "</RESPONSE>\n"
    return XML_TYPE, body


def render_error(error: MoodleError, fmt: str, *, debug: bool) -> tuple[str, str]:
    if fmt == "json":
        return JSON_TYPE, php_json(error.body(debug=debug))
    body = f'<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="{error.exception}">\n'
    if error.errorcode is not None:
        body += f"<ERRORCODE>{_xml_text(error.errorcode)}</ERRORCODE>\n"
    body += f"<MESSAGE>{_xml_text(error.message)}</MESSAGE>\n"
    if debug and error.debuginfo is not None:
        body += f"<DEBUGINFO>{_xml_text(error.debuginfo)}</DEBUGINFO>\n"
    return XML_TYPE, body + "</EXCEPTION>\n"


def response_headers(content_type: str) -> dict[str, str]:
    """The headers webservice_rest_server::send_headers() sets."""
    headers = {
        "Content-Type": content_type,
        "Cache-Control": "private, must-revalidate, pre-check=0, post-check=0, max-age=0",
        "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
        "Pragma": "no-cache",
        "Accept-Ranges": "none",
        "Access-Control-Allow-Origin": "*",
    }
    if content_type == XML_TYPE:
        headers["Content-Disposition"] = 'inline; filename="response.xml"'
    return headers
