"""Shared fixtures: the language registry, an isolated user environment, the tiny and the
Gemma model files, and the language server under test with its client. Helpers the tests
import are in support/common.py."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from chmocoder.analysis.languages import LanguageRegistry
from tests.support.common import SERVER_COMMAND, make_recording_client


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


@pytest_lsp.fixture(
    # No server_env: the server inherits the test's environment, with the throwaway user's
    # folders of isolated_user_dirs (an autouse fixture, set up before this one).
    config=ClientServerConfig(server_command=SERVER_COMMAND, client_factory=make_recording_client),
)
async def lsp(lsp_client: LanguageClient, tmp_path: Path, isolated_user_dirs: Path):  # type: ignore[no-untyped-def]
    """`chmocoder serve` over stdio, started, not yet initialized, with pytest-lsp's client.
    The client also keeps every publishDiagnostics (`published`), `chmocoder/markdown`
    (`markdown`) and `chmocoder/status` (`status`); `cache` is a cache folder for the
    server's settings, `home` the throwaway user's. Test modules initialize it in their own
    `client` fixture (capabilities, workspace, settings); it is shut down after the test."""
    lsp_client.cache = tmp_path / "cache"  # type: ignore[attr-defined]
    lsp_client.home = isolated_user_dirs  # type: ignore[attr-defined]
    lsp_client.markdown = []  # type: ignore[attr-defined]
    lsp_client.status = []  # type: ignore[attr-defined]

    @lsp_client.feature("chmocoder/markdown")
    def on_markdown(ls: LanguageClient, params: object) -> None:
        ls.markdown.append(params)  # type: ignore[attr-defined]

    @lsp_client.feature("chmocoder/status")
    def on_status(ls: LanguageClient, params: object) -> None:
        ls.status.append(params)  # type: ignore[attr-defined]

    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), 30)  # shutdown, exit, wait
    # pytest-lsp then waits for the process without closing its input: a server the test
    # never initialized (it failed first), or one shutdown_session skipped after an error,
    # would be waited for forever. `exit` ends it; a server that ignores that is killed.
    server = lsp_client._server
    if server is not None and server.returncode is None:
        lsp_client.exit(None)
        try:
            await asyncio.wait_for(server.wait(), 10)
        except TimeoutError:
            server.kill()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Llama GGUF (about 0.5 MB) with an 8k context, written by the gguf package."""
    from tests.support.tiny_model import write_tiny_llama

    return write_tiny_llama(
        tmp_path_factory.mktemp("models") / "tiny-llama.gguf", context_length=8192
    )


@pytest.fixture(scope="session")
def tiny_fim_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with fill-in-the-middle tokens in its vocabulary (inline completion)."""
    from tests.support.tiny_model import write_tiny_llama

    return write_tiny_llama(
        tmp_path_factory.mktemp("models") / "tiny-fim.gguf", context_length=8192, fim=True
    )


@pytest.fixture(scope="session")
def gemma_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogue's Gemma 3 270M (installed by the test command), assembled once for the
    session: the real model for the few tests whose point is a real model's behaviour."""
    from chmocoder.engine.models import resolve_model

    return resolve_model("gemma3-270m", tmp_path_factory.mktemp("model-cache"))


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, filled (needs root, as CI is; skipped elsewhere)."""
    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        with contextlib.suppress(OSError), (folder / "filler").open("wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
