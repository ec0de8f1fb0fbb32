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
    n: int = Field(default=1, ge=1, le=8)
    """Samples of this prompt wanted. A runtime that makes several in one request (a model
    server that takes `n`) returns the further ones in GenerationResult.others; the others
    make one, and the caller asks for the rest one by one."""
    score_from: int | None = Field(default=None, ge=0)
    """Instead of generating: how surprising each token of a plain-text prompt is, from this
    character offset on, given everything before it (GenerationResult.scores). Runtimes that
    cannot (no per-token probabilities of a prompt) fail with EngineError "unsupported"."""

    prediction: str | None = None
    """Text the answer is expected to copy much of (an edit's target): a runtime that can
    drafts from it (llama-cpp: runtimes/predicted.py) and the answer comes sooner, the same
    answer but for the arithmetic of a batch; the others ignore it."""

    def cache_fields(self) -> dict[str, Any]:
        fields = self.model_dump(mode="json")
        for name, default in (("n", 1), ("score_from", None), ("prediction", None)):
            if fields[name] == default:  # keys made before the field existed stay the same
                del fields[name]
        return fields


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class Infill(BaseModel):
    """Fill in the middle: the text before and after a gap. The runtime puts it between the
    model's own fill-in-the-middle tokens, looked up in its tokenizer (ModelInfo.infill),
    and tokenizes the text apart from them, so text that spells a token is never read as one."""

    model_config = ConfigDict(frozen=True)

    prefix: str
    suffix: str
    path: str = ""
    """The file's name, shown with `files` where the model has a file separator token."""
    files: tuple[tuple[str, str], ...] = ()
    """(path, text) of other files to show first (what the prefix uses from them)."""


Prompt = str | list[ChatMessage] | Infill
"""Raw text for a completion, chat messages the runtime formats with the model's template, or
the two sides of a gap to fill."""


def prompt_text(prompt: Prompt) -> str:
    """A plain rendering, for hashing, logging and token estimates."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Infill):
        files = "".join(f"<file {path}>\n{text}\n" for path, text in prompt.files)
        return f"{files}<prefix>{prompt.prefix}<suffix>{prompt.suffix}<middle>"
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
    infill: bool = False
    """The tokenizer has fill-in-the-middle tokens (prefix, suffix, middle): Infill prompts work."""


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
    others: list[str] = []
    """With GenerationParams.n above 1, on a runtime that made several samples in one
    request: the texts of the samples after the first (`text`); empty elsewhere."""
    scores: list[tuple[int, float]] = []
    """With GenerationParams.score_from: (character offset in the prompt, surprisal) of each
    token from that offset on; the surprisal is -ln p(token | everything before it)."""


def request_key(prompt: Prompt, params: GenerationParams, *context: object) -> str:
    """A digest of a request: what is asked, with what parameters, and `context` (the
    cache adds its format, the model, runtime and task; the scheduler joins identical
    requests by it alone)."""
    body: object
    if isinstance(prompt, str):
        body = prompt
    elif isinstance(prompt, Infill):
        body = prompt.model_dump(mode="json")
    else:
        body = [m.model_dump() for m in prompt]
    text = json.dumps([*context, body, params.cache_fields()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
