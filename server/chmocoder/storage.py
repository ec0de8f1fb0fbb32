"""SQLite files that are nice to have (conversation history, statistics): a damaged one is
moved aside and made anew, an unwritable one turns the feature off with one warning. No
answer ever fails because of them."""

from __future__ import annotations

import errno
import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

_warned: set[str] = set()


def _warn_once(key: str, message: str, *args: object) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message, *args)


def write_failed(what: str, path: Path, exc: BaseException) -> None:
    """Say that a store (the result cache, statistics, history, an answer file) could not be
    written: once per store and place, and a full disk once a run, whichever store meets it
    first (every store would say it again on every answer)."""
    if disk_full(exc):
        _warn_once(
            "disk-full",
            "the disk is full (%s %s): answers are still given, but nothing is cached or "
            "recorded until there is room",
            what,
            path,
        )
    else:
        _warn_once(
            f"{what}:{path}", "%s %s cannot be written (%s): going on without it", what, path, exc
        )


def disk_full(exc: BaseException) -> bool:
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "disk is full" in text or "no space left" in text or "quota exceeded" in text


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=5)


def prepare(path: Path, schema: Sequence[str]) -> bool:
    """Create or check the database; True if it can be used. A damaged file is kept beside
    it (named in the warning) and a new one made; a folder or file that cannot be written
    gives False."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _warn_once(str(path), "%s cannot be created (%s): working without it", path, exc.strerror)
        return False
    for attempt in range(2):
        try:
            with connect(path) as db:
                if path.exists() and path.stat().st_size:
                    db.execute("PRAGMA quick_check").fetchone()
                for statement in schema:
                    db.execute(statement)
            path.chmod(0o600)
            return True
        except sqlite3.DatabaseError as exc:
            if attempt or (isinstance(exc, sqlite3.OperationalError) and not _damaged(exc)):
                write_failed("database", path, exc)
                return False
            aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                path.rename(aside)
            except OSError as move:
                _warn_once(str(path), "%s is damaged and cannot be moved aside (%s)", path, move)
                return False
            log.warning("%s was damaged (%s): kept as %s, starting a new one", path, exc, aside)
        except OSError as exc:
            write_failed("database", path, exc)
            return False
    return False


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text
