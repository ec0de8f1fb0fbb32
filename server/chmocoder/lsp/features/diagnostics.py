"""Every diagnostic the server shows, from its two sources (syntax problems, review
findings), and the one way they reach the client: pushed (publishDiagnostics), or, for a
client that pulls them (textDocument/diagnostic), answered when asked and refreshed.

Reviews (review.mode: off | onSave | onChange, debounced by review.debounceMs per
document) live here too, since their findings are diagnostics: only definitions whose text
changed since their last review go to the model, and a review whose document moved on is
dropped. `Diagnostics` is the feature's object, one per connection: it owns the reviews'
state, and the documents and commands features are given it (lsp/__init__.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from chmocoder.analysis.document import Document
from chmocoder.analysis.syntax import syntax_problems
from chmocoder.engine.errors import Failure
from chmocoder.lsp.convert import byte_range, to_range
from chmocoder.lsp.progress import ModelProgress
from chmocoder.lsp.server import ChmoServer

if TYPE_CHECKING:
    from chmocoder.assist.review import ReviewState

log = logging.getLogger(__name__)

SOURCE = "chmocoder"

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


def syntax_diagnostics(ls: ChmoServer, doc: Document) -> list[types.Diagnostic]:
    diagnostics = [
        types.Diagnostic(
            range=to_range(doc, problem.span, ls.encoding),
            message=problem.message,
            severity=types.DiagnosticSeverity.Error,
            source=SOURCE,
            code="syntax",
        )
        for problem in syntax_problems(doc)
    ]
    if doc.refusal:
        diagnostics.append(
            types.Diagnostic(
                range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
                message=doc.refusal,
                severity=types.DiagnosticSeverity.Information,
                source=SOURCE,
                code="not-parsed",
            )
        )
    return diagnostics


def pulls_diagnostics(ls: ChmoServer) -> bool:
    """Whether the client asks for diagnostics itself (textDocument/diagnostic)."""
    text_document = ls.client_capabilities.text_document
    return bool(text_document and text_document.diagnostic)


class Diagnostics:
    """The diagnostics of one connection's documents, and the reviews that find some."""

    def __init__(self) -> None:
        self.reviews: dict[str, ReviewState] = {}
        """Each document's review state (what was reviewed, what was found)."""
        self.pending: dict[str, asyncio.Task[None]] = {}
        """Debounced reviews waiting to run, by document."""

    # --- what is shown ---------------------------------------------------------------

    def review_diagnostics(self, ls: ChmoServer, doc: Document) -> list[types.Diagnostic]:
        state = self.reviews.get(doc.uri)
        if state is None or not state.by_key:
            return []
        result = []
        for finding in state.findings(doc):
            start, end = doc.row_span(finding.row)
            line = doc.source[start:end].rstrip(b"\r")
            start += len(line) - len(line.lstrip())  # the line's text, not its indentation
            result.append(
                types.Diagnostic(
                    range=byte_range(doc, start, start + len(line.lstrip()), ls.encoding),
                    message=finding.message,
                    severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Information),
                    source=SOURCE,
                    code="review",
                    data={"suggestion": finding.suggestion, "definition": finding.definition},
                )
            )
        return result

    def all(self, ls: ChmoServer, doc: Document) -> list[types.Diagnostic]:
        return syntax_diagnostics(ls, doc) + self.review_diagnostics(ls, doc)

    def publish(self, ls: ChmoServer, doc: Document) -> None:
        """Push diagnostics; a client that pulls them is asked to pull again instead, so it
        does not show everything twice (its pulled and pushed diagnostics are kept apart)."""
        if pulls_diagnostics(ls):
            workspace = ls.client_capabilities.workspace
            if workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
                ls.workspace_diagnostic_refresh(None)
            return
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=doc.uri, version=doc.version, diagnostics=self.all(ls, doc)
            )
        )

    def closed(self, ls: ChmoServer, uri: str) -> None:
        """The document closed: its review state goes, and pushed diagnostics are cleared."""
        self.reviews.pop(uri, None)
        pending = self.pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        if not pulls_diagnostics(ls):
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    def stop(self) -> None:
        """The session ends: reviews waiting to run do not."""
        for task in self.pending.values():
            task.cancel()

    # --- reviews ---------------------------------------------------------------------

    def schedule_review(self, ls: ChmoServer, doc: Document, delay_ms: int) -> None:
        """(Re)start the review of a document after `delay_ms` (debounced per document)."""
        previous = self.pending.pop(doc.uri, None)
        if previous is not None:
            previous.cancel()
        task = ls.loop.create_task(self._review_later(ls, doc, delay_ms))
        self.pending[doc.uri] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self.pending.get(doc.uri) is done:
                del self.pending[doc.uri]

        task.add_done_callback(forget)

    async def _review_later(self, ls: ChmoServer, doc: Document, delay_ms: int) -> None:
        await asyncio.sleep(delay_ms / 1000)
        await self.run_review(ls, doc)

    async def run_review(self, ls: ChmoServer, doc: Document) -> tuple[int, int]:
        """Review the document now: (model calls made, findings now shown)."""
        from chmocoder.assist.review import ReviewState  # the model's side, at first use

        version = doc.version
        state = self.reviews.setdefault(doc.uri, ReviewState())
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
            return 0, 0
        if doc.version != version or ls.document(doc.uri) is not doc:
            log.info("review of %s dropped: the document moved on", doc.uri)
            return calls, 0
        self.publish(ls, doc)
        log.info("review of %s: %d model calls, %d findings", doc.uri, calls, len(findings))
        return calls, len(state.findings(doc))

    # --- registration ----------------------------------------------------------------

    def register(self, server: ChmoServer) -> None:
        options = types.DiagnosticOptions(
            identifier="chmocoder", inter_file_dependencies=False, workspace_diagnostics=False
        )

        @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, options)
        def pull(
            ls: ChmoServer, params: types.DocumentDiagnosticParams
        ) -> types.DocumentDiagnosticReport:
            doc = ls.document(params.text_document.uri)
            items = self.all(ls, doc) if doc is not None else []
            return types.RelatedFullDocumentDiagnosticReport(items=items)
