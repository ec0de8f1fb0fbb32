"""Reading a source file from disk the one safe way, for the command line and the workspace
index: regular files only (a FIFO, device or socket could block for ever or never end),
never more than a bound, and files with a NUL byte anywhere told apart as binary."""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_SOURCE_BYTES = 16 * 2**20
"""What the command line reads at most (files over 4 MiB get plain-text context anyway)."""

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotASource(OSError):
    """The path is there but is no source file to read: its message says why, `reason` in
    a few words ("binary", "over 1000 KB (1100 KB)", "a FIFO (named pipe)")."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def read_source_file(path: Path, limit: int = MAX_SOURCE_BYTES) -> bytes:
    """The file's bytes. Raises NotASource (not a regular file, over `limit` bytes, binary)
    or OSError (missing, unreadable). Opening never waits (a FIFO without a writer)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "no regular file")
            raise NotASource(f"{path} is {kind}, not a file", kind)
        if info.st_size > limit:
            over = f"over {_size(limit)} ({_size(info.st_size)})"
            raise NotASource(f"{path} is {over}", over)
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit and (chunk := os.read(fd, min(1 << 20, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:  # it grew while we read
        raise NotASource(f"{path} is over {_size(limit)}", f"over {_size(limit)}")
    data = b"".join(chunks)
    if b"\0" in data:
        raise NotASource(f"{path} looks like a binary file (it has NUL bytes)", "binary")
    return data


def _size(n: int) -> str:
    return f"{n // 1000} KB" if n < 10_000_000 else f"{n / 1e6:.0f} MB"
