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


def _raw_surprisals(model: Path, text: str) -> list[float]:
    """Raw llama-cpp-python with every position's logits: -ln p of each token after the first."""
    import numpy as np
    from llama_cpp import Llama

    llm = Llama(str(model), n_ctx=1024, n_threads=1, logits_all=True, verbose=False)
    tokens = llm.tokenize(text.encode(), add_bos=True)
    llm.eval(tokens)
    logits = np.asarray(llm.scores[: len(tokens)], dtype=np.float64)
    top = logits.max(axis=1)
    norm = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
    return [float(norm[i - 1] - logits[i - 1, tokens[i]]) for i in range(1, len(tokens))]


def test_llama_cpp_scores_a_prompt_as_raw_logits_do(tiny_model: Path) -> None:
    """score_from: each token's surprisal from that character on, the same as raw
    llama-cpp-python with logits_all gives, whatever the context held before (a longer
    prompt first: its tokens are reused, then cut back) and in chunks of any size."""
    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=1024, n_threads=1))
    before = "int clamp(int x) {\n"
    text = before + "    if (x < 0) return 0;\n    return x > 9 ? 9 : x;\n}\n"
    raw = _raw_surprisals(tiny_model, text)
    runtime.generate(text + "// more", GenerationParams(max_tokens=2), lambda t: True)
    asked: list[str] = []
    result = runtime.generate(
        text, GenerationParams(score_from=len(before)), lambda t: asked.append(t) or True
    )
    assert result.finish_reason == "stop" and result.text == "" and asked
    offsets = [o for o, _ in result.scores]
    assert offsets == sorted(offsets) and offsets[0] == len(before) and offsets[-1] < len(text)
    scored = [s for _, s in result.scores]
    assert scored == pytest.approx(raw[-len(scored) :], abs=1e-3)
    assert len(scored) < len(raw)  # the tokens before were context, not scored
    whole = runtime.generate(text, GenerationParams(score_from=0), lambda t: True)
    assert [s for _, s in whole.scores] == pytest.approx(raw, abs=1e-3)


def test_scoring_stops_when_told_and_other_runtimes_refuse(tiny_model: Path) -> None:
    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=1024, n_threads=1))
    stopped = runtime.generate("x = 1\n" * 20, GenerationParams(score_from=6), lambda t: False)
    assert stopped.finish_reason == "cancelled" and stopped.scores == []
    with pytest.raises(EngineError) as chat:
        runtime.generate(
            [ChatMessage(role="user", content="hi")], GenerationParams(score_from=0), lambda t: True
        )
    assert chat.value.code == "bad-request"
    other = load_runtime("ctransformers", tiny_model, LoadSettings(n_ctx=1024, n_threads=1))
    with pytest.raises(EngineError) as refused:
        other.generate("x = 1", GenerationParams(score_from=0), lambda t: True)
    assert refused.value.code == "unsupported"


def test_llama_cpp_prediction_drafts_the_same_answer(tiny_model: Path) -> None:
    """GenerationParams.prediction: an answer drafted from a text it copies is the plain
    answer (greedy and seeded sampling), and the drafts were taken; an unrelated prediction
    changes nothing; stop strings, the token limit and a sink's stop hold as without it."""
    runtime = load_runtime("llama-cpp", tiny_model, LoadSettings(n_ctx=1024, n_threads=1))
    assert hasattr(runtime, "drafted")
    for params in (
        GenerationParams(max_tokens=40, temperature=0.0, repeat_penalty=1.0),
        GenerationParams(max_tokens=40, temperature=0.9, repeat_penalty=1.0, seed=7),
    ):
        plain = runtime.generate("def f(x):", params, lambda t: True)
        assert plain.usage.completion_tokens == 40
        before = runtime.drafted
        pieces: list[str] = []
        drafted = runtime.generate(
            "def f(x):",
            params.model_copy(update={"prediction": plain.text}),
            lambda t, kept=pieces: kept.append(t) or True,
        )
        assert drafted.text == plain.text and "".join(pieces) == plain.text
        assert (drafted.finish_reason, drafted.usage.completion_tokens) == ("length", 40)
        assert runtime.drafted - before >= 20  # most of it came from drafts
        other = runtime.generate(
            "def f(x):", params.model_copy(update={"prediction": "int main(void) {}"}),
            lambda t: True,
        )  # fmt: skip
        assert other.text == plain.text
    plain = runtime.generate(
        "abc", GenerationParams(max_tokens=30, temperature=0.0), lambda t: True
    )
    stop = plain.text[10:13]
    assert stop.strip()
    params = GenerationParams(max_tokens=30, temperature=0.0, stop=(stop,))
    cut = runtime.generate("abc", params, lambda t: True)
    predicted = runtime.generate(
        "abc", params.model_copy(update={"prediction": plain.text}), lambda t: True
    )
    assert cut.finish_reason == predicted.finish_reason == "stop"
    assert predicted.text == cut.text == plain.text[: plain.text.index(stop)]
    seen: list[str] = []
    stopped = runtime.generate(
        "abc",
        GenerationParams(max_tokens=30, temperature=0.0, prediction=plain.text),
        lambda t: seen.append(t) or len(seen) < 3,
    )
    assert stopped.finish_reason == "cancelled" and len(seen) == 3
