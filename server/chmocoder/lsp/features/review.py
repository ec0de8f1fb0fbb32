"""Model reviews as diagnostics (source `chmocoder`, code `review`), each with a Fix action.

review.mode: off | onSave | onChange (debounced by review.debounceMs per document).
Only definitions whose text changed since their last review go to the model.
A review whose document moved on is dropped. Clients that pull diagnostics
(textDocument/diagnostic) get them by pull and are told to pull again when a
review finishes; the others get them pushed (lsp/diagnostics.py decides which).
"""

from __future__ import annotations

import asyncio
import logging

from chmocoder.analysis.document import Document
from chmocoder.engine.errors import Failure
from chmocoder.lsp.diagnostics import publish
from chmocoder.lsp.progress import ModelProgress
from chmocoder.lsp.server import ChmoServer

log = logging.getLogger(__name__)


def schedule_review(ls: ChmoServer, doc: Document, delay_ms: int) -> None:
    """(Re)start the review of a document after `delay_ms` (debounced per document)."""
    previous = ls.pending_reviews.pop(doc.uri, None)
    if previous is not None:
        previous.cancel()
    task = ls.loop.create_task(_review_later(ls, doc, delay_ms))
    ls.pending_reviews[doc.uri] = task
    task.add_done_callback(
        lambda done: (
            ls.pending_reviews.pop(doc.uri, None)
            if ls.pending_reviews.get(doc.uri) is done
            else None
        )
    )


async def _review_later(ls: ChmoServer, doc: Document, delay_ms: int) -> None:
    await asyncio.sleep(delay_ms / 1000)
    await run_review(ls, doc)


async def run_review(ls: ChmoServer, doc: Document) -> int:
    """Review the document now; returns the number of model calls it made."""
    from chmocoder.assist.review import ReviewState  # the model's side, at first use

    version = doc.version
    state = ls.reviews.setdefault(doc.uri, ReviewState())
    try:
        async with ModelProgress(ls, "ChMOCoder: reviewing"):
            findings, calls = await ls.assistant().review(
                doc,
                state,
                path=ls.relative_path(doc.uri),
                is_current=lambda: doc.version == version,
            )
    except Failure as exc:
        ls.tell_failure("The review", exc)
        return 0
    if doc.version != version or ls.document(doc.uri) is not doc:
        log.info("review of %s dropped: the document moved on", doc.uri)
        return calls
    publish(ls, doc)
    log.info("review of %s: %d model calls, %d findings", doc.uri, calls, len(findings))
    return calls
