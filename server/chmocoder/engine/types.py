"""Plain data shared by the runtimes, the daemon protocol and the engine."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chmocoder.engine.errors import EngineError as EngineError  # its home is errors.py

TokenCallback = Callable[[str], "bool | None"]
"""Receives each piece of text; returning False stops the generation (the text so far is the
answer)."""


class Priority(IntEnum):
    """Lower runs first: interactive work (hover, resolve, ask) before background (review)."""

    INTERACTIVE = 0
    BACKGROUND = 1


class GenerationParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int = Field(default=256, ge=1, le=32_768)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    repeat_penalty: float = Field(default=1.1, ge=0.0, le=10.0)
    seed: int | None = None
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None
    """Constrain the output to JSON matching this schema (a grammar where the runtime has one)."""

    def cache_fields(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


Prompt = str | list[ChatMessage]
"""Raw text for a completion, or chat messages the runtime formats with the model's template."""


def prompt_text(prompt: Prompt) -> str:
    """A plain rendering, for hashing, logging and token estimates."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(f"<{m.role}>\n{m.content}" for m in prompt)


class ModelInfo(BaseModel):
    path: str
    name: str
    architecture: str
    context_length: int
    size_bytes: int
    runtime: str
    fingerprint: str
    """Identifies the model's content (see models.fingerprint)."""
    chat: bool = True
    """Chat-tuned (messages go through its chat template); False: a base model that continues text."""


FinishReason = Literal["stop", "length", "cancelled", "deadline", "preempted"]


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Timings(BaseModel):
    queue_ms: float = 0.0
    prompt_ms: float = 0.0
    """Until the first token: prompt evaluation (less what the KV cache already held)."""
    total_ms: float = 0.0
    tokens_per_second: float = 0.0


class GenerationResult(BaseModel):
    text: str
    finish_reason: FinishReason
    usage: Usage = Usage()
    timings: Timings = Timings()
    cached: bool = False


def request_key(prompt: Prompt, params: GenerationParams, *context: object) -> str:
    """A digest of a request: what is asked, with what parameters, and `context` (the
    cache adds its format, the model, runtime and task; the scheduler joins identical
    requests by it alone)."""
    body = prompt if isinstance(prompt, str) else [m.model_dump() for m in prompt]
    text = json.dumps([*context, body, params.cache_fields()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
