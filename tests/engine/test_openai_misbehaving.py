"""The openai runtime against a local stand-in for a model server that misbehaves: endless
streams, no line breaks, a byte a second, garbage, silence. Each ends in bounded time and
memory with an error that says what happened; nothing bad is cached."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chmocoder.config import Settings
from chmocoder.engine.engine import Engine
from chmocoder.engine.runtimes import OpenAISettings
from chmocoder.engine.runtimes.openai import OpenAIRuntime
from chmocoder.engine.types import EngineError, GenerationParams

from ..support.common import engine_config


def sse(text: str) -> bytes:
    event = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return f"data: {json.dumps(event)}\n\n".encode()


class Bad(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "ok"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = type(self).mode
        if mode == "silent":
            time.sleep(30)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            if mode == "ok":
                for word in ("Hello", " world", "."):
                    self.wfile.write(sse(word))
                self.wfile.write(b"data: [DONE]\n\n")
            elif mode == "endless":
                while True:
                    self.wfile.write(sse("x"))
            elif mode == "no-newline":
                chunk = b"a" * 65536
                for _ in range(400):  # 25 MiB without a line break
                    self.wfile.write(chunk)
            elif mode == "slow":
                for byte in sse("slow") * 10:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(1.0)
            elif mode == "invalid":
                for data in ("[1, 2]", '"text"', '{"choices": "x"}', '{"choices": [3]}',
                             '{"usage": "many"}', "{not json"):  # fmt: skip
                    self.wfile.write(f"data: {data}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
            elif mode == "garbage":
                self.wfile.write(b"<html><body>Bad gateway</body></html>\n" * 100)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Bad]]]:
    handler = type("Handler", (Bad,), {"mode": "ok"})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", handler
    httpd.shutdown()
    httpd.server_close()


def runtime(endpoint: str, **timeouts: float) -> OpenAIRuntime:
    defaults = Settings()
    settings = OpenAISettings(
        endpoint=endpoint,
        n_ctx=defaults.n_ctx,
        model_name="m",
        connect_timeout_s=timeouts.get("connect_timeout_s", defaults.connect_timeout_s),
        first_byte_timeout_s=timeouts.get("first_byte_timeout_s", defaults.first_byte_timeout_s),
        request_timeout_s=timeouts.get("request_timeout_s", defaults.request_timeout_s),
    )
    return OpenAIRuntime(settings)


def test_a_stream_that_ignores_max_tokens_is_stopped(server: tuple[str, type[Bad]]) -> None:
    endpoint, handler = server
    handler.mode = "endless"
    started = time.monotonic()
    result = runtime(endpoint).generate("hi", GenerationParams(max_tokens=50), lambda _t: True)
    assert result.finish_reason == "length" and len(result.text) <= 60
    assert time.monotonic() - started < 5


def test_a_body_without_line_breaks_is_refused_in_bounded_memory(
    server: tuple[str, type[Bad]],
) -> None:
    import resource

    endpoint, handler = server
    handler.mode = "no-newline"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(EngineError) as error:
        runtime(endpoint).generate("hi", GenerationParams(max_tokens=50), lambda _t: True)
    assert error.value.code == "invalid-response" and "over 1 MiB" in error.value.message
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 64


def test_a_byte_a_second_meets_the_deadline(server: tuple[str, type[Bad]]) -> None:
    endpoint, handler = server
    handler.mode = "slow"
    started = time.monotonic()
    with pytest.raises(EngineError) as error:
        runtime(endpoint, request_timeout_s=2.0).generate(
            "hi", GenerationParams(max_tokens=50), lambda _t: True
        )
    assert error.value.code == "deadline"
    assert time.monotonic() - started < 4


def test_invalid_events_are_an_error_with_a_message(server: tuple[str, type[Bad]]) -> None:
    endpoint, handler = server
    handler.mode = "invalid"
    result = runtime(endpoint).generate("hi", GenerationParams(max_tokens=50), lambda _t: True)
    assert result.text == ""  # well-formed JSON objects without text: no crash
    handler.mode = "garbage"
    with pytest.raises(EngineError) as error:
        runtime(endpoint).generate("hi", GenerationParams(max_tokens=50), lambda _t: True)
    assert error.value.code == "invalid-response" and "OpenAI-compatible" in error.value.message


def test_a_server_that_does_not_answer_is_reported_in_seconds(
    server: tuple[str, type[Bad]],
) -> None:
    endpoint, handler = server
    handler.mode = "silent"
    started = time.monotonic()
    with pytest.raises(EngineError) as error:
        runtime(endpoint, first_byte_timeout_s=1.0).generate(
            "hi", GenerationParams(max_tokens=5), lambda _t: True
        )
    assert error.value.code == "server-timeout" and "within 1 s" in error.value.message
    assert time.monotonic() - started < 3
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(EngineError) as error:
        runtime(f"http://127.0.0.1:{closed}/v1").generate("hi", GenerationParams(), lambda _t: True)
    assert error.value.code == "server-unreachable" and time.monotonic() - started < 3


async def test_errors_and_empty_answers_are_never_cached(
    server: tuple[str, type[Bad]], tmp_path: Path
) -> None:
    endpoint, handler = server
    engine = Engine(
        engine_config(model="m", runtime="openai", endpoint=endpoint, cache_dir=tmp_path)
    )
    params = GenerationParams(max_tokens=20, temperature=0)
    handler.mode = "garbage"
    with pytest.raises(EngineError):
        await engine.generate("ask", "hi", params)
    handler.mode = "invalid"
    empty = await engine.generate("ask", "hi", params)
    assert empty.text == "" and not empty.cached
    handler.mode = "ok"
    recovered = await engine.generate("ask", "hi", params)
    assert recovered.text == "Hello world." and not recovered.cached
    again = await engine.generate("ask", "hi", params)
    assert again.cached and again.text == "Hello world."
    await engine.close()
