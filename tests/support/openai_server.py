"""llama-cpp-python's own OpenAI-compatible server (`python -m llama_cpp.server`) on a test
model: a real model server for the openai runtime's tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def llama_cpp_server(
    model: Path,
    *,
    api_key: str = "",
    alias: str = "tiny",
    n_ctx: int = 2048,
    log: Path | None = None,
) -> Iterator[str]:
    """The server's OpenAI base URL (…/v1) once it answers; stopped at the end. `log`: where
    its standard output goes (unbuffered), for tests that read what it says."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
               "--model_alias", alias, "--n_threads", "1"]  # fmt: skip
    if api_key:
        command += ["--api_key", api_key]
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                request = urllib.request.Request(url + "/models", headers=headers)
                urllib.request.urlopen(request, timeout=1).read()
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(
                        process.stderr.read().decode() if process.stderr else "server died"
                    ) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        if log is not None:
            out.close()  # type: ignore[union-attr]
