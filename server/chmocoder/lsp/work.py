"""Work in flight per document, and the one rule that stops it: an edit of the document
cancels its work (the answer would be about text that is gone); a cancelled request
($/cancelRequest) cancels the work it waits for; work of a `kind` (inline completion)
replaces the document's earlier work of that kind (the user has moved on). Warming ahead
(`warm`) is the exception: an edit does not stop it, newer warming of its kind does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from chmocoder.engine.errors import ErrorKind, Failure

log = logging.getLogger(__name__)


class Stale(Failure):
    """The work stopped because its document changed, or newer work of its kind came."""

    def __init__(self) -> None:
        super().__init__(
            ErrorKind.STALE, "the document changed while the model was working; ask again"
        )


class DocumentWork:
    def __init__(self, loop: Callable[[], asyncio.AbstractEventLoop]) -> None:
        self._loop = loop
        self._inflight: dict[str, set[asyncio.Task[Any]]] = {}
        self._latest: dict[tuple[str, str], asyncio.Task[Any]] = {}
        self._warming: dict[tuple[str, str], tuple[asyncio.Task[Any], str | None]] = {}
        """Warming in flight by (document, kind): its task and its target."""

    def start(
        self, uri: str, coroutine: Coroutine[Any, Any, Any], *, kind: str | None = None
    ) -> asyncio.Task[Any]:
        """Run work for a document until it finishes or the document changes (or, with a
        `kind`, until more work of that kind starts for it)."""
        if kind is not None:
            self.cancel(uri, kind)
        task: asyncio.Task[Any] = self._loop().create_task(coroutine)
        tasks = self._inflight.setdefault(uri, set())
        tasks.add(task)
        if kind is not None:
            self._latest[(uri, kind)] = task

        def forget(done: asyncio.Task[Any]) -> None:
            tasks.discard(done)
            if not tasks and self._inflight.get(uri) is tasks:
                del self._inflight[uri]  # nothing kept for a document with no work
            if kind is not None and self._latest.get((uri, kind)) is done:
                del self._latest[(uri, kind)]

        task.add_done_callback(forget)
        return task

    async def run(
        self, uri: str, coroutine: Coroutine[Any, Any, Any], *, kind: str | None = None
    ) -> Any:
        """Start work and await it. If an edit (or newer work of its kind) stopped it, raise
        Stale; if this request was cancelled, the work is cancelled with it."""
        task = self.start(uri, coroutine, kind=kind)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            raise Stale() from None

    def warm(
        self,
        uri: str,
        coroutine: Coroutine[Any, Any, Any],
        *,
        kind: str,
        target: str | None = None,
    ) -> None:
        """Run warming ahead (of a `kind`: hover, completion) for a document: it replaces the
        document's earlier warming of that kind, and goes on through edits (what it evaluates
        is a prompt's start, which typing at the cursor does not change). Closing the
        document stops it. Its failures are its own to log. A `target` names what is
        warmed: warming for the target already in flight goes on, and `coroutine` is
        dropped (asking twice at one place would otherwise stop the first on its way)."""
        key = (uri, kind)
        earlier, earlier_target = self._warming.get(key, (None, None))
        what = f"{kind} warming of {uri}" + (f" for {target}" if target else "")
        if earlier is not None and not earlier.done():
            if target is not None and earlier_target == target:
                coroutine.close()
                log.debug("%s: in flight already", what)
                return
            earlier.cancel()
        task: asyncio.Task[Any] = self._loop().create_task(coroutine)
        self._warming[key] = (task, target)

        def forget(done: asyncio.Task[Any]) -> None:
            log.debug("%s: %s", what, "stopped" if done.cancelled() else "ended")
            if self._warming.get(key, (None,))[0] is done:
                del self._warming[key]

        task.add_done_callback(forget)

    def stop_warming(self, uri: str, kind: str) -> None:
        """Stop the document's warming of a `kind`: what it computes is no longer wanted."""
        task, _target = self._warming.pop((uri, kind), (None, None))
        if task is not None:
            task.cancel()

    def close(self, uri: str) -> None:
        """The document closed: all its work stops, warming too."""
        self.cancel(uri)
        for key in [k for k in self._warming if k[0] == uri]:
            self._warming.pop(key)[0].cancel()

    def cancel(self, uri: str, kind: str | None = None) -> None:
        """The document changed or closed: its work in flight is stale (with a `kind`: only
        its work of that kind)."""
        if kind is not None:
            task = self._latest.get((uri, kind))
            if task is not None:
                task.cancel()
            return
        for task in list(self._inflight.get(uri, ())):
            task.cancel()
