"""What people read goes to stderr; with ``--json`` stdout carries exactly one JSON document.

A Console is passed in, never global. Progress lines appear only when stderr is a terminal (or when
asked), so logs of scheduled runs stay readable.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from moodle_sync.i18n import _


class Console:
    def __init__(self, *, json_mode: bool = False, quiet: bool = False, progress: bool | None = None,
                 err: TextIO | None = None, out: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.err = err or sys.stderr
        self.out = out or sys.stdout
        self.show_progress = (self.err.isatty() if progress is None else progress) and not quiet
        self._last = 0.0
        self._dirty = False

    def say(self, text: str = "") -> None:
        """A line for people (stderr)."""
        if self.quiet:
            return
        self._clear()
        print(text, file=self.err, flush=True)

    def warn(self, text: str) -> None:
        self._clear()
        print(_("Warning: {text}").format(text=text), file=self.err, flush=True)

    def error(self, text: str) -> None:
        self._clear()
        print(_("Error: {text}").format(text=text), file=self.err, flush=True)

    def progress(self, text: str) -> None:
        """A transient status line, rate-limited, overwritten in place on a terminal."""
        if not self.show_progress:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        print(f"\r\033[K{text[:120]}", end="", file=self.err, flush=True)
        self._dirty = True

    def _clear(self) -> None:
        if self._dirty:
            print("\r\033[K", end="", file=self.err, flush=True)
            self._dirty = False

    def result(self, document: Any, human: str | None = None) -> None:
        """The command's result: one JSON document on stdout with --json, else text for people."""
        self._clear()
        if self.json_mode:
            print(json.dumps(document, ensure_ascii=False, indent=2), file=self.out, flush=True)
        elif human is not None:
            print(human, file=self.out, flush=True)
