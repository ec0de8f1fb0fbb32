"""The language server: assembles the feature modules around shared state."""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from chmocoder import __version__
from chmocoder.analysis.document import Document
from chmocoder.analysis.index import WorkspaceIndex
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.config import Settings

log = logging.getLogger(__name__)


class ChmoServer(LanguageServer):
    """Shared state of one editor connection: documents, settings, the workspace index."""

    def __init__(self) -> None:
        super().__init__(
            "chmocoder", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.registry = LanguageRegistry()
        self.documents: dict[str, Document] = {}
        self.settings = Settings()
        self.index: WorkspaceIndex | None = None

    @property
    def encoding(self) -> str:
        """The position encoding negotiated with the client."""
        return str(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)

    def document(self, uri: str) -> Document | None:
        return self.documents.get(uri)

    def workspace_root(self) -> Path | None:
        root = self.workspace.root_path
        return Path(root) if root else None

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """Show a message to the user and log it."""
        log.log(logging.ERROR if kind == types.MessageType.Error else logging.WARNING, message)
        self.window_show_message(
            types.ShowMessageParams(type=kind, message=f"ChMOCoder: {message}")
        )


def create_server() -> ChmoServer:
    """A server with every feature registered."""
    from chmocoder.lsp.features import documents, lifecycle

    server = ChmoServer()
    for feature in (lifecycle, documents):
        feature.register(server)
    return server
