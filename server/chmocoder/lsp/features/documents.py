"""Document sync (incremental): every change is applied, parsed and its diagnostics published
at once (features/diagnostics.py); with review.mode onChange or onSave, a review is
scheduled there."""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from chmocoder.analysis.document import Document
from chmocoder.lsp.convert import to_offsets
from chmocoder.lsp.features.diagnostics import Diagnostics
from chmocoder.lsp.features.hover import warm_ahead
from chmocoder.lsp.server import ChmoServer

log = logging.getLogger(__name__)


def _path_of(uri: str) -> str | None:
    return to_fs_path(uri) if uri.startswith("file:") else None


def register(server: ChmoServer, diagnostics: Diagnostics) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ChmoServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        support = ls.registry.lookup(language_id=item.language_id, path=_path_of(item.uri))
        doc = Document(item.uri, item.text.encode("utf-8"), version=item.version, language=support)
        ls.documents[item.uri] = doc
        diagnostics.publish(ls, doc)
        warm_ahead(ls, doc, 0, file_only=True)

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
        ls.work.cancel(doc.uri)  # answers about the old text are stale
        diagnostics.publish(ls, doc)
        if ls.settings.review.mode == "onChange":
            diagnostics.schedule_review(ls, doc, ls.settings.review.debounce_ms)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ChmoServer, params: types.DidSaveTextDocumentParams) -> None:
        doc = ls.document(params.text_document.uri)
        path = _path_of(params.text_document.uri)
        if doc is not None and path and ls.index is not None:
            ls.index.update_file(Path(path), doc.source)
        if doc is not None and ls.settings.review.mode == "onSave":
            diagnostics.schedule_review(ls, doc, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ChmoServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.work.close(params.text_document.uri)
        if ls.forget(params.text_document.uri) is not None:
            diagnostics.closed(ls, params.text_document.uri)

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
