"""Logging to a daily-rotated file in the user's log directory; never to stdout."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from chmocoder.paths import default_log_dir

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class PrivateFileHandler(logging.handlers.TimedRotatingFileHandler):
    """The log may hold prompts (logPrompts): every file it writes is 0600."""

    def _open(self):  # type: ignore[no-untyped-def]
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream


def setup_logging(level: str = "info", directory: Path | None = None) -> Path | None:
    """Log to DIR/chmocoder.log (rotated at midnight, 30 days kept). Returns the file, if any."""
    root = logging.getLogger("chmocoder")
    root.setLevel(level.upper())
    directory = directory or default_log_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if directory.stat().st_uid == os.getuid():
            directory.chmod(0o700)  # also a folder made before this rule (was 0755)
        path = directory / "chmocoder.log"
        handler: logging.Handler = PrivateFileHandler(
            path, when="midnight", backupCount=30, encoding="utf-8"
        )
        for old in directory.glob("chmocoder.log*"):
            if old.stat().st_uid == os.getuid():
                old.chmod(0o600)
    except OSError:
        path = None
        handler = logging.StreamHandler()  # stderr: the log directory is not writable
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    # pygls's own warnings go to the same file, not (through logging's last resort) to
    # stderr; a request it cannot read is logged by us in one line, without its traceback
    library = logging.getLogger("pygls")
    library.setLevel(logging.WARNING)
    library.propagate = False
    library.addHandler(handler)
    library.addFilter(_without_unreadable)
    return path


def _without_unreadable(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("Unable to deserialize message")
