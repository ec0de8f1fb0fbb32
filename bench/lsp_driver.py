"""A minimal real LSP client over stdio for the benchmarks (pygls's own client)."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient


class Driver:
    """Start a server, open documents, send edits and await their diagnostics."""

    def __init__(self, *command: str) -> None:
        self.command = command
        self.client = LanguageClient("bench", "1")
        self.versions: dict[str, asyncio.Event] = {}
        self.wanted: tuple[str, int] | None = None

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(ls: Any, params: types.PublishDiagnosticsParams) -> None:
            key = f"{params.uri}@{params.version}"
            self.versions.setdefault(key, asyncio.Event()).set()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(ls: Any, params: types.LogMessageParams) -> None:
            pass  # the server's log mirrored to the client: not what is measured

    async def start(
        self, root: str | None = None, options: dict[str, Any] | None = None, home: str = ""
    ) -> None:
        """`home`: the user's folders (cache, state, runtime: the model daemon's socket) to
        share with other runs; by default new ones."""
        env = dict(os.environ)
        home = home or tempfile.mkdtemp(prefix="chmo-bench-")
        env.update(
            XDG_CACHE_HOME=f"{home}/cache",
            XDG_STATE_HOME=f"{home}/state",
            XDG_RUNTIME_DIR=f"{home}/run",
        )
        await self.client.start_io(*self.command, env=env)
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=root,
                initialization_options=options,
            )
        )
        self.client.initialized(types.InitializedParams())

    def open(self, uri: str, text: str, language: str = "python") -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
            )
        )

    async def change(
        self, uri: str, version: int, line: int, start: int, end: int, text: str
    ) -> None:
        event = self.versions.setdefault(f"{uri}@{version}", asyncio.Event())
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [
                    types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(line, start), types.Position(line, end)),
                        text=text,
                    )
                ],
            )
        )
        await asyncio.wait_for(event.wait(), 30)

    async def hover(self, uri: str, line: int, character: int) -> types.Hover | None:
        return await self.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=character),
            )
        )

    async def execute(self, name: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments))
        )

    async def stop(self) -> None:

        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


PYTHON = sys.executable
