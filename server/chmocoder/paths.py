"""Where ChMOCoder keeps its files for this user (platformdirs; no pydantic, so logging can
start before the settings are read)."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("chmocoder", appauthor=False))


def default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir("chmocoder", appauthor=False))
