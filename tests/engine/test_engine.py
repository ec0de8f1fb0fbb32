"""The Engine facade: cache across restarts, structured output, the openai runtime on a real server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from chmocoder.engine.engine import CallRecord, Engine
from chmocoder.engine.types import ChatMessage, EngineError, GenerationParams

from ..support.common import engine_config
from ..support.openai_server import free_port, llama_cpp_server


class Finding(BaseModel):
    line: int = Field(ge=1, le=9999)
    severity: Literal["error", "warning"]
    message: str = Field(max_length=30)


@pytest.fixture(scope="module")
def openai_server(tiny_model: Path) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on the tiny model, with an API key."""
    with llama_cpp_server(tiny_model, api_key="sekret") as url:
        yield url


@pytest.fixture
async def engine(tiny_model: Path, tmp_path: Path) -> AsyncIterator[Engine]:
    made = Engine(
        engine_config(model=str(tiny_model), cache_dir=tmp_path / "cache", n_ctx=2048, idle_s=20)
    )
    yield made
    if made.daemon is not None:
        await made.daemon.shutdown_daemon()
    await made.close()


async def test_cache_answers_after_a_restart(tiny_model: Path, tmp_path: Path) -> None:
    records: list[CallRecord] = []
    config = engine_config(
        model=str(tiny_model), cache_dir=tmp_path / "cache", n_ctx=2048, idle_s=20
    )
    first = Engine(config, on_record=records.append)
    cold = await first.generate("explain", "def f(): pass", GenerationParams(max_tokens=20, seed=4))
    assert first.daemon is not None
    await first.daemon.shutdown_daemon()
    await first.close()

    second = Engine(config, on_record=records.append)
    streamed: list[str] = []
    warm = await second.generate(
        "explain",
        "def f(): pass",
        GenerationParams(max_tokens=20, seed=4),
        on_token=streamed.append,
    )
    assert warm.cached and warm.text == cold.text and streamed == [cold.text]
    assert [r.cache_hit for r in records] == [False, True]
    assert (
        records[0].completion_tokens == 20 and records[0].prompt is None
    )  # no code text in records
    other_task = await second.generate(
        "review", "def f(): pass", GenerationParams(max_tokens=20, seed=4)
    )
    assert not other_task.cached
    # odds are the text's, not the task's: the fix finds the review's odds in the cache
    odds = await second.generate("review", "def f(): pass", GenerationParams(score_from=4))
    again = await second.generate("fix", "def f(): pass", GenerationParams(score_from=4))
    assert not odds.cached and again.cached and again.scores == odds.scores and odds.scores
    assert [r.cache_hit for r in records[-2:]] == [False, True] and records[-1].task == "fix"
    assert second.daemon is not None
    await second.daemon.shutdown_daemon()
    await second.close()


async def test_an_answer_stopped_as_of_no_use_is_not_kept(engine: Engine) -> None:
    """An answer its caller stopped is the answer and is cached (a shaped explanation), unless
    the caller says it stopped it as of no use (keep_stopped=False: a fix's candidate that
    copied the cursor's line); and a prediction drafts through the daemon."""
    seen: list[str] = []

    def three(piece: str) -> bool:
        seen.append(piece)
        return len(seen) < 3

    def first(piece: str) -> bool:
        seen.append(piece)
        return False

    params = GenerationParams(max_tokens=30, seed=5, prediction="def f(): pass")
    # stopped at its first piece: on a loaded machine the daemon's pieces come coalesced
    # (once, all 30 tokens in two pieces), so only the first piece is sure to be a stop
    useless = await engine.generate("fix", "def f():", params, on_token=first, keep_stopped=False)
    assert len(seen) == 1 and useless.text == seen[0]
    again = await engine.generate("fix", "def f():", params)
    # answered anew, to its end: not the cached cut text, nor the stopped job's ("cancelled").
    # (The tiny model may finish all 30 tokens before the stop reaches the daemon: then the
    # two texts are the same.)
    assert not again.cached and again.finish_reason == "length"
    assert again.text.startswith(useless.text)
    seen.clear()
    other = params.model_copy(update={"seed": 6})
    kept = await engine.generate("fix", "def f():", other, on_token=three)
    assert (await engine.generate("fix", "def f():", other)).text == kept.text


