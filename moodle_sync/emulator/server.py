"""The emulator on loopback HTTP: a ThreadingHTTPServer whose handler only calls Emulator.handle().

"lost", "refuse" and "crash" faults close the connection without an answer, as a dropped
connection or a dead proxy would look to the client.
"""

from __future__ import annotations

import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from moodle_sync.emulator.emulator import Emulator
from moodle_sync.emulator.faults import SimulatedCrash

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _handler_for(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "Apache"
        sys_version = ""

        def setup(self) -> None:
            super().setup()
            # headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms a call
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            try:
                status, headers, payload = emulator.handle(self.command, self.path, dict(self.headers.items()), body)
            except (ConnectionResetError, ConnectionRefusedError, SimulatedCrash):
                self.close_connection = True  # no answer at all: the socket just closes
                return
            except Exception:  # an emulator bug must not look like a network fault
                status, headers, payload = 500, {"Content-Type": "text/plain"}, traceback.format_exc().encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve  # noqa: N815 - http.server's naming

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature from the base class
            pass  # quiet: tests and the demo print their own progress

    return Handler


#: how often a background server looks whether close() asked it to stop (socketserver's default, 0.5 s, made every
#: close wait up to half a second: a test that starts and stops a site waited that long each time)
STOP_POLL = 0.02


class ServerHandle:
    """A running loopback server; ``url`` is the site's base URL. Use as a context manager or call close()."""

    def __init__(self, server: ThreadingHTTPServer, thread: threading.Thread | None, url: str) -> None:
        self._server = server
        self._thread = thread
        self.url = url
        self.port: int = server.server_address[1]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # a client that hangs up (timeouts, faults) is normal here; anything else is worth a traceback
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Server6(_Server):
    address_family = socket.AF_INET6


def _make_server(emulator: Emulator, host: str, port: int) -> tuple[ThreadingHTTPServer, str]:
    if host not in LOOPBACK:
        raise ValueError(f"the emulator serves loopback only (127.0.0.1, localhost, ::1), not {host!r}")
    server = (_Server6 if ":" in host else _Server)((host, port), _handler_for(emulator))
    shown = f"[{host}]" if ":" in host else host
    return server, f"http://{shown}:{server.server_address[1]}"


def serve(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve ``emulator`` on a background thread (port 0: any free port)."""
    server, url = _make_server(emulator, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": STOP_POLL},
                              name=f"moodle-emulator-{server.server_address[1]}", daemon=True)
    thread.start()
    return ServerHandle(server, thread, url)


def run_server(port: int, token: str, host: str = "127.0.0.1", emulator: Emulator | None = None) -> None:
    """Serve ``emulator`` (default: a fresh one whose site-admin token is ``token``) until interrupted (blocking)."""
    server, _ = _make_server(emulator or Emulator(token=token), host, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
