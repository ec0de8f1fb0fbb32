"""A 10,000-file workspace is indexed in the background with progress; the server stays responsive."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from ..support.common import NO_MODEL

FILES = 10_000


@pytest.fixture(scope="module")
def big_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big")
    for i in range(FILES):
        folder = root / f"pkg{i // 500:02}"
        folder.mkdir(exist_ok=True)
        (folder / f"mod{i:05}.py").write_text(
            f"def function_{i}(x):\n    '''Number {i}.'''\n    return x + {i}\n\n\nclass Thing{i}:\n    pass\n"
        )
    return root


@pytest.fixture
async def client(lsp: LanguageClient, big_workspace: Path) -> LanguageClient:
    await lsp.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=big_workspace.as_uri(),
            initialization_options=NO_MODEL,
        )
    )
    return lsp


async def test_server_answers_while_indexing(client: LanguageClient, big_workspace: Path) -> None:
    uri = (big_workspace / "open.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="def f(:\n"
            )
        )
    )
    for _ in range(400):
        if any(p.uri == uri for p in client.published):  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.025)
    else:
        raise AssertionError("no diagnostics while the workspace was indexing")

    def index_reports() -> list[object]:
        return [
            v
            for token, values in client.progress_reports.items()
            if "index" in str(token)
            for v in values
        ]

    assert not any(isinstance(v, types.WorkDoneProgressEnd) for v in index_reports()), (
        "indexing had already finished: this test did not overlap with it"
    )
    for _ in range(1200):
        if any(isinstance(v, types.WorkDoneProgressEnd) for v in index_reports()):
            break
        await asyncio.sleep(0.1)
    reports = index_reports()
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert any(isinstance(v, types.WorkDoneProgressReport) for v in reports)
    end = reports[-1]
    assert isinstance(end, types.WorkDoneProgressEnd)
    assert end.message == f"{FILES} files indexed"
