"""Shared fixtures: the language registry, fixture paths, and an isolated user environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def registry() -> LanguageRegistry:
    return LanguageRegistry()


@pytest.fixture(autouse=True)
def isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Cache, log and runtime directories of a throwaway user, for every test."""
    home = tmp_path_factory.mktemp("home")
    for variable in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"):
        monkeypatch.setenv(variable, str(home / variable.lower()))
    (home / "xdg_runtime_dir").mkdir(mode=0o700)  # as the XDG spec (and platformdirs) wants it
    return home


def server_env(home: Path) -> dict[str, str]:
    """The environment for a server subprocess: this one, with the throwaway user's dirs."""
    env = dict(os.environ)
    for variable in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"):
        env[variable] = str(home / variable.lower())
    return env


SERVER_COMMAND = [sys.executable, "-m", "chmocoder", "serve", "--log-level", "debug"]


def open_document(registry: LanguageRegistry, path: Path) -> Document:
    return Document(
        path.resolve().as_uri(), path.read_bytes(), language=registry.lookup(path=path.name)
    )


def make_recording_client():  # type: ignore[no-untyped-def]
    """pytest-lsp's client that also keeps every publishDiagnostics with its version."""
    from lsprotocol import types
    from pytest_lsp.client import make_test_lsp_client

    client = make_test_lsp_client()
    client.published = []  # type: ignore[attr-defined]
    client.protocol.fm._features.pop(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, None)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish_diagnostics(ls, params: types.PublishDiagnosticsParams) -> None:  # type: ignore[no-untyped-def]
        ls.diagnostics[params.uri] = params.diagnostics
        ls.published.append(params)

    return client


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Llama GGUF (about 0.5 MB) with an 8k context, written by the gguf package."""
    from tests.support.tiny_model import write_tiny_llama

    return write_tiny_llama(
        tmp_path_factory.mktemp("models") / "tiny-llama.gguf", context_length=8192
    )


@pytest.fixture(scope="session")
def gemma_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogue's Gemma 3 270M (installed by the test command), assembled once for the
    session: the real model for the few tests whose point is a real model's behaviour."""
    from chmocoder.engine.models import resolve_model

    return resolve_model("gemma3-270m", tmp_path_factory.mktemp("model-cache"))


async def wait_for_diagnostics(client, uri: str, version: int):  # type: ignore[no-untyped-def]
    """Diagnostics for this version of a document: pulled if the client pulls them (the
    server then does not push), else the pushed ones (needs make_recording_client)."""
    import asyncio

    from lsprotocol import types

    capabilities = client.capabilities
    if capabilities and capabilities.text_document and capabilities.text_document.diagnostic:
        report = await client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri))
        )
        return list(report.items)
    for _ in range(600):
        for params in reversed(client.published):
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics for version {version} of {uri}")


def pulls(client) -> bool:  # type: ignore[no-untyped-def]
    capabilities = client.capabilities
    return bool(
        capabilities and capabilities.text_document and capabilities.text_document.diagnostic
    )
