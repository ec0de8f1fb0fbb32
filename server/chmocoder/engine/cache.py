"""The result cache: finished generations on disk, so a repeated request costs a file read.

Key: model fingerprint + runtime + task + prompt + generation parameters; a scoring request
(`score_from`) leaves the task out: the odds of a text are the same whichever task asks.
One msgpack file per entry, written atomically (temp file + rename) with mode
0600; least recently used entries go first when the cache is over its size. A
corrupted or foreign file is deleted with a log line. Survives restarts. The most
recent entries are also kept in memory (a hover after an edit elsewhere asks for the
same answer again: no file read, no decoding).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import msgpack

from chmocoder import storage
from chmocoder.engine.types import GenerationParams, GenerationResult, Prompt, request_key

log = logging.getLogger(__name__)

FORMAT = 1
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
MEMORY_ENTRIES = 256
TOUCH_EVERY_S = 60.0


SCORES = "scores"
"""What a scoring request's key holds in the task's place."""


def cache_key(model: str, runtime: str, task: str, prompt: Prompt, params: GenerationParams) -> str:
    """The task is part of a generation's key (whether an answer will do is the task's to
    say), not of a scoring request's: a review's odds of a definition serve the fix of the
    same definition, and the other way round."""
    asked = task if params.score_from is None else SCORES
    return request_key(prompt, params, FORMAT, model, runtime, asked)


class ResultCache:
    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._size: int | None = None
        self._recent: OrderedDict[str, GenerationResult] = OrderedDict()
        self._touched: dict[str, float] = {}

    def _remember(self, key: str, result: GenerationResult) -> None:
        with self._lock:
            self._recent[key] = result
            self._recent.move_to_end(key)
            self._touched[key] = time.monotonic()  # read or written just now
            while len(self._recent) > MEMORY_ENTRIES:
                old, _ = self._recent.popitem(last=False)
                self._touched.pop(old, None)

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.msgpack"

    def get(self, key: str) -> GenerationResult | None:
        path = self._path(key)
        now = time.monotonic()
        touch = False
        with self._lock:
            recent = self._recent.get(key)
            if recent is not None:
                self._recent.move_to_end(key)
                touch = now - self._touched.get(key, 0.0) > TOUCH_EVERY_S
                if touch:
                    self._touched[key] = now
        if recent is not None:
            # recently used, for the eviction order on disk (a minute is precise enough); a
            # file evicted or cleared by another process leaves the answer as good as it was
            if touch:
                with contextlib.suppress(OSError):
                    os.utime(path)
            return recent
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("result cache: cannot read %s: %s", path, exc)
            return None
        try:
            entry = msgpack.unpackb(data, raw=False)
            if (
                not isinstance(entry, dict)
                or entry.get("format") != FORMAT
                or entry.get("key") != key
            ):
                raise ValueError("not an entry of this cache")
            result = GenerationResult.model_validate(entry["result"])
        except Exception as exc:
            log.warning("result cache: discarding %s (%s)", path.name, exc)
            self._discard(path)
            return None
        os.utime(path)  # recently used
        result = result.model_copy(update={"cached": True})
        self._remember(key, result)
        return result

    def put(self, key: str, result: GenerationResult) -> None:
        entry: dict[str, Any] = {
            "format": FORMAT,
            "key": key,
            "created": time.time(),
            "result": result.model_dump(mode="json"),
        }
        payload = msgpack.packb(entry, use_bin_type=True)
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # created 0600
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(payload)
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            storage.write_failed("result cache", self.directory, exc)
            return
        with self._lock:
            if self._size is not None:
                self._size += len(payload)
        self._evict()

    def _entries(self) -> list[tuple[float, int, Path]]:
        found = []
        for path in self.directory.glob("*/*.msgpack"):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((stat.st_mtime, stat.st_size, path))
        return found

    def size(self) -> int:
        with self._lock:
            if self._size is None:
                self._size = sum(size for _, size, _ in self._entries())
            return self._size

    def _evict(self) -> None:
        if self.size() <= self.max_bytes:
            return
        with self._lock:
            entries = sorted(self._entries())
            total = sum(size for _, size, _ in entries)
            for _, size, path in entries:
                if total <= self.max_bytes * 0.9:
                    break
                path.unlink(missing_ok=True)
                total -= size
            self._size = total

    def discard(self, key: str) -> None:
        """Forget an entry (an answer that turned out unusable)."""
        with self._lock:
            self._recent.pop(key, None)
            self._touched.pop(key, None)
        self._discard(self._path(key))

    def _discard(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        with self._lock:
            self._size = None

    def clear(self) -> None:
        for _, _, path in self._entries():
            path.unlink(missing_ok=True)
        with self._lock:
            self._size = 0
            self._recent.clear()
            self._touched.clear()
