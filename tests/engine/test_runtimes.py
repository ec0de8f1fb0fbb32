"""The runtimes on real models: llama-cpp and ctransformers on the tiny Llama, gemma3 on llama-cpp."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from chmocoder.engine.runtimes import LoadSettings, load_runtime, physical_cores
from chmocoder.engine.types import ChatMessage, EngineError, GenerationParams


class Finding(BaseModel):
    line: int = Field(ge=1, le=100_000)
    severity: Literal["error", "warning", "info"]
    message: str = Field(max_length=40)


def test_llama_cpp_generates_and_streams(tiny_model: Path) -> None:
    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=1024, n_threads=2))
    pieces: list[str] = []
    result = runtime.generate(
        "def f(x):", GenerationParams(max_tokens=16, seed=3), lambda t: pieces.append(t) or True
    )
    assert result.finish_reason == "length"
    assert pieces and "".join(pieces) == result.text
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    assert result.timings.total_ms >= result.timings.prompt_ms > 0
    assert runtime.info.architecture == "llama" and runtime.info.context_length == 1024
    assert runtime.count_tokens("hello world") > 0
    again = runtime.generate("def f(x):", GenerationParams(max_tokens=16, seed=3), lambda t: True)
    assert again.text == result.text  # same seed, same text


def test_llama_cpp_stops_when_told(tiny_model: Path) -> None:
    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=2048, n_threads=0))
    seen: list[str] = []
    result = runtime.generate(
        "x", GenerationParams(max_tokens=1000), lambda t: seen.append(t) or len(seen) < 3
    )
    assert result.finish_reason == "cancelled"
    assert len(seen) == 3


def test_llama_cpp_resume_continues_the_text(tiny_model: Path) -> None:
    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=1024, n_threads=0))
    params = GenerationParams(max_tokens=8, temperature=0.0, repeat_penalty=1.0)
    first = runtime.generate("abc", params, lambda t: True)
    whole = first.text
    head = runtime.generate("abc", params.model_copy(update={"max_tokens": 3}), lambda t: True).text
    tail = runtime.generate(
        "abc", params.model_copy(update={"max_tokens": 5}), lambda t: True, resume=head
    )
    assert len(head) == 3 and whole.startswith(head)
    assert head + tail.text == whole  # greedy decoding: the continuation picks up where it stopped
    assert first.usage.completion_tokens == 8 and tail.usage.completion_tokens == 5
    assert tail.usage.prompt_tokens == first.usage.prompt_tokens + 3


def test_llama_cpp_json_schema_grammar_gives_valid_json(tiny_model: Path) -> None:
    """Random weights, constrained by the schema's grammar: the output still parses."""
    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=2048, n_threads=0))
    params = GenerationParams(
        max_tokens=400, json_schema=Finding.model_json_schema(), seed=1, temperature=0.8
    )
    result = runtime.generate("Findings:", params, lambda t: True)
    assert result.finish_reason == "stop", result.text
    Finding.model_validate(
        json.loads(result.text, strict=False)
    )  # raw control characters are allowed


def test_chat_messages_without_template_render_as_a_document(tiny_model: Path) -> None:
    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=1024, n_threads=0))
    assert runtime.info.chat is False  # the tiny model is a "base" model: no template, no -it name
    messages = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Say hi."),
    ]
    result = runtime.generate(messages, GenerationParams(max_tokens=4), lambda t: True)
    assert (
        result.usage.prompt_tokens == runtime.count_tokens("Be brief.\n\nSay hi.\n\n") + 1
    )  # + BOS


def test_ctransformers_generates(tiny_model: Path) -> None:
    runtime = load_runtime("ctransformers", tiny_model, LoadSettings(n_ctx=1024, n_threads=2))
    pieces: list[str] = []
    result = runtime.generate(
        "def f(x):", GenerationParams(max_tokens=8, seed=5), lambda t: pieces.append(t) or True
    )
    assert result.usage.completion_tokens == 8
    assert "".join(pieces) == result.text
    assert runtime.info.runtime == "ctransformers"


def test_ctransformers_refuses_gemma3_naming_the_architecture(gemma_model: Path) -> None:
    with pytest.raises(EngineError) as error:
        load_runtime("ctransformers", gemma_model, LoadSettings(n_ctx=2048, n_threads=0))
    assert error.value.code == "unsupported-architecture"
    assert "gemma3" in error.value.message and "llama-cpp" in error.value.message


def test_gemma_explains_code(gemma_model: Path) -> None:
    """The packaged Gemma 3 270M (a base model) continues a code explanation sensibly."""
    runtime = load_runtime("llama-cpp", gemma_model, LoadSettings(n_ctx=2048, n_threads=0))
    assert runtime.info.architecture == "gemma3" and runtime.info.chat is False
    prompt = (
        "Python code:\n```python\ndef clamp(value, low, high):\n    return max(low, min(value, high))\n```\n\n"
        "Explanation: The function `clamp`"
    )
    result = runtime.generate(
        prompt, GenerationParams(max_tokens=40, temperature=0.0, stop=("\n\n",)), lambda t: True
    )
    words = result.text.lower()
    assert result.usage.completion_tokens > 3
    assert any(w in words for w in ("value", "low", "high", "return", "between")), result.text


def test_unknown_runtime() -> None:
    with pytest.raises(EngineError, match="unknown runtime"):
        load_runtime("tensorflow", None, LoadSettings(n_ctx=2048, n_threads=0))


def test_physical_cores() -> None:
    assert 1 <= physical_cores() <= 4096
