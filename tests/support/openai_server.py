"""llama-cpp-python's own OpenAI-compatible server (`python -m llama_cpp.server`) on a test
model: a real model server for the openai runtime's tests."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any


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
    threads: int = 1,
    log: Path | None = None,
) -> Iterator[str]:
    """The server's OpenAI base URL (…/v1) once it answers; stopped at the end. `log`: where
    its standard output goes (unbuffered), for tests that read what it says."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
               "--model_alias", alias, "--n_threads", str(threads),
               "--n_threads_batch", str(threads),
               # its default keeps every prompt token's logits (for prompt logprobs), which
               # costs time in proportion to the vocabulary; llama-server and vLLM do not
               "--logits_all", "False"]  # fmt: skip
    if api_key:
        command += ["--api_key", api_key]
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    # a file, not a pipe: nothing reads it while the server runs, and a real model's load
    # log fills a pipe's buffer, which would stop the server before it listens
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(command, stdout=out, stderr=errors,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                request = urllib.request.Request(url + "/models", headers=headers)
                urllib.request.urlopen(request, timeout=1).read()
                break
            except OSError:
                if process.poll() is not None:
                    errors.seek(0)
                    raise RuntimeError(errors.read().decode(errors="replace")[-4000:]) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        errors.close()
        if log is not None:
            out.close()  # type: ignore[union-attr]


class StandIn(http.server.BaseHTTPRequestHandler):
    """A stand-in model server's common part: /v1/models lists one model, and `send`."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # /v1/models
        self.send(200, "application/json", json.dumps({"data": [{"id": "stand-in"}]}).encode())

    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))

    def send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def stand_in(handler: type[StandIn]) -> Iterator[str]:
    """A stand-in model server with this handler: its OpenAI base URL (…/v1)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


class _Busy(StandIn):
    """Answers 503, then 429, to the first `busy_left` completions, then streams "ok"."""

    busy_left = 0

    def do_POST(self) -> None:
        self.body()
        if self.path not in ("/v1/completions", "/v1/chat/completions"):
            self.send(404, "application/json", b"{}")
        elif _Busy.busy_left > 0:
            _Busy.busy_left -= 1
            self.send(503 if _Busy.busy_left else 429, "application/json", b'{"error": "busy"}')
        else:
            events = [{"choices": [{"text": "ok", "delta": {"content": "ok"}}]},
                      {"choices": [{"text": "", "finish_reason": "stop"}]}]  # fmt: skip
            body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
            self.send(200, "text/event-stream", body.encode())


@contextlib.contextmanager
def busy_server(busy: int) -> Iterator[str]:
    """A model server busy (503, the last time 429) for its first `busy` completions."""
    _Busy.busy_left = busy
    with stand_in(_Busy) as url:
        yield url
