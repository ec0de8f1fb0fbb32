"""An engine that answers from recorded model answers: tests of assist/ at its own boundary.

It is not a mock of the runtime (the runtimes are tested for real on the tiny model); it
stands where the engine stands for the Assistant and replays answers a real model gave, so
the pipeline around a model (prompting, shaping, verification, retries, filters) is tested
on realistic text, deterministically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from chmocoder.engine.types import (
    EngineError,
    GenerationParams,
    GenerationResult,
    ModelInfo,
    Prompt,
    Timings,
    Usage,
    prompt_text,
)

T = TypeVar("T", bound=BaseModel)


@dataclass
class RecordedEngine:
    answers: list[str]
    context_length: int = 32768
    chat: bool = True
    infill: bool = True
    prompts: list[str] = field(default_factory=list)
    params: list[GenerationParams] = field(default_factory=list)
    info: ModelInfo | None = None
    samples_per_call: int = 1
    """Above 1: like a model server that takes `n`, a call with GenerationParams.n makes up
    to this many samples (recorded answers) at once."""
    odds: list[list[tuple[int, float]]] | None = None
    """Answers to GenerationParams.score_from requests, in order (each token's character
    offset and surprisal); None: the engine cannot score, as a model server."""
    scored: list[tuple[str, int]] = field(default_factory=list)
    """(text, start) of each score request."""
    stopped: list[bool] = field(default_factory=list)
    """Of each answer replayed: whether its on_token stopped it before its end."""

    async def start(self) -> ModelInfo:
        self.info = ModelInfo(
            path="recorded.gguf",
            name="recorded",
            architecture="qwen2",
            context_length=self.context_length,
            size_bytes=0,
            runtime="recorded",
            fingerprint="0" * 16,
            chat=self.chat,
            infill=self.infill,
        )
        return self.info

    def cached(
        self, task: str, prompt: Prompt, params: GenerationParams
    ) -> GenerationResult | None:
        return None  # recorded answers are replayed in order, never looked up

    async def count_tokens(self, text: str) -> int:
        return len(text.encode()) // 4 + 1  # the BPE code tokenizers' rate, about 4 bytes a token

    async def generate(
        self,
        task: str,
        prompt: Prompt,
        params: GenerationParams | None = None,
        *,
        on_token: Callable[[str], Any] | None = None,
        **_: Any,
    ) -> GenerationResult:
        if params is not None and params.score_from is not None:
            return self._score(prompt, params.score_from)
        if not self.answers:
            raise AssertionError(f"no recorded answer left for {task}")
        text = self.answers.pop(0)
        self.prompts.append(prompt_text(prompt))
        self.params.append(params or GenerationParams())
        limit = (params or GenerationParams()).max_tokens * 4
        finish = "stop" if len(text) <= limit else "length"
        text = text[:limit]
        sent = 0
        self.stopped.append(False)
        if on_token is not None:
            for i in range(0, len(text), 5):
                sent = i + 5
                if on_token(text[i:sent]) is False:
                    self.stopped[-1] = sent < len(text)
                    text = text[:sent]
                    finish = "stop"
                    break
        wanted = min((params or GenerationParams()).n, self.samples_per_call)
        others = [self.answers.pop(0) for _ in range(min(wanted - 1, len(self.answers)))]
        return GenerationResult(
            others=others,
            text=text,
            finish_reason=finish,  # type: ignore[arg-type]
            usage=Usage(prompt_tokens=10, completion_tokens=len(text) // 4),
            timings=Timings(prompt_ms=1, total_ms=2, tokens_per_second=100),
        )

    def _score(self, prompt: Prompt, start: int) -> GenerationResult:
        if self.odds is None:
            raise EngineError("unsupported", "recorded answers hold no token odds")
        if not self.odds:
            raise AssertionError("no recorded token odds left")
        self.scored.append((prompt_text(prompt), start))
        return GenerationResult(text="", finish_reason="stop", scores=self.odds.pop(0))
