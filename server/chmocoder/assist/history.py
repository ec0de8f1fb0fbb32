"""Conversation history for follow-up questions: SQLite in the cache directory, expiring.

Optional to every answer: a damaged or unwritable database means no history, not an error."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from chmocoder import storage

log = logging.getLogger(__name__)

MAX_TURNS = 6
"""How many earlier question/answer pairs a follow-up sees."""

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS turns (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, "
    "created REAL NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS turns_scope ON turns (scope, created)",
)


class History:
    def __init__(self, path: Path, ttl_hours: float) -> None:
        self.path = path
        self.ttl_s = ttl_hours * 3600
        self._lock = threading.Lock()
        self.usable = storage.prepare(path, SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return storage.connect(self.path)

    def _expire(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM turns WHERE created < ?", (time.time() - self.ttl_s,))

    def _failed(self, exc: Exception) -> None:
        storage.write_failed("conversation history", self.path, exc)
        self.usable = storage.prepare(self.path, SCHEMA)  # damaged since: moved aside, anew

    def turns(self, scope: str) -> list[tuple[str, str]]:
        if not self.usable:
            return []
        try:
            with self._lock, self._connect() as db:
                self._expire(db)
                rows = db.execute(
                    "SELECT question, answer FROM turns WHERE scope = ? ORDER BY created DESC, id DESC LIMIT ?",
                    (scope, MAX_TURNS),
                ).fetchall()
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)
            return []
        return [(q, a) for q, a in reversed(rows)]

    def add(self, scope: str, question: str, answer: str) -> None:
        if not self.usable:
            return
        try:
            with self._lock, self._connect() as db:
                self._expire(db)
                db.execute(
                    "INSERT INTO turns (scope, created, question, answer) VALUES (?, ?, ?, ?)",
                    (scope, time.time(), question, answer),
                )
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)

    def clear(self, scope: str | None = None) -> int:
        if not self.usable:
            return 0
        try:
            with self._lock, self._connect() as db:
                if scope is None:
                    cursor = db.execute("DELETE FROM turns")
                else:
                    cursor = db.execute("DELETE FROM turns WHERE scope = ?", (scope,))
                return cursor.rowcount
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)
            return 0
