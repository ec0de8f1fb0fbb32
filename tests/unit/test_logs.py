"""The log can hold prompts (logPrompts): its folder is 0700 and its files 0600."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from chmocoder.logs import setup_logging


def test_log_folder_and_files_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "state" / "log"
    folder.mkdir(parents=True, mode=0o755)  # made before this rule, world-readable
    old = folder / "chmocoder.log.2026-11-01"
    old.write_text("old prompts\n")
    old.chmod(0o644)
    root = logging.getLogger("chmocoder")
    before = list(root.handlers)
    try:
        path = setup_logging("info", folder)
        assert path is not None
        logging.getLogger("chmocoder.test").warning("a prompt")
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert oct(old.stat().st_mode & 0o777) == "0o600"
        handler = next(h for h in root.handlers if h not in before)
        handler.doRollover()  # type: ignore[attr-defined]
        for file in folder.iterdir():
            assert oct(file.stat().st_mode & 0o777) == "0o600", file
        assert os.stat(path).st_uid == os.getuid()
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()
