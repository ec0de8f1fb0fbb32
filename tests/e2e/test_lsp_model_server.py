"""A model server over LSP: while a busy server (503, 429) is asked again, the status bar
says the request waits and why, then the answer comes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from ..support.common import options
from ..support.openai_server import busy_server


async def test_the_status_says_a_busy_server_is_asked_again(
    lsp: LanguageClient, tiny_model: Path, tmp_path: Path
) -> None:
    capabilities = client_capabilities("visual-studio-code")
    capabilities.experimental = {"chmocoder": {"markdownPanel": True}}
    source = tmp_path / "m.py"
    source.write_text("def double(x):\n    return 2 * x\n")
    with busy_server(2) as url:
        await lsp.initialize_session(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=tmp_path.as_uri(),
                initialization_options=options(
                    tiny_model, lsp.cache,  # type: ignore[attr-defined]
                    runtime="openai", endpoint=url, endpointFim="off", model="stand-in",
                ),
            )
        )  # fmt: skip
        uri = source.as_uri()
        lsp.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=source.read_text()
                )
            )
        )
        answer = await asyncio.wait_for(
            lsp.workspace_execute_command_async(
                types.ExecuteCommandParams(command="chmocoder.ask", arguments=[uri, None, "Why?"])
            ),
            60,
        )
    assert "ok" in answer["markdown"]
    said = [(s.state, s.detail) for s in lsp.status]  # type: ignore[attr-defined]
    waiting = [detail for state, detail in said if state == "waiting"]
    assert waiting == [
        "model server busy (503): asking again in 0.5 s",
        "model server busy (429): asking again in 1.0 s",
    ], said
    assert said[-1][0] == "ready"  # and once answered, ready again
