"""Work in flight per document, and the one rule that stops it: an edit of the document
cancels its work (the answer would be about text that is gone); a cancelled request
($/cancelRequest) cancels the work it waits for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from chmocoder.engine.errors import EngineError


class DocumentWork:
    def __init__(self, loop: Callable[[], asyncio.AbstractEventLoop]) -> None:
        self._loop = loop
        self._inflight: dict[str, set[asyncio.Task[Any]]] = {}

    def start(self, uri: str, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run work for a document until it finishes or the document changes."""
        task: asyncio.Task[Any] = self._loop().create_task(coroutine)
        tasks = self._inflight.setdefault(uri, set())
        tasks.add(task)

        def forget(done: asyncio.Task[Any]) -> None:
            tasks.discard(done)
            if not tasks and self._inflight.get(uri) is tasks:
                del self._inflight[uri]  # nothing kept for a document with no work

        task.add_done_callback(forget)
        return task

    async def run(self, uri: str, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Start work and await it. If an edit stopped it, raise EngineError("stale"); if
        this request was cancelled, the work is cancelled with it."""
        task = self.start(uri, coroutine)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            raise EngineError(
                "stale", "the document changed while the model was working; ask again"
            ) from None

    def cancel(self, uri: str) -> None:
        """The document changed or closed: its work in flight is stale."""
        for task in list(self._inflight.get(uri, ())):
            task.cancel()
