"""`chmocoder fix --apply`: writing a verified edit into the user's file without losing anything.

- The backup is a new file (FILE.orig, else FILE.orig.1, ...), created exclusively and never
  through a symbolic link, so it cannot overwrite anything.
- The file is read again just before writing: if it changed while the model worked, the edit
  is re-anchored when its target's text is still there exactly once, else refused.
- A symbolic link is written through (its target changes, the link stays); the file keeps
  its mode, owner and group; a file with other hard links is rewritten in place (so every
  link sees the change), any other file is replaced atomically.
- A read-only file or folder is refused with a message, never a traceback.
- Two runs on one file at once take turns: the file is locked (an advisory lock, held from
  the re-read to the replace, and taken again if the file was replaced while waiting), so
  the second sees the first's result and re-anchors onto it or refuses; what a run reports
  as applied is in the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chmocoder.analysis.document import Document
from chmocoder.assist.edits import apply, verify
from chmocoder.assist.results import Edit

EXIT_NOT_APPLIED = 4
"""`fix --apply` found a fix but could not write it (file changed, read-only, ...)."""


class ApplyError(Exception):
    """The fix was not written; the message says why and what to do."""


@dataclass(frozen=True)
class Applied:
    path: Path
    backup: Path
    reanchored: bool


def write_backup(path: Path, data: bytes) -> Path:
    """FILE.orig (or the first free FILE.orig.N): created exclusively, never through a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    mode = stat.S_IMODE(path.stat().st_mode) & 0o666 or 0o600
    for n in range(1000):
        backup = path.with_name(path.name + (".orig" if n == 0 else f".orig.{n}"))
        try:
            fd = os.open(backup, flags, mode)
        except FileExistsError:
            continue  # an older backup, or a link someone planted: leave it, take the next name
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return backup
    raise ApplyError(f"{path}: no free backup name (.orig … .orig.999)")


def reanchor(doc: Document, edit: Edit, current: bytes) -> Edit | None:
    """The edit moved onto the file as it is now, if its target's text is there exactly once
    (and the result still verifies); None if it cannot be placed with certainty."""
    target = doc.source[edit.start : edit.end]
    at = current.find(target)
    if at < 0 or current.find(target, at + 1) >= 0:
        return None
    moved = Edit(at, at + len(target), edit.new_text)
    now = Document(doc.uri, current, language=doc.language)
    # the edit's risky calls, if any, were allowed when it was first verified
    return moved if verify(now, moved, allow_risky=True) is None else None


@contextlib.contextmanager
def locked(path: Path) -> Iterator[tuple[bytes, os.stat_result]]:
    """The file's bytes and status, read under an exclusive lock held until the block ends.
    A file replaced while we waited (another run's rename) is opened and locked again."""
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise ApplyError(
                f"{path}: cannot read it again before writing: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            info = os.fstat(fd)
            with contextlib.suppress(FileNotFoundError):
                now = os.stat(path)
                if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
                    continue  # replaced while we waited: lock what is there now
            if not stat.S_ISREG(info.st_mode):
                raise ApplyError(f"{path} is not a regular file: nothing written")
            os.set_blocking(fd, True)
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            yield b"".join(chunks), info
            return
        finally:
            os.close(fd)  # releases the lock


def apply_fix(path: Path, doc: Document, edit: Edit) -> Applied:
    """Write the edit into the file (see the module's rules). Raises ApplyError."""
    real = path.resolve()  # a symbolic link is written through, and stays a link
    with locked(real) as (current, info):
        return _apply_locked(path, real, doc, edit, current, info)


def _apply_locked(
    path: Path, real: Path, doc: Document, edit: Edit, current: bytes, info: os.stat_result
) -> Applied:
    reanchored = False
    if current != doc.source:
        moved = reanchor(doc, edit, current)
        if moved is None:
            raise ApplyError(
                f"{path} changed while the model was working and the fixed code is no longer "
                "where it was: nothing written; run the fix again"
            )
        doc = Document(doc.uri, current, language=doc.language)
        edit, reanchored = moved, True
    if not os.access(real, os.W_OK) or not info.st_mode & stat.S_IWUSR:
        raise ApplyError(f"{path} is read-only: nothing written (make it writable to apply)")
    if not os.access(real.parent, os.W_OK):
        raise ApplyError(
            f"the folder of {path} is not writable, so no backup can be made: nothing written"
        )
    patched = apply(doc, edit)
    try:
        backup = write_backup(real, current)
    except OSError as exc:
        raise ApplyError(f"{path}: cannot write a backup: {exc.strerror}") from None
    try:
        foreign = (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()) and os.getuid() != 0
        if info.st_nlink > 1 or foreign:  # every link sees it; the owner stays who it was
            _rewrite_in_place(real, patched)
        else:
            _replace(real, patched, info)
    except OSError as exc:
        raise ApplyError(
            f"{path}: cannot write it: {exc.strerror}; the old text is in {backup}"
        ) from None
    return Applied(path, backup, reanchored)


def _rewrite_in_place(path: Path, data: bytes) -> None:
    with path.open("r+b") as f:
        f.write(data)
        f.truncate()
        f.flush()
        os.fsync(f.fileno())


def _replace(path: Path, data: bytes, info: os.stat_result) -> None:
    temp = path.with_name(f".{path.name}.chmocoder-{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            os.chown(temp, info.st_uid, info.st_gid)  # root, giving the file back to its owner
        os.chmod(temp, stat.S_IMODE(info.st_mode))
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
