"""Document sync (incremental); syntax diagnostics at once on every change, review findings kept with them."""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from chmocoder.analysis.document import Document
from chmocoder.analysis.syntax import syntax_problems
from chmocoder.lsp.convert import byte_range, to_offsets, to_range
from chmocoder.lsp.server import ChmoServer

log = logging.getLogger(__name__)

SOURCE = "chmocoder"


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


_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


def review_diagnostics(ls: ChmoServer, doc: Document) -> list[types.Diagnostic]:
    state = ls.reviews.get(doc.uri)
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


def all_diagnostics(ls: ChmoServer, doc: Document) -> list[types.Diagnostic]:
    return syntax_diagnostics(ls, doc) + review_diagnostics(ls, doc)


def pulls_diagnostics(ls: ChmoServer) -> bool:
    """Whether the client asks for diagnostics itself (textDocument/diagnostic)."""
    text_document = ls.client_capabilities.text_document
    return bool(text_document and text_document.diagnostic)


def publish(ls: ChmoServer, doc: Document) -> None:
    """Push diagnostics; a client that pulls them is asked to pull again instead, so it
    does not show everything twice (its pulled and pushed diagnostics are kept apart)."""
    if pulls_diagnostics(ls):
        workspace = ls.client_capabilities.workspace
        if workspace and workspace.diagnostics and workspace.diagnostics.refresh_support:
            ls.workspace_diagnostic_refresh(None)
        return
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=doc.uri, version=doc.version, diagnostics=all_diagnostics(ls, doc)
        )
    )


def _path_of(uri: str) -> str | None:
    return to_fs_path(uri) if uri.startswith("file:") else None


def register(server: ChmoServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ChmoServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        support = ls.registry.lookup(language_id=item.language_id, path=_path_of(item.uri))
        doc = Document(item.uri, item.text.encode("utf-8"), version=item.version, language=support)
        ls.documents[item.uri] = doc
        publish(ls, doc)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ChmoServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.document(params.text_document.uri)
        if doc is None:
            log.warning("didChange for a document that is not open: %s", params.text_document.uri)
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = to_offsets(doc, change.range, ls.encoding)
                doc.apply_edit(start, end, change.text.encode("utf-8"))
            else:
                doc.replace(change.text.encode("utf-8"))
        doc.version = params.text_document.version
        doc.reparse()
        ls.cancel_work(doc.uri)  # answers about the old text are stale
        publish(ls, doc)
        if ls.settings.review.mode == "onChange":
            from chmocoder.lsp.features.review import schedule_review

            schedule_review(ls, doc, ls.settings.review.debounce_ms)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ChmoServer, params: types.DidSaveTextDocumentParams) -> None:
        doc = ls.document(params.text_document.uri)
        path = _path_of(params.text_document.uri)
        if doc is not None and path and ls.index is not None:
            ls.index.update_file(Path(path), doc.source)
        if doc is not None and ls.settings.review.mode == "onSave":
            from chmocoder.lsp.features.review import schedule_review

            schedule_review(ls, doc, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ChmoServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.cancel_work(params.text_document.uri)
        ls.reviews.pop(params.text_document.uri, None)
        if ls.documents.pop(params.text_document.uri, None) is not None and not pulls_diagnostics(
            ls
        ):
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
            )

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: ChmoServer, params: types.DidChangeWatchedFilesParams) -> None:
        if ls.index is None:
            return
        for event in params.changes:
            path = _path_of(event.uri)
            if path is None:
                continue
            if event.type == types.FileChangeType.Deleted:
                ls.index.remove_file(Path(path))
            elif event.uri not in ls.documents:
                ls.index.update_file(Path(path))
