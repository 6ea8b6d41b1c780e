"""The one batch sender: every write the tool makes goes through :func:`send_bisecting`.

Moodle validates every item of a call before it writes any (``validate_parameters``), and its creates run in
one transaction: a call it refuses names no bad item and wrote nothing, so the batch is split (in halves, or
one item per call where a refused call leaves something behind, such as password e-mails) until the refused
item is alone and named; the good ones are applied. A write whose answer is not Moodle's own JSON has an
unknown outcome (:class:`~moodle_sync.errors.WriteOutcomeUnknown`): it is handed to ``on_unknown``, which
settles it by reading Moodle (:func:`moodle_sync.writing.settle.settle`) and never re-sends a write that is not
idempotent. Errors no smaller batch can fix (:data:`FATAL`) stop the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from moodle_sync.errors import (
    AuthError,
    MoodleApiError,
    MoodleError,
    MoodleUnavailable,
    PermissionDenied,
    WriteOutcomeUnknown,
)

#: errors that no smaller batch can fix: stop the run
FATAL = (AuthError, PermissionDenied, MoodleUnavailable)

T = TypeVar("T")
R = TypeVar("R")


def halves(batch: Sequence[T]) -> list[Sequence[T]]:
    mid = len(batch) // 2
    return [batch[:mid], batch[mid:]]


def one_by_one(batch: Sequence[T]) -> list[Sequence[T]]:
    return [[item] for item in batch]


def refused_by_moodle(batch: Sequence[object], error: MoodleError) -> bool:
    """The default rule for splitting: Moodle itself refused a call of more than one item."""
    return len(batch) > 1 and isinstance(error, MoodleApiError)


def send_bisecting(batch: Sequence[T], send: Callable[[Sequence[T]], R], *,
                   on_sent: Callable[[Sequence[T], R], None],
                   on_refused: Callable[[Sequence[T], MoodleError], None],
                   on_unknown: Callable[[Sequence[T], WriteOutcomeUnknown], None],
                   split: Callable[[Sequence[T], MoodleError], bool] = refused_by_moodle,
                   pieces: Callable[[Sequence[T]], list[Sequence[T]]] = halves,
                   on_split: Callable[[Sequence[T], MoodleError], None] | None = None,
                   catch: tuple[type[MoodleError], ...] = (MoodleError,)) -> None:
    """Send ``batch`` with ``send``; split a refused one until the refused items are named.

    Args:
        batch: the items of one call (already within Moodle's size limits).
        send: makes the call; its answer goes to ``on_sent``.
        on_sent: the call was answered (a partial answer's warnings are the caller's to read).
        on_refused: a call that is not split further was refused: its items failed with the error.
        on_unknown: the answer was lost: settle it by reading Moodle (or, for an idempotent write, send again).
        split: whether a refused call is split (default: Moodle refused a call of more than one item).
        pieces: how it is split (default :func:`halves`; :func:`one_by_one` when a refusal leaves traces).
        on_split: told before a refused call is split (to say so).
        catch: the errors that count as a refusal of the call (others propagate).

    Raises:
        AuthError, PermissionDenied, MoodleUnavailable: no smaller batch would get through; the run stops.
    """
    if not batch:
        return
    try:
        answer = send(batch)
    except WriteOutcomeUnknown as e:
        on_unknown(batch, e)
        return
    except FATAL:
        raise
    except catch as e:
        if not split(batch, e):
            on_refused(batch, e)
            return
        if on_split is not None:
            on_split(batch, e)
        for piece in pieces(batch):
            send_bisecting(piece, send, on_sent=on_sent, on_refused=on_refused, on_unknown=on_unknown,
                           split=split, pieces=pieces, on_split=on_split, catch=catch)
        return
    on_sent(batch, answer)
