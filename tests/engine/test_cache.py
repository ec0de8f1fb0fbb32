"""The on-disk result cache."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from chmocoder.engine.cache import ResultCache, cache_key
from chmocoder.engine.types import ChatMessage, GenerationParams, GenerationResult


def _result(text: str) -> GenerationResult:
    return GenerationResult(text=text, finish_reason="stop")


def test_survives_a_restart_and_files_are_private(tmp_path: Path) -> None:
    key = cache_key("m", "llama-cpp", "explain", "prompt", GenerationParams())
    ResultCache(tmp_path).put(key, _result("answer"))
    reopened = ResultCache(tmp_path)
    hit = reopened.get(key)
    assert hit is not None and hit.text == "answer" and hit.cached
    files = list(tmp_path.glob("*/*.msgpack"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*/.tmp-*"))


@pytest.mark.parametrize(
    "change",
    [
        {"model": "other"},
        {"runtime": "ctransformers"},
        {"task": "review"},
        {"prompt": "prompt "},
        {"params": GenerationParams(temperature=0.3)},
        {"prompt": [ChatMessage(role="user", content="prompt")]},
    ],
)
def test_key_covers_everything_that_changes_the_answer(change: dict) -> None:
    base = {
        "model": "m",
        "runtime": "llama-cpp",
        "task": "explain",
        "prompt": "prompt",
        "params": GenerationParams(),
    }
    assert cache_key(**base) != cache_key(**{**base, **change})


def test_scoring_requests_share_a_key_across_tasks() -> None:
    """The odds of a text do not depend on the task that asks: a review's odds of a
    definition serve the fix of it. A generation's answer stays the task's own."""
    scoring = GenerationParams(score_from=3)
    assert cache_key("m", "r", "review", "p", scoring) == cache_key("m", "r", "fix", "p", scoring)
    assert cache_key("m", "r", "review", "p", scoring) != cache_key(
        "m", "r", "review", "p", GenerationParams(score_from=4)
    )
    plain = GenerationParams()
    assert cache_key("m", "r", "review", "p", plain) != cache_key("m", "r", "fix", "p", plain)


@pytest.mark.parametrize("garbage", [b"", b"\xc1\xc1 not msgpack", b"\x93\x01\x02\x03"])
def test_corrupted_entry_is_discarded(
    tmp_path: Path, garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ResultCache(tmp_path)
    key = cache_key("m", "r", "t", "p", GenerationParams())
    cache.put(key, _result("x"))
    path = next(tmp_path.glob("*/*.msgpack"))
    path.write_bytes(garbage)
    assert cache.get(key) is None
    assert not path.exists()
    assert "discarding" in caplog.text


def test_foreign_entry_under_a_key_is_discarded(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    a = cache_key("m", "r", "t", "a", GenerationParams())
    b = cache_key("m", "r", "t", "b", GenerationParams())
    cache.put(a, _result("for a"))
    a_path = next(tmp_path.glob("*/*.msgpack"))
    b_path = tmp_path / b[:2] / f"{b}.msgpack"
    b_path.parent.mkdir(exist_ok=True)
    b_path.write_bytes(a_path.read_bytes())  # a's entry filed under b's key
    assert cache.get(b) is None and not b_path.exists()
    assert cache.get(a) is not None


def test_least_recently_used_entries_go_first(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, max_bytes=3000)
    keys = [cache_key("m", "r", "t", f"p{i}", GenerationParams()) for i in range(12)]
    for i, key in enumerate(keys):
        cache.put(key, _result("x" * 400))
        if i >= 1:
            cache.get(keys[0])  # keep the first one in use
    assert cache.size() <= 3000
    assert cache.get(keys[0]) is not None
    assert cache.get(keys[1]) is None
    assert cache.get(keys[-1]) is not None


def test_unwritable_directory_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = ResultCache(blocker / "results")
    cache.put(cache_key("m", "r", "t", "p", GenerationParams()), _result("x"))
    assert "result cache" in caplog.text and "cannot be written" in caplog.text


def test_recent_answers_are_served_from_memory(tmp_path: Path) -> None:
    """Read once from disk, then from memory (the file is not read again); discard forgets
    both."""
    cache = ResultCache(tmp_path)
    key = cache_key("m", "r", "t", "p", GenerationParams())
    cache.put(key, _result("answer"))
    first = cache.get(key)
    path = next(tmp_path.glob("*/*.msgpack"))
    path.write_bytes(b"garbage that a file read would discard")
    again = cache.get(key)
    assert first is not None and again is first and again.cached
    assert path.read_bytes().startswith(b"garbage")
    cache.discard(key)
    assert cache.get(key) is None and not path.exists()
