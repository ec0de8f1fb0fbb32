"""Logging to a daily-rotated file in the user's log directory; never to stdout."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from chmocoder.config import default_log_dir

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "info", directory: Path | None = None) -> Path | None:
    """Log to DIR/chmocoder.log (rotated at midnight, 30 days kept). Returns the file, if any."""
    root = logging.getLogger("chmocoder")
    root.setLevel(level.upper())
    directory = directory or default_log_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "chmocoder.log"
        handler: logging.Handler = logging.handlers.TimedRotatingFileHandler(
            path, when="midnight", backupCount=30, encoding="utf-8"
        )
    except OSError:
        path = None
        handler = logging.StreamHandler()  # stderr: the log directory is not writable
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return path
