"""History and statistics are optional to every answer: damaged databases are moved aside
and made anew, unwritable folders turn them off, reading creates nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chmocoder.assist.history import History
from chmocoder.engine.engine import CallRecord
from chmocoder.engine.stats import StatsStore

REPO = Path(__file__).resolve().parents[2]


def record(task: str = "explain") -> CallRecord:
    return CallRecord(task, "m", "llama-cpp", 10, 5, 1.0, 2.0, 3.0, 40.0, False, False)


@pytest.mark.parametrize("damage", [b"garbage " * 100, b"SQLite format 3\x00" + b"\x07" * 5000])
def test_a_damaged_history_is_kept_aside_and_made_anew(tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(damage)
    history = History(path, ttl_hours=1)
    assert history.turns("doc") == []
    history.add("doc", "why?", "because.")
    assert history.turns("doc") == [("why?", "because.")]
    kept = list(tmp_path.glob("history.sqlite3.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damage


def test_a_damaged_statistics_file_is_kept_aside_and_made_anew(tmp_path: Path) -> None:
    path = tmp_path / "stats.sqlite3"
    path.write_bytes(b"\x00not sqlite\x00" * 300)
    stats = StatsStore(path)
    stats.record(record())
    stats.flush()
    assert [s.task for s in stats.summary()] == ["explain"]
    assert len(list(tmp_path.glob("stats.sqlite3.damaged-*"))) == 1


def test_reading_statistics_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent" / "x" / "y"
    assert StatsStore(missing / "stats.sqlite3", create=False).summary() == []
    assert not (tmp_path / "nonexistent").exists()
    env = {**os.environ, "CHMOCODER_CACHE_DIR": str(missing)}
    result = subprocess.run(
        [sys.executable, "-m", "chmocoder", "stats"], capture_output=True, text=True, env=env,
        cwd=REPO, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and "no model calls" in result.stdout
    assert not (tmp_path / "nonexistent").exists()


def test_an_unwritable_folder_turns_them_off_quietly(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    history = History(blocked / "history.sqlite3", ttl_hours=1)
    history.add("doc", "q", "a")
    assert history.turns("doc") == [] and history.clear() == 0
    stats = StatsStore(blocked / "stats.sqlite3")
    stats.record(record())
    stats.flush()
    assert stats.summary() == []
