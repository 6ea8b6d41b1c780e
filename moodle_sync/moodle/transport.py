"""HTTP to Moodle's REST endpoint: the only module that imports ``requests``.

It encodes parameters the way PHP reads them, posts forms, and turns every ``requests`` failure into
:class:`~moodle_sync.errors.TransportError` with ``sent`` saying whether Moodle may have seen it.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import math
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import requests.adapters
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from moodle_sync import __version__
from moodle_sync.errors import ConfigError, TransportError, redact

__all__ = [
    "REST_PATH",
    "HttpAnswer",
    "InProcessHandler",
    "Transport",
    "encode_params",
    "normalise_base_url",
]

REST_PATH = "/webservice/rest/server.php"
USER_AGENT = f"moodle-sync/{__version__}"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

#: ``(method, url, headers, body) -> (status, headers, body)``. Raise ConnectionRefusedError for
#: "never reached the server", ConnectionResetError or TimeoutError for "received, answer lost".
InProcessHandler = Callable[[str, str, Mapping[str, str], bytes], tuple[int, Mapping[str, str], bytes]]


# --- parameter encoding ----------------------------------------------------------------------------

def encode_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten parameters into the PHP bracket form Moodle's REST server reads.

    ``{"courses": [{"fullname": "X", "visible": False}]}`` becomes
    ``[("courses[0][fullname]", "X"), ("courses[0][visible]", "0")]``.

    Nested mappings become ``a[b]``, lists and tuples ``a[0]``, ``a[1]`` (explicit, consecutive
    indices); bool becomes ``"1"``/``"0"`` (Moodle rejects ``true``); int, float and str their text.
    ``None`` and empty lists or mappings cannot be expressed in a form, so their key is left out
    (ws-reference §1.3: sending ``key=`` fails for INT fields). Order is kept.

    Raises:
        TypeError: a value of another type (bytes, dates, objects: convert them first).
        ValueError: an empty key, a key containing ``[`` or ``]``, or a NaN/infinite float.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _encode_into(pairs, _check_key(key), value)
    return pairs


def _check_key(key: object) -> str:
    text = key if isinstance(key, str) else str(key) if isinstance(key, int) else None
    if text is None:
        raise TypeError(f"parameter keys must be str or int, not {type(key).__name__}")
    # "a[]" would mean "append" to PHP, and brackets inside a key would change the nesting
    if not text or "[" in text or "]" in text:
        raise ValueError(f"invalid parameter key {text!r}")
    return text


def _encode_into(pairs: list[tuple[str, str]], name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _encode_into(pairs, f"{name}[{_check_key(key)}]", item)
    elif isinstance(value, list | tuple):
        index = 0
        for item in value:
            before = len(pairs)
            _encode_into(pairs, f"{name}[{index}]", item)
            if len(pairs) > before:  # an element that encodes to nothing takes no index
                index += 1
    else:
        pairs.append((name, _scalar(value)))


def _scalar(value: Any) -> str:
    # the base-class methods keep str/int mixin enums to their value, not "Kind.A"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot send the float {value!r} to Moodle")
        return float.__repr__(value)
    if isinstance(value, str):
        return str.__str__(value)
    raise TypeError(f"cannot encode a {type(value).__name__} as a Moodle parameter; convert it first")


# --- base URL ---------------------------------------------------------------------------------------

def normalise_base_url(url: str, *, allow_http: bool = False) -> str:
    """The site's base URL (``https://moodle.example.org`` or ``…/moodle``), checked.

    Strips whitespace, trailing slashes and a pasted ``/webservice/rest/server.php`` (or
    ``/webservice/rest``).

    Raises:
        ConfigError: no scheme or host, a query or fragment, or plain ``http://`` to a host other than
            loopback while ``allow_http`` is off (the token would cross the network in clear text).
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as e:
        raise ConfigError(f"the Moodle URL is not a valid URL ({e})", key="url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the Moodle URL needs a scheme and a host, like https://moodle.example.org "
                          f"(got {_shown(text)!r})", key="url")
    if parts.query or parts.fragment:
        # never echo the query: a pasted URL may carry ?wstoken=…
        raise ConfigError("the Moodle URL must not have a query (?…) or fragment (#…)", key="url",
                          hint="give the address of the site's front page, e.g. https://moodle.example.org")
    path = parts.path.rstrip("/")
    for suffix in (REST_PATH, "/webservice/rest"):
        if path.endswith(suffix):
            path = path[: -len(suffix)].rstrip("/")
            break
    netloc = parts.netloc if "@" in parts.netloc else parts.netloc.lower()
    base = f"{scheme}://{netloc}{path}"
    if scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise ConfigError(f"refusing plain http:// for {_shown(base)}: the token would travel unencrypted",
                          key="url", hint="use https, or pass --allow-http if you really mean it")
    return base


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _shown(url: str) -> str:
    """The URL without user info, query or fragment, for messages."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else url.split("?")[0]


# --- answers and the in-process seam ---------------------------------------------------------------

@dataclass(frozen=True)
class HttpAnswer:
    """One HTTP answer: status, headers (case-insensitive), and the body as text."""

    status: int
    headers: Mapping[str, str]
    text: str


class _InProcessConnectionError(requests.ConnectionError):
    """A connection failure emulated by an in-process handler; ``sent`` says if it reached it."""

    def __init__(self, message: str, *, sent: bool, request: requests.PreparedRequest) -> None:
        super().__init__(message, request=request)
        self.sent = sent


class _InProcessAdapter(requests.adapters.BaseAdapter):
    """Hands each request to a plain function and wraps its answer in a real ``requests.Response``."""

    def __init__(self, handler: InProcessHandler) -> None:
        super().__init__()
        self.handler = handler

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: None | float | tuple[float, float] | tuple[float, None] = None,
             verify: bool | str = True, cert: None | bytes | str | tuple[bytes | str, bytes | str] = None,
             proxies: Mapping[str, str] | None = None) -> requests.Response:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes):
            body = b"".join(_as_bytes(body))
        method, url = request.method or "GET", request.url or ""
        try:
            status, headers, content = self.handler(method, url, dict(request.headers), body)
        except ConnectionRefusedError:
            raise _InProcessConnectionError("in-process handler: connection refused", sent=False,
                                            request=request) from None
        except ConnectionResetError:
            raise _InProcessConnectionError("in-process handler: connection reset after the request was sent",
                                            sent=True, request=request) from None
        except TimeoutError:
            raise _InProcessConnectionError("in-process handler: no answer (timed out)", sent=True,
                                            request=request) from None
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(content)
        response._content = content
        response.encoding = get_encoding_from_headers(response.headers)
        try:
            response.reason = HTTPStatus(status).phrase
        except ValueError:
            response.reason = ""
        response.url = url
        response.request = request
        return response

    def close(self) -> None:
        pass


def _as_bytes(body: Any) -> Iterator[bytes]:
    for chunk in body:
        yield chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


# --- the transport ----------------------------------------------------------------------------------

class Transport:
    """A ``requests.Session`` bound to one Moodle site's REST endpoint.

    Args:
        base_url: the site's address; checked by :func:`normalise_base_url`.
        timeout: seconds to wait for an answer (Moodle lets a call run 360 s).
        connect_timeout: seconds to wait for the TCP/TLS connection.
        allow_http: allow plain ``http://`` to a non-loopback host.
        verify: TLS verification: True, False, or the path of a CA bundle.
        pool_size: connections kept per host (the client may call from a thread pool).
    """

    def __init__(self, base_url: str, *, timeout: float = 120.0, connect_timeout: float = 10.0,
                 allow_http: bool = False, verify: bool | str = True, pool_size: int = 8) -> None:
        self._base_url = normalise_base_url(base_url, allow_http=allow_http)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._session = requests.Session()
        # no urllib3 retries: a re-sent write could be applied twice; the client decides
        adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size,
                                                max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        # the environment's proxy (HTTPS_PROXY, NO_PROXY…) and CA bundle (REQUESTS_CA_BUNDLE) for this one endpoint,
        # read once: requests would read the whole environment again on every call (twice: about half a
        # millisecond each, a tenth of a pull's own time per call against a fast site)
        settings = self._session.merge_environment_settings(self.endpoint, {}, None, verify, None)
        self._proxies: MutableMapping[str, str] = settings["proxies"]
        self._verify: bool | str = True if settings["verify"] is None else settings["verify"]
        self._session.trust_env = False

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def endpoint(self) -> str:
        return f"{self._base_url}{REST_PATH}"

    def mount(self, handler: InProcessHandler) -> None:
        """Route every request of this transport to ``handler`` (e.g. the emulator), in-process.

        The request still goes through ``requests`` (encoding, headers, response parsing); only the
        socket is replaced.
        """
        adapter = _InProcessAdapter(handler)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def post_form(self, pairs: list[tuple[str, str]]) -> HttpAnswer:
        """POST ``pairs`` form-encoded to the REST endpoint (nothing goes in the URL).

        Raises:
            TransportError: no HTTP answer came back; ``sent`` is False only when the request
                certainly never reached the server.
        """
        try:
            # the form encoded here as requests would (UTF-8, quote_plus), once: requests' own encoding checks each
            # value against typing protocols, the slowest part of a call after the socket
            body = urlencode([(k.encode("utf-8"), v.encode("utf-8")) for k, v in pairs])  # ASCII: as requests sends it
            response = self._session.post(self.endpoint, data=body, headers=FORM, timeout=(self.connect_timeout,
                                                                                          self.timeout),
                                          verify=self._verify, proxies=self._proxies, allow_redirects=False)
        except requests.RequestException as e:
            raise self._transport_error(e) from e
        return HttpAnswer(status=response.status_code, headers=CaseInsensitiveDict(response.headers),
                          text=_decode(response.content, response.headers.get("Content-Type", "")))

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Transport({self._base_url!r})"

    def _transport_error(self, e: requests.RequestException) -> TransportError:
        # never str(e.request.body): the body holds the token
        sent, transient, reason = _classify(e, connect_timeout=self.connect_timeout, timeout=self.timeout)
        hint = ""
        if not transient and isinstance(e, requests.exceptions.SSLError):
            hint = "the server's TLS certificate was not accepted; fix it or point verify_tls at a CA bundle"
        elif not sent:
            hint = "check the URL and that the site is up; nothing was sent, so retrying is safe"
        err = TransportError(f"{reason} ({self.endpoint})", sent=sent, hint=hint)
        setattr(err, "transient", transient)  # noqa: B010 - read back by the client's retry rule
        return err


def _decode(content: bytes, content_type: str) -> str:
    # Moodle sends "application/json" without a charset: that is UTF-8, whatever requests guesses
    charset = "utf-8"
    if "charset=" in content_type.lower():
        charset = get_encoding_from_headers({"content-type": content_type}) or "utf-8"
    try:
        return content.decode(charset, errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")


def _chain(e: BaseException) -> Iterator[BaseException]:
    """``e`` and every exception it wraps (args, urllib3 ``reason``, cause and context)."""
    seen: set[int] = set()
    todo: list[BaseException] = [e]
    while todo:
        cur = todo.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        inner: list[Any] = [*cur.args, getattr(cur, "reason", None), cur.__cause__, cur.__context__]
        todo.extend(x for x in inner if isinstance(x, BaseException))


def _classify(e: requests.RequestException, *, connect_timeout: float, timeout: float) -> tuple[bool, bool, str]:
    """``(sent, transient, reason)`` for a ``requests`` failure.

    ``sent`` is False only when the request certainly never reached the server: the connection
    was refused, the name did not resolve, the connect (or proxy connect) timed out, or the TLS
    handshake failed verification. Everything after the connection was up is ``sent=True``: the
    server may have read the request and acted on it.
    """
    if isinstance(e, _InProcessConnectionError):
        return e.sent, True, str(e.args[0])
    if isinstance(e, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema
                  | requests.exceptions.MissingSchema | requests.exceptions.InvalidHeader):
        return False, False, f"invalid request ({type(e).__name__})"
    chain = list(_chain(e))
    if isinstance(e, requests.exceptions.SSLError):
        if any(isinstance(x, ssl.SSLCertVerificationError | ssl.CertificateError) for x in chain):
            return False, False, "TLS certificate verification failed"
        return True, True, f"TLS error: {_short(chain[-1])}"
    if isinstance(e, requests.ConnectTimeout):
        return False, True, f"could not connect within {connect_timeout:g}s (timed out)"
    if isinstance(e, requests.exceptions.ProxyError):
        return False, True, "could not connect through the proxy"
    if isinstance(e, requests.ReadTimeout):
        return True, True, f"timed out: no answer within {timeout:g}s"
    if isinstance(e, requests.ConnectionError):
        if any(isinstance(x, socket.gaierror | urllib3.exceptions.NameResolutionError) for x in chain):
            return False, True, "the host name does not resolve (DNS)"
        if any(isinstance(x, urllib3.exceptions.NewConnectionError) for x in chain):
            if any(isinstance(x, ConnectionRefusedError) for x in chain):
                return False, True, "connection refused"
            return False, True, "could not connect"
        if any(isinstance(x, http.client.RemoteDisconnected) for x in chain):
            return True, True, "the server closed the connection without answering, after the request was sent"
        if any(isinstance(x, ConnectionResetError) for x in chain):
            return True, True, "connection reset by the server after the request was sent"
        return True, True, f"connection lost after the request was sent ({_short(chain[-1])})"
    if isinstance(e, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return True, True, "the answer was cut off or garbled"
    if isinstance(e, requests.Timeout):
        return True, True, "timed out"
    return True, True, f"request failed ({type(e).__name__})"


def _short(e: BaseException) -> str:
    text = redact(str(e)).split("\n")[0]
    text = text if len(text) <= 200 else text[:200] + "…"
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
