"""Cancelling a request to a model server closes its connection, and the server stops
generating: against llama-cpp-python's own server, which stops its generator when it sees
the client gone (it says so on its output) and then serves the next request."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from chmocoder.engine.engine import Engine
from chmocoder.engine.types import ChatMessage, GenerationParams

from ..support.common import engine_config
from ..support.openai_server import llama_cpp_server

LONG = GenerationParams(max_tokens=6000, temperature=1.0, repeat_penalty=1.0, seed=7)
PROMPT = [ChatMessage(role="user", content="Write a long story.")]
GONE = "Disconnected from client"


async def _said(log: Path, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_cancelling_a_request_stops_the_servers_generation(
    tiny_model: Path, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    with llama_cpp_server(tiny_model, n_ctx=8192, log=log) as url:
        engine = Engine(engine_config(runtime="openai", endpoint=url, use_cache=False,
                                      cache_dir=tmp_path / "cache"))  # fmt: skip
        try:
            await engine.start()
            pieces: list[str] = []
            first = asyncio.Event()

            def token(piece: str) -> None:
                pieces.append(piece)
                first.set()

            job = asyncio.create_task(engine.generate("ask", PROMPT, LONG, on_token=token))
            await asyncio.wait_for(first.wait(), 60)
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
            assert job.cancelled()
            # the server saw the connection close while it generated, and stopped
            assert await _said(log, GONE, 30), log.read_text(errors="replace")[-2000:]
            assert len(pieces) < LONG.max_tokens // 10
            # and it is free again: the next request is served to its end
            short = GenerationParams(max_tokens=8, temperature=0.0, seed=1)
            result = await asyncio.wait_for(engine.generate("ask", PROMPT, short), 60)
            assert (
                result.finish_reason in ("stop", "length") and result.usage.completion_tokens >= 1
            )
        finally:
            await engine.close()
