"""A run that writes to Moodle, recorded in the state store from start to end, whatever ends it.

The record is closed on every way out: done, partial, failed, or interrupted (Ctrl-C, a kill the
process sees, a bug). A run stopped by an error after some of its writes reached Moodle has done part
of its work: that is an :class:`ApplyError` with ``partial`` set (exit code 3, "run it again"), never an
error that reads as if nothing had been sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moodle_sync.errors import ApplyError, MoodleSyncError
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.store.db import StateStore

#: whether a recorded run of this process has written to Moodle: a Ctrl-C then ends the command with exit 3,
#: "run it again", whatever moment it comes at
_wrote = False


def wrote_in_this_process() -> bool:
    """Whether any recorded run of this command wrote to Moodle (or may have: an answer was lost)."""
    return _wrote


def new_command() -> None:
    """A command starts: nothing of it has written yet (the CLI's main calls it; tests run many in a process)."""
    global _wrote
    _wrote = False


class Run:
    """One recorded run: its id, and whether its writes reached Moodle."""

    def __init__(self, store: StateStore, api: MoodleApi, run_id: int) -> None:
        self.store = store
        self.api = api
        self.id = run_id
        self._writes_before = api.client.stats.writes_reached
        self.closed = False

    @property
    def wrote(self) -> bool:
        """Whether any write of this run reached Moodle (or may have: its answer was lost)."""
        return self.api.client.stats.writes_reached > self._writes_before

    def finish(self, status: str, summary: dict[str, Any] | None = None) -> None:
        self.store.finish_run(self.id, status, summary)
        self.closed = True


@contextmanager
def recorded_run(store: StateStore, api: MoodleApi, command: str, *, what: str, specs_commit: str | None = None,
                 specs_dirty: bool | None = None, spec_digest: str | None = None,
                 plan: dict[str, Any] | None = None) -> Iterator[Run]:
    """Start a run record, yield it, and close it on every way out (see the module docstring).

    Args:
        what: the run as people call it ("apply", "roster import"), for messages.

    Raises:
        ApplyError: ``partial`` when an error stopped the run after some of its writes reached Moodle.
    """
    run = Run(store, api, store.start_run(command, specs_commit=specs_commit, specs_dirty=specs_dirty,
                                          spec_digest=spec_digest, plan=plan))
    try:
        yield run
    except ApplyError as e:
        if run.wrote:
            e.partial = True
        if not run.closed:
            run.finish("partial" if e.partial else "failed", {"error": str(e)})
        raise
    except MoodleSyncError as e:
        wrote = run.wrote
        if not run.closed:
            run.finish("partial" if wrote else "failed", {"error": str(e)})
        if wrote:
            reason = str(e).split("\n  hint:")[0]
            raise ApplyError(f"{what} stopped part-way, after part of its work was written to Moodle: {reason}",
                             partial=True, hint=f"fix the cause, then run the same {what} again: it re-reads "
                                                f"Moodle and converges without duplicates") from e
        raise
    except BaseException as e:  # Ctrl-C, SystemExit from a signal handler, a bug: never left "running"
        if not run.closed:
            status = "failed" if isinstance(e, Exception) else "interrupted"
            run.finish(status, {"error": f"{type(e).__name__}: {e}"})
        raise
    finally:
        global _wrote
        _wrote = _wrote or run.wrote
    if not run.closed:
        run.finish("done")
