"""Moodle's PARAM_* cleaners (lib/moodlelib.php clean_param) with PHP's string and int casts.

validate_param() accepts a value only if ``(string)$value === (string)clean_param($value)``, so these
cleaners decide what the emulator rejects: ``"1.0"`` for an int, upper case in a username, HTML in text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

PHP_INT_MAX = 2**63 - 1
_TRIM = " \t\n\r\0\x0b"


@dataclass
class Environment:
    """What the emulated site has installed; some cleaners check against it (PARAM_LANG, THEME, AUTH)."""

    languages: set[str] = field(default_factory=lambda: {"en", "sv"})
    themes: set[str] = field(default_factory=lambda: {"boost", "classic"})
    auths: set[str] = field(default_factory=lambda: {"manual", "nologin", "email", "cas", "db", "ldap", "lti",
                                                      "mnet", "none", "oauth2", "shibboleth", "webservice"})
    # auth plugins whose is_internal() is false (no password needed on create_users)
    external_auths: set[str] = field(default_factory=lambda: {"cas", "db", "ldap", "lti", "mnet", "oauth2",
                                                               "shibboleth"})


DEFAULT_ENVIRONMENT = Environment()


def php_str(value: object) -> str:
    """PHP's ``(string)`` cast."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float):
        return php_float_str(value)
    return str(value)


def php_float_str(value: float) -> str:
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    if math.isnan(value):
        return "NAN"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = "-" if exp.startswith("-") else "+"
        text = f"{mantissa if '.' in mantissa else mantissa + '.0'}E{sign}{exp.lstrip('+-')}"
    return text


_NUMERIC_PREFIX = re.compile(r"[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)")


def php_int(value: object) -> int:
    """PHP's ``(int)`` cast (leading numeric prefix of a string, clamped to PHP_INT_MAX)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _clamp(value) if math.isfinite(value) else 0
    if value is None:
        return 0
    m = _NUMERIC_PREFIX.match(str(value))
    if not m:
        return 0
    text = m.group(1)
    if re.fullmatch(r"[+-]?\d+", text):
        return max(-PHP_INT_MAX - 1, min(PHP_INT_MAX, int(text)))
    return _clamp(float(text))


def _clamp(number: float) -> int:
    if number >= PHP_INT_MAX:
        return PHP_INT_MAX
    if number <= -PHP_INT_MAX - 1:
        return -PHP_INT_MAX - 1
    return int(number)


def php_float(value: object) -> float:
    if isinstance(value, (bool, int, float)):
        return float(value)
    m = _NUMERIC_PREFIX.match(php_str(value))
    return float(m.group(1)) if m else 0.0


_TAG = re.compile(r"<!--.*?(?:-->|$)|<(?:>|[^\s>][^>]*(?:>|$))", re.S)


def strip_tags(text: str) -> str:
    """PHP's strip_tags(): a ``<`` followed by whitespace is text, anything else opens a tag."""
    return _TAG.sub("", text)


def fix_utf8(text: str) -> str:
    return text.replace("\0", "")


_MULTILANG_SPAN = re.compile(r'^<span(\s+lang="[a-zA-Z0-9_-]+"|\s+class="multilang"){2}\s*>$')
_MULTILANG_LANG = re.compile(r'^<lang lang="[a-zA-Z0-9_-]+"\s*>$')


def _multilang_ok(text: str, closer: str, opener: re.Pattern[str]) -> bool:
    open_ = False
    for tag in re.findall(r"<.*?>", text, re.S):
        if tag == closer:
            if not open_:
                return False
            open_ = False
        elif opener.match(tag):
            open_ = True
        else:
            return False
    return not open_


def clean_text(text: str) -> str:
    """PARAM_TEXT: strip tags, except well-formed multilang ``<span lang class=multilang>`` / ``<lang>``."""
    text = fix_utf8(text)
    if "</lang>" in text and _multilang_ok(text, "</lang>", _MULTILANG_LANG):
        return text
    if "</span>" in text and _multilang_ok(text, "</span>", _MULTILANG_SPAN):
        return text
    return strip_tags(text)


