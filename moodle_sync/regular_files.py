"""Open a file only when it is a regular file: a FIFO, a device, a socket or a directory is named, never read.

Opening a FIFO to read it waits for a writer, forever, and a device (``/dev/zero``, a terminal) never ends or
waits for input. :func:`open_regular` looks at the path before it opens anything, so nothing but a regular
file is ever opened; it opens without blocking (``O_NONBLOCK``: a FIFO swapped in meanwhile cannot make it
wait) and, when asked, without following a symbolic link in the last part of the path (``O_NOFOLLOW``); then
it looks again at what it opened, so a file swapped in between is caught too. Rosters and spec files are read
through it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["NotRegularFile", "file_kind", "open_regular"]


class NotRegularFile(Exception):  # noqa: N818 - internal: each reader words it for its own error
    """The path is not a regular file; ``kind`` says what it is ("a named pipe (FIFO)", "a directory" …)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def file_kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is, in words, when it is not a regular file; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISLNK, "a symbolic link"))
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def open_regular(path: Path, *, follow_links: bool = True) -> tuple[BinaryIO, os.stat_result]:
    """Open the regular file at ``path`` to read bytes; return it and its status (``st_nlink`` …).

    Raises:
        NotRegularFile: ``path`` is something else (checked before it is opened, and again once open).
        OSError: as ``os.stat`` and ``os.open`` raise it (no such file, no permission; ``ELOOP`` when
            ``follow_links`` is False and the last part of ``path`` is a symbolic link).
    """
    if (kind := file_kind(os.stat(path, follow_symlinks=follow_links).st_mode)) is not None:
        raise NotRegularFile(kind)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        status = os.fstat(fd)
        if (kind := file_kind(status.st_mode)) is not None:
            raise NotRegularFile(kind)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return file, status
