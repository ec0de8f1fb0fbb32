"""What the tests share besides fixtures: paths, the server command and its environment,
and an LSP client that records what the server publishes (imported by the test modules;
conftest.py keeps the fixtures)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.engine.engine import EngineConfig

FIXTURES = Path(__file__).parent.parent / "fixtures"
REPO = Path(__file__).parent.parent.parent


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


_REGISTRY = LanguageRegistry()


def document_of(name: str, source: str) -> Document:
    """A document of `source`, in the language its file `name` says."""
    return Document(f"file:///{name}", source.encode(), language=_REGISTRY.lookup(path=name))


def quality_benchmark() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """bench/quality's correct programs by "language/name", and all its mutants."""
    folder = str(REPO / "bench" / "quality")
    sys.path.insert(0, folder)
    try:
        from mutants import load_cases, load_programs
    finally:
        sys.path.remove(folder)
    return {p.key: p for p in load_programs()}, load_cases()


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


def engine_config(**fields: object) -> EngineConfig:
    """The engine's config as the product builds it from the default Settings, with `fields`
    (EngineConfig's own names) changed."""
    from chmocoder import compose
    from chmocoder.config import Settings

    return dataclasses.replace(compose.engine_config(Settings()), **fields)  # type: ignore[arg-type]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """`chmocoder ARGS` as a user runs it, from the repository's root (or `cwd`)."""
    return subprocess.run(
        [sys.executable, "-m", "chmocoder", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=cwd,
    )


@contextlib.contextmanager
def tcp_server(env: dict[str, str], port: int) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A `serve --tcp` process on loopback, and its token file (checked to be 0600)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "chmocoder", "serve", "--tcp", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.stderr is not None
        said = server.stderr.readline().decode()  # "... the token in PATH as ..."
        assert "must send the token in " in said, said + server.stderr.read().decode()
        token_file = Path(said.split("the token in ", 1)[1].split(" as ", 1)[0])
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        yield server, token_file
    finally:
        server.kill()
        server.wait(10)


NO_MODEL = {"warm": False, "review": {"mode": "off"}}
"""Settings for a server whose tests need no model: nothing asks for one unbidden (warming
ahead would assemble the default model, 1.1 GB, where it is installed)."""


def options(tiny_model: Path, cache: Path, **extra: Any) -> dict[str, Any]:
    """initializationOptions for a server on the tiny model, its cache in `cache`."""
    return {
        "model": str(tiny_model),
        "nCtx": 2048,
        "nThreads": 1,
        "maxTokens": 24,
        "daemonIdleS": 5,
        "cacheDir": str(cache),
        "review": {"mode": "off"},
        "warm": False,  # these tests count the model's calls; warming has its own test
        **extra,
    }


def model_calls(client, at_least: int = 0) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """(task, cache hit) of every model call the server recorded (written in the background:
    waits up to 5 s for `at_least` of them)."""
    import time

    deadline = time.monotonic() + 5
    while True:
        calls = _model_calls(client)
        if len(calls) >= at_least or time.monotonic() > deadline:
            return calls
        time.sleep(0.05)


def _model_calls(client) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    path = client.cache / "stats.sqlite3"  # type: ignore[attr-defined]
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT task, cache_hit FROM calls ORDER BY at"))


def stopped(pid: int, wait_s: float = 5.0) -> bool:
    """Whether process `pid` is gone (a command's child stopped with it) within `wait_s`."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


async def code_actions(client, uri: str, at, diagnostics=()):  # type: ignore[no-untyped-def]
    """The server's code actions for `at` (a Range) in `uri`, given `diagnostics`."""
    from lsprotocol import types

    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=at,
            context=types.CodeActionContext(diagnostics=list(diagnostics)),
        )
    )
    assert actions is not None
    return actions


async def initialize(lsp, root: Path, init: dict[str, Any], client: str = "visual-studio-code"):  # type: ignore[no-untyped-def]
    """Initialize the server as `client` would, with `root` as the workspace and `init` as
    the initialization options; the client, ready."""
    from lsprotocol import types
    from pytest_lsp import client_capabilities

    await lsp.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(client),
            root_uri=root.as_uri(),
            initialization_options=init,
        )
    )
    return lsp