_PLUGIN = re.compile(r"^[a-z](?:[a-z0-9_](?!__))*[a-z0-9]+$")
_COMPONENT = re.compile(r"^[a-z][a-z0-9]*(_[a-z][a-z0-9_]*)?[a-z0-9]+$")
_TIMEZONE = re.compile(r"^(([+-]?(0?[0-9](\.[5|0])?|1[0-3](\.0)?|1[0-2]\.5))|(99)|[A-Za-z0-9]+(/?[A-Za-z_-])+)$")
_EMAIL = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")
_CAPABILITY = re.compile(r"^[a-z][a-z0-9_]*/[a-z0-9_]+:[a-z0-9_]+$")
_URL = re.compile(r"^(?:(?:https?|ftp)://[^\s/?#]+[^\s]*|/[^\s]*)$", re.I)


def is_valid_plugin_name(name: str) -> bool:
    return bool(_PLUGIN.match(name))


def validate_email(address: str) -> bool:
    """lib/moodlelib.php validate_email(): PHPMailer's html5 pattern and no ``<`` or ``>``."""
    return bool(address) and bool(_EMAIL.match(address)) and not re.search(r"[<>]", address)


def _clean_file(text: str) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]|[&<>\"`|':\\/]", "", fix_utf8(text))
    return "" if text in (".", "..") else text


def _clean_path(text: str) -> str:
    parts = fix_utf8(text).replace("\\", "/").split("/")
    cleaned = [p if (p == "." and i == 0) else _clean_file(p) for i, p in enumerate(parts)]
    out = re.sub(r"//+", "/", "/".join(cleaned))
    return re.sub(r"/(\./)+", "/", out)


def clean_param(value: object, ptype: str, env: Environment = DEFAULT_ENVIRONMENT) -> object:
    """``clean_param($value, PARAM_<ptype>)`` for one scalar; returns int/float for numeric types."""
    t = ptype.lower()
    if t == "int":
        return php_int(value)
    if t == "float":
        return php_float(value)
    if t == "bool":
        text = php_str(value).lower()
        if text in ("on", "yes", "true"):
            return 1
        if text in ("off", "no", "false"):
            return 0
        return 0 if text in ("", "0") else 1
    if t == "raw":
        return fix_utf8(value) if isinstance(value, str) else value
    s = php_str(value)
    if t == "raw_trimmed":
        return fix_utf8(s).strip(_TRIM)
    if t in ("text", "multilang"):
        return clean_text(s)
    if t == "notags":
        return strip_tags(fix_utf8(s))
    if t == "alpha":
        return re.sub(r"[^a-zA-Z]", "", s)
    if t == "alphaext":
        return re.sub(r"[^a-zA-Z_-]", "", s)
    if t == "alphanum":
        return re.sub(r"[^A-Za-z0-9]", "", s)
    if t == "alphanumext":
        return re.sub(r"[^A-Za-z0-9_-]", "", s)
    if t == "sequence":
        return re.sub(r"[^0-9,]", "", s)
    if t == "safedir":
        return re.sub(r"[^a-zA-Z0-9_-]", "", s)
    if t == "safepath":
        return re.sub(r"[^a-zA-Z0-9/_-]", "", s)
    if t == "username":
        s = fix_utf8(s).strip(_TRIM).lower()
        # without $CFG->extendedusernamechars: alphanumerics and - . @ _ only
        return re.sub(r"[^-.@_a-z0-9]", "", s.replace(" ", ""))
    if t == "email":
        return s if validate_email(fix_utf8(s)) else ""
    if t in ("plugin", "area"):
        return s if is_valid_plugin_name(s) else ""
    if t == "component":
        if not _COMPONENT.match(s) or "__" in s:
            return ""
        if s.startswith("mod_") and s.count("_") != 1:
            return ""
        return s
    if t == "theme":
        s = s if is_valid_plugin_name(s) else ""
        return s if s in env.themes else ""
    if t == "auth":
        s = s if is_valid_plugin_name(s) else ""
        return s if s in env.auths else ""
    if t == "lang":
        s = re.sub(r"[^a-zA-Z0-9_-]", "", s)
        return s if s in env.languages else ""
    if t == "timezone":
        s = fix_utf8(s)
        return s if _TIMEZONE.match(s) else ""
    if t == "capability":
        return s if _CAPABILITY.match(s) else ""
    if t == "file":
        return _clean_file(s)
    if t == "path":
        return _clean_path(s)
    if t == "tag":
        s = re.sub(r"[\x00-\x1f\x7f<>`]", "", fix_utf8(s))
        return re.sub(r"\s+", " ", s).strip()[:50]
    if t in ("url", "localurl"):
        s = fix_utf8(s)
        return s if (s == "" or _URL.match(s)) else ""
    # PARAM_CLEANHTML and anything exotic: accepted as sent
    return s
