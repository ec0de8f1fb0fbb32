"""Model-call statistics: every CallRecord in SQLite, summarised by `chmocoder stats`."""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from chmocoder import storage
from chmocoder.engine.engine import CallRecord

KEEP_DAYS = 30
BATCH_S = 0.5

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS calls (at REAL, task TEXT, model TEXT, runtime TEXT, "
    "prompt_tokens INTEGER, completion_tokens INTEGER, queue_ms REAL, first_token_ms REAL, "
    "total_ms REAL, tokens_per_second REAL, cache_hit INTEGER, cancelled INTEGER, error TEXT)",
    "CREATE TABLE IF NOT EXISTS outcomes (at REAL, task TEXT, outcome TEXT)",
)


@dataclass(frozen=True)
class TaskSummary:
    task: str
    count: int
    p50_ms: float
    p95_ms: float
    tokens_per_second: float
    cache_hit_rate: float
    cancelled: int
    errors: int


class StatsStore:
    """Writes go to a background thread (a model call's record never waits for the disk);
    statistics are not precious, so SQLite does not sync each write."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        """`create=False` (reading, as `chmocoder stats` does) creates no file or folder."""
        self.path = path
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[dict[str, object] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        if not create and not path.is_file():
            self.usable = False
            return
        self.usable = storage.prepare(path, SCHEMA)
        if self.usable:
            try:
                with self._connect() as db:
                    for table in ("calls", "outcomes"):
                        db.execute(
                            f"DELETE FROM {table} WHERE at < ?", (time.time() - KEEP_DAYS * 86400,)
                        )
            except sqlite3.Error as exc:
                storage.write_failed("statistics", path, exc)
                self.usable = False

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5)
        db.execute("PRAGMA synchronous=OFF")
        return db

    def record(self, record: CallRecord) -> None:
        row: dict[str, object] = {**vars(record), "at": time.time()}  # flat: no deep asdict
        row.pop("prompt", None)
        self._enqueue(row)

    def record_outcome(self, task: str, outcome: str) -> None:
        """What became of a task (a fix verified on its second candidate, no change, ...)."""
        self._enqueue({"at": time.time(), "task": task, "outcome": outcome})

    def _enqueue(self, row: dict[str, object]) -> None:
        if not self.usable:
            return
        self._queue.put(row)
        with self._lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(
                    target=self._write, name="chmocoder-stats", daemon=True
                )
                self._writer.start()

    def _write(self) -> None:
        try:
            self._write_rows()
        except (sqlite3.Error, OSError) as exc:  # statistics are optional to every answer
            storage.write_failed("statistics", self.path, exc)
            self.usable = False

    def _write_rows(self) -> None:
        """Rows in batches: what arrives within BATCH_S of the first goes in one transaction
        (a row each, as a hover answered from the cache makes one, would wake this thread
        and take the interpreter from the server for every request)."""
        with self._connect() as db:
            while True:
                try:
                    first = self._queue.get(timeout=2.0)
                except queue.Empty:
                    return
                batch, done = [first], first is None
                deadline = time.monotonic() + BATCH_S
                while not done:
                    try:
                        row = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                    batch.append(row)
                    done = row is None
                rows = [row for row in batch if row is not None]
                db.executemany(
                    "INSERT INTO outcomes VALUES (:at, :task, :outcome)",
                    [row for row in rows if "outcome" in row],
                )
                db.executemany(
                    "INSERT INTO calls VALUES (:at, :task, :model, :runtime, :prompt_tokens, :completion_tokens, "
                    ":queue_ms, :first_token_ms, :total_ms, :tokens_per_second, :cache_hit, :cancelled, :error)",
                    [row for row in rows if "outcome" not in row],
                )
                db.commit()
                if done:
                    return

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every record so far is written (tests, and the CLI before it exits)."""
        deadline = time.monotonic() + timeout
        while not self._queue.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        writer = self._writer
        if writer is not None:
            self._queue.put(None)
            writer.join(max(0.0, deadline - time.monotonic()))

    def summary(self) -> list[TaskSummary]:
        if not self.usable:
            return []
        try:
            with self._lock, self._connect() as db:
                rows = db.execute(
                    "SELECT task, total_ms, tokens_per_second, cache_hit, cancelled, error FROM calls ORDER BY task"
                ).fetchall()
        except sqlite3.Error as exc:
            log.warning("statistics %s cannot be read: %s", self.path, exc)
            return []
        by_task: dict[str, list[tuple[float, float, int, int, str | None]]] = {}
        for task, total, rate, hit, cancelled, error in rows:
            by_task.setdefault(task, []).append((total, rate, hit, cancelled, error))
        result = []
        for task, calls in sorted(by_task.items()):
            latencies = sorted(c[0] for c in calls)
            rates = [c[1] for c in calls if c[1] > 0 and not c[2]]
            result.append(
                TaskSummary(
                    task=task,
                    count=len(calls),
                    p50_ms=_percentile(latencies, 0.5),
                    p95_ms=_percentile(latencies, 0.95),
                    tokens_per_second=sum(rates) / len(rates) if rates else 0.0,
                    cache_hit_rate=sum(c[2] for c in calls) / len(calls),
                    cancelled=sum(c[3] for c in calls),
                    errors=sum(1 for c in calls if c[4]),
                )
            )
        return result

    def outcomes(self) -> list[tuple[str, str, int]]:
        """(task, outcome, count), most frequent first within each task."""
        if not self.usable:
            return []
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT task, outcome, COUNT(*) FROM outcomes GROUP BY task, outcome "
                "ORDER BY task, COUNT(*) DESC"
            ).fetchall()
        return [(str(t), str(o), int(n)) for t, o, n in rows]


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
