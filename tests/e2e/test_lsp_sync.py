"""The real server over stdio, driven with Neovim's and VS Code's client capabilities."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from ..support.common import (
    NO_MODEL,
    pulls,
    wait_for_diagnostics,
)

CLIENTS = ["neovim", "visual-studio-code"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    (root / "lib.py").write_text("def helper(x):\n    return x\n")
    return root


@pytest.fixture(params=CLIENTS)
async def client(
    request: pytest.FixtureRequest, lsp: LanguageClient, workspace: Path
) -> LanguageClient:
    lsp.init_result = await lsp.initialize_session(  # type: ignore[attr-defined]
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="workspace")],
            initialization_options=NO_MODEL,
        )
    )
    return lsp


def _open(
    client: LanguageClient, uri: str, text: str, language: str = "python", version: int = 1
) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=version, text=text
            )
        )
    )


def _change(
    client: LanguageClient, uri: str, version: int, *changes: types.TextDocumentContentChangeEvent
) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=list(changes),
        )
    )


def _edit(
    line: int, start: int, end_line: int, end: int, text: str
) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line, start), end=types.Position(end_line, end)),
        text=text,
    )


async def test_open_change_close_publishes_syntax_diagnostics(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "main.py").as_uri()
    _open(client, uri, "def f(x):\n    return x\n")
    assert await wait_for_diagnostics(client, uri, 1) == []

    # break it: delete the closing parenthesis
    _change(client, uri, 2, _edit(0, 7, 0, 8, ""))
    diagnostics = await wait_for_diagnostics(client, uri, 2)
    assert diagnostics, "a syntax error was not reported"
    assert all(d.source == "chmocoder" for d in diagnostics)
    assert any("unclosed `(`" in d.message or "missing" in d.message for d in diagnostics)

    # mend it again with two edits in one notification
    _change(client, uri, 3, _edit(0, 7, 0, 7, ")"), _edit(1, 11, 1, 12, "x + 1"))
    assert await wait_for_diagnostics(client, uri, 3) == []

    count = len(client.published)  # type: ignore[attr-defined]
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri))
    )
    if pulls(client):  # a closed document has nothing to pull
        assert await wait_for_diagnostics(client, uri, 4) == []
        assert client.published[count:] == []  # type: ignore[attr-defined]
    else:  # its pushed diagnostics are cleared
        await asyncio.wait_for(
            client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 10
        )
        closing = client.published[count:]  # type: ignore[attr-defined]
        assert [(p.uri, list(p.diagnostics)) for p in closing] == [(uri, [])]


async def test_utf16_positions_after_emoji(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "emoji.py").as_uri()
    _open(client, uri, "s = '😀'; t = (1\n")
    diagnostics = await wait_for_diagnostics(client, uri, 1)
    assert diagnostics
    encoding = client.init_result.capabilities.position_encoding  # type: ignore[attr-defined]
    prefix = "s = '😀'; t = "
    column = {
        types.PositionEncodingKind.Utf8: len(prefix.encode()),
        types.PositionEncodingKind.Utf16: len(prefix.encode("utf-16-le")) // 2,
        types.PositionEncodingKind.Utf32: len(prefix),
    }[encoding or types.PositionEncodingKind.Utf16]
    assert diagnostics[0].range.start == types.Position(0, column)
    # an edit addressed in the negotiated encoding, after the emoji, closes the bracket
    _change(client, uri, 2, _edit(0, column + 2, 0, column + 2, ")"))
    assert await wait_for_diagnostics(client, uri, 2) == []


async def test_full_replacement_and_unknown_language(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "notes.txt").as_uri()
    _open(client, uri, "just words (\n", language="plaintext")
    assert await wait_for_diagnostics(client, uri, 1) == []
    _change(client, uri, 2, types.TextDocumentContentChangeWholeDocument(text="other words\n"))
    assert await wait_for_diagnostics(client, uri, 2) == []


async def test_huge_document_gets_reason_not_crash(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "huge.py").as_uri()
    _open(client, uri, "x = 1\n" * 1_000_000)
    diagnostics = await wait_for_diagnostics(client, uri, 1)
    assert [d.code for d in diagnostics] == ["not-parsed"]
    assert "MiB limit" in diagnostics[0].message
    # and the server still answers
    small = (workspace / "after.py").as_uri()
    _open(client, small, "def ok(:\n")
    assert await wait_for_diagnostics(client, small, 1)


async def test_change_for_unknown_document_is_ignored(
    client: LanguageClient, workspace: Path
) -> None:
    _change(client, (workspace / "never-opened.py").as_uri(), 5, _edit(0, 0, 0, 0, "x"))
    uri = (workspace / "alive.py").as_uri()
    _open(client, uri, "x = (\n")
    assert await wait_for_diagnostics(client, uri, 1)


async def test_bad_settings_are_shown(client: LanguageClient) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"chmocoder": {"maxTokens": -5}})
    )
    for _ in range(50):
        if any("maxTokens" in m.message for m in client.messages):
            break
        await asyncio.sleep(0.05)
    assert any("maxTokens" in m.message and "384" in m.message for m in client.messages)