async def test_a_json_schema_constrains_the_output_to_it(engine: Engine) -> None:
    """llama-cpp turns GenerationParams.json_schema into a grammar: even the random tiny
    model writes JSON of the schema's shape (the grammar does not enforce numeric bounds)."""
    result = await engine.generate(
        "review",
        "Findings as JSON:",
        GenerationParams(
            max_tokens=300, seed=2, temperature=0.7, json_schema=Finding.model_json_schema()
        ),
    )
    assert result.finish_reason == "stop"
    data = json.loads(result.text, strict=False)
    assert set(data) == {"line", "severity", "message"}
    assert isinstance(data["line"], int) and data["severity"] in ("error", "warning")
    assert isinstance(data["message"], str)


async def test_token_odds_come_through_the_daemon_and_the_cache(engine: Engine) -> None:
    """score_from through the shared daemon (its protocol and scheduler), then from the
    result cache: the same odds both times."""
    text = "def f(x):\n    return x + 1\n"
    params = GenerationParams(score_from=text.index("return"))
    first = await engine.generate("review", text, params)
    assert first.text == "" and not first.cached and len(first.scores) > 3
    assert first.scores[0][0] == text.index("return") and all(n >= 0 for _, n in first.scores)
    again = await engine.generate("review", text, params)
    assert again.cached and again.scores == first.scores


async def test_openai_runtime_streams_completions_and_chat(
    openai_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHMO_TEST_KEY", "sekret")
    engine = Engine(
        engine_config(
            runtime="openai",
            endpoint=openai_server,
            api_key_env="CHMO_TEST_KEY",
            cache_dir=tmp_path / "c",
        )
    )
    info = await engine.start()
    assert (info.runtime, info.name) == ("openai", "tiny")
    pieces: list[str] = []
    result = await engine.generate(
        "explain", "def f(x):", GenerationParams(max_tokens=12, seed=1), on_token=pieces.append
    )
    assert result.finish_reason == "length" and result.usage.completion_tokens == 12
    await asyncio.sleep(0)
    assert "".join(pieces) == result.text
    chat = await engine.generate(
        "ask", [ChatMessage(role="user", content="hi")], GenerationParams(max_tokens=6)
    )
    assert chat.usage.completion_tokens == 6
    with pytest.raises(EngineError) as refused:  # a server gives no odds of a prompt's tokens
        await engine.generate("review", "def f(x):", GenerationParams(score_from=0))
    assert refused.value.code == "unsupported"
    await engine.close()


async def test_openai_runtime_wrong_key_and_no_server(
    openai_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHMO_TEST_KEY", "wrong")
    engine = Engine(
        engine_config(
            runtime="openai",
            endpoint=openai_server,
            api_key_env="CHMO_TEST_KEY",
            cache_dir=tmp_path,
        )
    )
    with pytest.raises(EngineError) as error:
        await engine.start()
    assert error.value.code == "unauthorized"
    nobody = Engine(
        engine_config(
            runtime="openai", endpoint=f"http://127.0.0.1:{free_port()}/v1", cache_dir=tmp_path
        )
    )
    with pytest.raises(EngineError) as error:
        await nobody.start()
    assert error.value.code == "server-unreachable" and "cannot be reached" in error.value.message
    bad = Engine(engine_config(runtime="openai", endpoint="ftp://example", cache_dir=tmp_path))
    with pytest.raises(EngineError, match="not an http"):
        await bad.start()


async def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    engine = Engine(engine_config(model=str(tmp_path / "none.gguf"), cache_dir=tmp_path))
    with pytest.raises(EngineError, match="does not exist"):
        await engine.start()
