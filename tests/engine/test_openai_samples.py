"""Several samples of one prompt in one request (`n`) on a model server: a server that
takes `n` streams them together; one that refuses it (400) or ignores it (llama-cpp-python's
own server) is then asked for one sample at a time, and the log says so."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from chmocoder.engine.engine import Engine
from chmocoder.engine.types import GenerationParams

from ..support.common import engine_config
from ..support.openai_server import StandIn, llama_cpp_server, stand_in

THREE = GenerationParams(max_tokens=8, temperature=0.7, repeat_penalty=1.0, seed=2, n=3)


class _Samples(StandIn):
    """Streams `n` choices, their events interleaved; with `refuse`, answers 400 to `n`."""

    refuse = False
    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.body()
        self.bodies.append(body)
        n = int(body.get("n", 1))
        if n > 1 and self.refuse:
            self.send(400, "application/json", b'{"error": "only one choice is allowed"}')
            return
        events = [{"choices": [{"index": i, "text": f"sample {i}", "finish_reason": None}]}
                  for i in reversed(range(n))]  # fmt: skip
        events += [{"choices": [{"index": i, "text": "!", "finish_reason": "stop"}]}
                   for i in range(n)]  # fmt: skip
        events.append({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4 * n}})
        stream = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        self.send(200, "text/event-stream", stream.encode())


@pytest.fixture
def samples_server() -> Iterator[str]:
    _Samples.bodies.clear()
    try:
        with stand_in(_Samples) as url:
            yield url
    finally:
        _Samples.refuse = False


def _engine(url: str, tmp_path: Path) -> Engine:
    return Engine(engine_config(runtime="openai", endpoint=url, endpoint_fim="off",
                                cache_dir=tmp_path, use_cache=False))  # fmt: skip


async def test_a_server_that_takes_n_streams_the_samples_together(
    samples_server: str, tmp_path: Path
) -> None:
    engine = _engine(samples_server, tmp_path)
    try:
        result = await engine.generate("review", "fix it", THREE)
    finally:
        await engine.close()
    assert (result.text, result.others) == ("sample 0!", ["sample 1!", "sample 2!"])
    assert result.finish_reason == "stop" and result.usage.completion_tokens == 12
    assert [b.get("n") for b in _Samples.bodies] == [3] and _Samples.bodies[0]["seed"] == 2


async def test_a_server_that_refuses_n_is_asked_for_one_sample_at_a_time(
    samples_server: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "chmocoder")
    _Samples.refuse = True
    url = samples_server.replace("127.0.0.1", "localhost")  # another endpoint: nothing remembered
    engine = _engine(url, tmp_path)
    try:
        first = await engine.generate("review", "fix it", THREE)
        again = await engine.generate("review", "fix it again", THREE)
    finally:
        await engine.close()
    assert (first.text, first.others, again.text) == ("sample 0!", [], "sample 0!")
    assert [b.get("n") for b in _Samples.bodies] == [3, None, None]
    said = [r.getMessage() for r in caplog.records if "one at a time" in r.getMessage()]
    assert len(said) == 1 and "refused n" in said[0]


async def test_llama_cpp_servers_one_sample_for_n_is_noticed(
    tiny_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """llama-cpp-python's server accepts `n` and makes one sample: the first is the answer,
    and the endpoint is asked for one at a time from then on."""
    caplog.set_level(logging.INFO, "chmocoder")
    with llama_cpp_server(tiny_model) as url:
        engine = _engine(url, tmp_path)
        try:
            result = await engine.generate("review", "fix it", THREE)
        finally:
            await engine.close()
    assert result.text and result.others == []
    said = [r.getMessage() for r in caplog.records if "one at a time" in r.getMessage()]
    assert len(said) == 1 and "answered one sample" in said[0]
