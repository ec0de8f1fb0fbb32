"""Conversation history for follow-up questions: SQLite in the cache directory, expiring."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

MAX_TURNS = 6
"""How many earlier question/answer pairs a follow-up sees."""


class History:
    def __init__(self, path: Path, ttl_hours: float) -> None:
        self.path = path
        self.ttl_s = ttl_hours * 3600
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS turns (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, "
                "created REAL NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS turns_scope ON turns (scope, created)")
        path.chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def _expire(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM turns WHERE created < ?", (time.time() - self.ttl_s,))

    def turns(self, scope: str) -> list[tuple[str, str]]:
        with self._lock, self._connect() as db:
            self._expire(db)
            rows = db.execute(
                "SELECT question, answer FROM turns WHERE scope = ? ORDER BY created DESC, id DESC LIMIT ?",
                (scope, MAX_TURNS),
            ).fetchall()
        return [(q, a) for q, a in reversed(rows)]

    def add(self, scope: str, question: str, answer: str) -> None:
        with self._lock, self._connect() as db:
            self._expire(db)
            db.execute(
                "INSERT INTO turns (scope, created, question, answer) VALUES (?, ?, ?, ?)",
                (scope, time.time(), question, answer),
            )

    def clear(self, scope: str | None = None) -> int:
        with self._lock, self._connect() as db:
            if scope is None:
                cursor = db.execute("DELETE FROM turns")
            else:
                cursor = db.execute("DELETE FROM turns WHERE scope = ?", (scope,))
            return cursor.rowcount
