"""Hover: quick facts from tree-sitter at once, then the model's explanation.

An explanation the result cache holds is answered at once, without a task (a hover
after an edit elsewhere asks for the same prompt again).
If the model takes longer than hover.timeoutMs, the hover shows the facts and
says the explanation is being written; generation goes on into the cache and
the next hover shows it. `$/cancelRequest` stops a generation nobody else
waits for; an edit of the document stops it too (its answer would be stale).

Warming ahead (`warm_ahead`): when a document opens, and when code actions are asked for
at a place, the start of the prompt a hover there would send is evaluated in the
background, so the hover's explanation starts at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from chmocoder.analysis.context import Focus
from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import Definition
from chmocoder.assist.results import Explanation, facts_then
from chmocoder.engine.errors import Failure
from chmocoder.lsp.convert import to_offset, to_range
from chmocoder.lsp.progress import ModelProgress
from chmocoder.lsp.server import ChmoServer

if TYPE_CHECKING:  # the model's side (pydantic): not at start-up
    from chmocoder.assist.explain import Prepared

log = logging.getLogger(__name__)

PENDING = "\n\n---\n\n*ChMOCoder is still writing the explanation. Hover again in a moment.*"

JobKey = tuple[str, int, int, int, str]


class Hover:
    """The hover feature, one per connection, with its state: explanations being written,
    shared by the hovers that wait for them, and the most recent finished ones (a hover on the same definition of the same version is answered
    from memory, before the disk cache).

    The finished ones overlap the result cache on purpose: answering from here skips
    rebuilding the prompt to compute the cache's key (hover again: 1.06x a no-op pygls
    hover, against 1.65x through the result cache; bench/bench_features.py)."""

    KEEP = 256

    def __init__(self) -> None:
        self.tasks: OrderedDict[JobKey, asyncio.Task[Explanation]] = OrderedDict()
        self.waiters: dict[JobKey, int] = {}
        self.detached: set[JobKey] = set()
        """Jobs a hover gave up waiting for: they go on into the cache."""

    def job(
        self, ls: ChmoServer, focus: Focus, inner: Definition, prepared: Prepared | None
    ) -> tuple[JobKey, asyncio.Task[Explanation]]:
        """The explanation being written for this definition, started if there is none."""
        doc = focus.doc
        key = _key(ls, doc, inner)
        task = self.tasks.get(key)
        if task is not None and not task.cancelled() and not (task.done() and task.exception()):
            self.tasks.move_to_end(key)
            return key, task
        task = ls.work.start(doc.uri, _explain(ls, focus, inner, prepared))
        self.tasks[key] = task
        while len(self.tasks) > self.KEEP:
            self.tasks.popitem(last=False)

        def forget_failures(done: asyncio.Task[Any], key: JobKey = key) -> None:
            self.detached.discard(key)
            if (done.cancelled() or done.exception()) and self.tasks.get(key) is done:
                del self.tasks[key]  # the next hover tries again

        task.add_done_callback(forget_failures)
        return key, task

    async def hover(self, ls: ChmoServer, params: types.HoverParams) -> types.Hover | None:
        doc = ls.document(params.text_document.uri)
        if doc is None or not ls.settings.hover.enabled:
            return None
        offset = to_offset(doc, params.position, ls.encoding)
        focus = Focus.at(doc, offset)  # the definition, looked up once for the whole hover
        inner = focus.inner
        if inner is None:
            return None
        assistant = ls.assistant()
        facts = assistant.facts(focus)
        prepared = None
        if _key(ls, doc, inner) not in self.tasks:  # no job yet: maybe the cache knows it
            path = ls.relative_path(doc.uri)
            prepared = assistant.prepare_explanation(focus, path=path)  # the prompt, once
            known = assistant.explain_cached(focus, path=path, prepared=prepared)
            if known is not None:
                return _hover(facts_then(facts, known.markdown), doc, inner, ls.encoding)
        key, task = self.job(ls, focus, inner, prepared)
        self.waiters[key] = self.waiters.get(key, 0) + 1
        try:
            # asyncio.wait leaves the task running when the time is up or this hover is
            # cancelled (what a shield under wait_for does, with fewer tasks and futures)
            await asyncio.wait((task,), timeout=ls.settings.hover.timeout_ms / 1000)
            if not task.done():
                self.detached.add(key)
                return _hover(facts + PENDING, doc, inner, ls.encoding)
            explanation = task.result()
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and not current.cancelling():
                # the explanation was stopped (the document changed), not this hover
                return _hover(facts, doc, inner, ls.encoding)
            if self.waiters.get(key, 1) <= 1 and key not in self.detached:
                task.cancel()  # $/cancelRequest, and nobody else waits for it
            raise

        except Failure as exc:
            ls.tell_failure(f"Explaining `{inner.name}`", exc)
            return _hover(
                facts_then(facts, f"*No explanation: {exc.message}*"), doc, inner, ls.encoding
            )
        finally:
            self.waiters[key] = self.waiters.get(key, 1) - 1
            if self.waiters[key] <= 0:
                self.waiters.pop(key, None)
        return _hover(facts_then(facts, explanation.markdown), doc, inner, ls.encoding)

    def register(self, server: ChmoServer) -> None:
        @server.feature(types.TEXT_DOCUMENT_HOVER)
        async def hover(ls: ChmoServer, params: types.HoverParams) -> types.Hover | None:
            return await self.hover(ls, params)


def _key(ls: ChmoServer, doc: Document, inner: Definition) -> JobKey:
    return (doc.uri, doc.version, inner.span.start_byte, inner.span.end_byte, ls.settings.audience)


async def _explain(
    ls: ChmoServer, focus: Focus, inner: Definition, prepared: Prepared | None
) -> Explanation:
    async with ModelProgress(ls, f"ChMOCoder: explaining `{inner.name}`") as progress:
        path = ls.relative_path(focus.doc.uri)
        return await ls.assistant().explain(
            focus, path=path, on_progress=progress.token, prepared=prepared
        )


def warming(ls: ChmoServer) -> bool:
    """Whether to evaluate prompts ahead: the `warm` setting, on the local llama-cpp runtime
    (it keeps the evaluated states; a team's model server would get a request per cursor
    move for nothing it keeps, and ctransformers keeps none)."""
    return ls.settings.warm and ls.settings.runtime == "llama-cpp"


def warm_ahead(ls: ChmoServer, doc: Document, offset: int, *, file_only: bool = False) -> None:
    """Evaluate ahead, in the background, the start of the prompt a hover at `offset` would
    send (`file_only`: what every hover in the file shares). An edit of the document, or
    newer warming for it, stops it; a failure is only logged (the hover will say it)."""
    if not warming(ls) or not ls.settings.hover.enabled or doc.language is None:
        log.debug("no hover warming of %s (setting, runtime or language)", doc.uri)
        return

    focus = Focus.at(doc, offset)

    async def warm() -> None:
        try:
            await ls.assistant().warm(focus, path=ls.relative_path(doc.uri), file_only=file_only)
        except Failure as exc:
            log.debug("warming ahead for %s: %s", doc.uri, exc.message)

    inner = None if file_only or focus.inner is None else focus.inner
    target = None if inner is None else f"{inner.kind} {inner.name} {inner.signature}"
    ls.work.warm(doc.uri, warm(), kind="hover", target=target)


def _hover(markdown: str, doc: Document, inner: Definition, encoding: str) -> types.Hover:
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
        range=to_range(doc, inner.span, encoding),
    )


def register(server: ChmoServer) -> None:
    Hover().register(server)  # its state is this connection's
