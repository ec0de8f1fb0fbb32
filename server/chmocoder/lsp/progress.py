"""`$/progress` while the model works, for clients that can show it."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from types import TracebackType

from lsprotocol import types

from chmocoder.lsp.connection import Connection
from chmocoder.lsp.panel import notify_status

REPORT_EVERY_S = 0.25


class ModelProgress:
    """`async with ModelProgress(ls, "Explaining `f`") as p:` then `p.token(text)` per piece."""

    def __init__(self, ls: Connection, title: str) -> None:
        self.ls = ls
        self.title = title
        self.token_id: str | None = None
        self.pieces = 0
        self._last = 0.0
        self._started = time.monotonic()

    async def __aenter__(self) -> ModelProgress:
        self._started = time.monotonic()
        loading = not self.ls.model_started  # the first request loads the model
        notify_status(self.ls, "loading" if loading else "generating", self.title)

        window = self.ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return self
        token = f"chmocoder-{uuid.uuid4().hex[:10]}"
        try:
            await asyncio.wait_for(self.ls.work_done_progress.create_async(token), 2.0)
        except Exception:  # the client did not accept a progress token: work without it
            return self
        self.token_id = token
        self.ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=self.title, message="waiting for the model", cancellable=False
            ),
        )
        return self

    def token(self, text: str) -> None:
        self.pieces += 1
        now = time.monotonic()
        if self.token_id is not None and now - self._last >= REPORT_EVERY_S:
            self._last = now
            report = types.WorkDoneProgressReport(message=f"writing ({self.pieces} tokens)")
            self.ls.work_done_progress.report(self.token_id, report)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        elapsed = time.monotonic() - self._started
        rate = self.pieces / elapsed if self.pieces and elapsed > 0 else None
        if error is not None and not isinstance(error, asyncio.CancelledError):
            notify_status(self.ls, "error", str(error)[:200])
        else:
            notify_status(self.ls, "ready", self.title, rate)
        if self.token_id is not None:
            with contextlib.suppress(Exception):
                message = "cancelled" if isinstance(error, asyncio.CancelledError) else "done"
                self.ls.work_done_progress.end(
                    self.token_id, types.WorkDoneProgressEnd(message=message)
                )


class AssemblyProgress:
    """`$/progress` while a catalogue model is assembled or downloaded (the first request after
    installing one). Called from the engine's worker thread with (bytes done, bytes in all)."""

    def __init__(self, ls: Connection) -> None:
        self.ls = ls
        self.loop = ls.loop
        self._token: str | None = None
        self._started = False
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if self._started and not finished and now - self._last < REPORT_EVERY_S:
            return
        self._last = now
        self.loop.call_soon_threadsafe(self._report, done, total)

    def _report(self, done: int, total: int) -> None:
        if not self._started:
            self._started = True
            notify_status(self.ls, "loading", "preparing the model (once)")
            window = self.ls.client_capabilities.window
            if window is not None and window.work_done_progress:
                self.loop.create_task(self._begin())
            return
        if self._token is None:
            return
        percentage = int(done * 100 / total) if total else 100
        message = f"{done / 2**20:.0f} of {total / 2**20:.0f} MiB"
        if done >= total:
            self.ls.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
            self._token = None
        else:
            self.ls.work_done_progress.report(
                self._token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    async def _begin(self) -> None:
        token = f"chmocoder-model-{uuid.uuid4().hex[:10]}"
        try:
            await asyncio.wait_for(self.ls.work_done_progress.create_async(token), 2.0)
        except Exception:  # the client did not accept a progress token: work without it
            return
        self.ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="ChMOCoder: preparing the model", percentage=0, cancellable=False
            ),
        )
        self._token = token
