"""Inline completion (LSP 3.18 textDocument/inlineCompletion): ghost text from the model.

Advertised when the client declares the capability (lifecycle.initialize); the request is
served either way, for the Neovim plugin on versions without it. An answer from memory
(typing through a suggestion, a gap seen before) comes at once; otherwise typing must
pause for completion.debounceMs, and a new request for the document cancels the one in
flight (so does an edit: lsp/work.py). With completion.enabled false only an explicit
trigger (Invoked) is answered. A failed completion is logged, not shown: it would repeat
on every keystroke. A broken set-up is shown once, as every feature shows it.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from chmocoder.analysis.document import Document
from chmocoder.engine.errors import ErrorKind, Failure
from chmocoder.lsp.convert import to_offset
from chmocoder.lsp.features.hover import warming
from chmocoder.lsp.server import ChmoServer

log = logging.getLogger(__name__)


KIND = "completion"
"""Work of this kind replaces the document's earlier completion (lsp/work.py)."""
NEXT = "completion-next"
"""Warming of the suggestion that follows the shown one's acceptance."""


async def _warm(ls: ChmoServer, doc: Document, offset: int) -> None:
    """The start of this line's completion prompt, evaluated ahead (Completer.warm)."""
    try:
        await ls.completer().warm(doc, offset, ls.relative_path(doc.uri))
    except Failure as exc:
        log.debug("warming completion ahead for %s: %s", doc.uri, exc.message)


async def _follow(ls: ChmoServer, doc: Document, offset: int, text: str) -> None:
    """The suggestion after this one is accepted, computed ahead (Completer.follow)."""
    try:
        await ls.completer().follow(doc, offset, text, ls.relative_path(doc.uri))
    except Failure as exc:
        log.debug("the suggestion after this one, for %s: %s", doc.uri, exc.message)


def register(server: ChmoServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: ChmoServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        uri = params.text_document.uri
        doc = ls.document(uri)
        settings = ls.settings.completion
        automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
        if doc is None or (automatic and not settings.enabled):
            return None
        if params.position.line >= len(doc.line_starts):
            return None  # a line past the end: no place to complete (not the file's end)
        ls.work.cancel(uri, KIND)  # the user moved on
        offset = to_offset(doc, params.position, ls.encoding)
        completer = ls.completer()
        completion = completer.from_memory(doc, offset)
        if completion is None:
            # Not typing through the shown suggestion: the one computed for after its
            # acceptance will not be asked for, and it would compete with this request.
            ls.work.stop_warming(uri, NEXT)
            if warming(ls):
                ls.work.warm(uri, _warm(ls, doc, offset), kind=KIND)
            version = doc.version
            if automatic and settings.debounce_ms:
                await asyncio.sleep(settings.debounce_ms / 1000)
                if doc.version != version or ls.document(uri) is not doc:
                    return None  # typed on: a newer request asks for the new text
            try:
                completion = await ls.work.run(
                    uri, completer.fill(doc, offset, ls.relative_path(uri)), kind=KIND
                )
            except Failure as exc:  # "stale": an edit or a newer request stopped it
                if exc.kind is ErrorKind.SETUP:
                    ls.tell_failure("Inline completion", exc)
                elif exc.kind is not ErrorKind.STALE:
                    log.info("no inline completion: %s", exc.message)
                return None
        if not completion.text:
            return None
        if completion.source == "model" and warming(ls):
            follow = _follow(ls, doc, offset, completion.text)
            ls.work.warm(uri, follow, kind=NEXT)
        here = types.Range(params.position, params.position)
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=completion.text, range=here)]
        )
