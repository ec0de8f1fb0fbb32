"""What the runtimes share: the Runtime protocol, load settings, threads, the collector of
a generation's text."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, get_args

from chmocoder.engine.gguf_header import GGUFHeader
from chmocoder.engine.models import fingerprint
from chmocoder.engine.types import (
    EngineError,
    FinishReason,
    GenerationParams,
    GenerationResult,
    ModelInfo,
    Prompt,
    Timings,
    Usage,
)

TokenSink = Callable[[str], bool]
"""Receives each piece of generated text; returning False stops generation."""

RuntimeName = Literal["llama-cpp", "ctransformers", "openai"]
RUNTIMES: tuple[RuntimeName, ...] = get_args(RuntimeName)
LOCAL_RUNTIMES: tuple[RuntimeName, ...] = ("llama-cpp", "ctransformers")
"""The runtimes that load a GGUF file in the model daemon."""


@dataclass(frozen=True)
class LoadSettings:
    """How a local runtime loads its model (values from Settings, through compose.py)."""

    n_ctx: int
    n_threads: int
    """0: the default, physical cores but one (threads_for)."""
    prompt_cache_mib: int = 512
    """Memory for the evaluated states of recent prompts (runtimes/prompt_states.py)."""
    reuse_prompts: bool = True
    """False: every prompt evaluated from its first token (reproducible answers)."""


@dataclass(frozen=True)
class OpenAISettings:
    """How runtime "openai" reaches its server (values from Settings, through compose.py)."""

    endpoint: str
    n_ctx: int
    connect_timeout_s: float
    first_byte_timeout_s: float
    request_timeout_s: float
    """A request's deadline, however the server streams."""
    api_key: str | None = None
    model_name: str = ""
    """The model name the server knows ("": the server's only or default one)."""
    fim: str = "auto"
    """How to fill in the middle there (runtimes/openai_fim.py: auto, infill, prompt, suffix, off)."""
    max_in_flight: int = 4
    """Requests this process sends the endpoint at once; more wait (a shared server)."""


class Runtime(Protocol):
    info: ModelInfo

    def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        on_token: TokenSink,
        resume: str = "",
        *,
        interactive: bool = False,
    ) -> GenerationResult:
        """Generate, streaming pieces to on_token; blocks until done, stopped or failed.

        A runtime may call on_token("") while it evaluates a long prompt, to ask whether to
        go on (False: stop; a preempted or cancelled job stops within a chunk of the prompt,
        not after all of it); the sink delivers nothing for it.

        `resume` is text already generated for this prompt (a preempted job): the
        runtime continues after it, and the result's text does not repeat it.
        `interactive`: a person waits for it (a runtime may give it more threads).
        """
        ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...


def no_scores(runtime: str) -> EngineError:
    """The refusal of GenerationParams.score_from by a runtime that cannot score a prompt."""
    return EngineError(
        "unsupported", f"runtime {runtime} cannot say how likely each token of a prompt is"
    )


def no_infill(why: str) -> EngineError:
    """The refusal of a fill-in-the-middle prompt by a runtime or model that cannot fill."""
    return EngineError("infill-unsupported", f"{why}, so it cannot complete code in place")


def physical_cores() -> int:
    """Physical cores (llama.cpp's own default, half the logical CPUs, is slower on most laptops)."""
    try:
        pairs = set()
        physical = core = ""
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    physical = value.strip()
                elif key == "core id":
                    core = value.strip()
                elif not line.strip():
                    if core:
                        pairs.add((physical, core))
                    physical = core = ""
        if pairs:
            return len(pairs)
    except OSError:
        pass
    return max(1, os.cpu_count() or 1)


def local_model_info(
    path: Path, header: GGUFHeader, settings: LoadSettings, runtime: str, chat: bool
) -> ModelInfo:
    """What a local runtime reports about its model; the context is capped by the model's own."""
    n_ctx = min(settings.n_ctx, header.context_length) if header.context_length else settings.n_ctx
    return ModelInfo(
        path=str(path),
        name=header.name or path.stem,
        architecture=header.architecture,
        context_length=n_ctx,
        size_bytes=path.stat().st_size,
        runtime=runtime,
        fingerprint=fingerprint(path),
        chat=chat,
    )


def room_for(info: ModelInfo, prompt_tokens: int) -> int:
    """How many tokens the context leaves after the prompt; EngineError if none."""
    room = info.context_length - prompt_tokens
    if room < 1:
        raise EngineError(
            "prompt-too-long",
            f"the prompt needs {prompt_tokens} tokens; the context holds {info.context_length}",
        )
    return room


def interactive_threads(settings: LoadSettings) -> int:
    """Threads for work a person waits for: `n_threads`, or by default every physical core
    (background work, meanwhile, waits; see threads_for and bench/bench_latency.py)."""
    return settings.n_threads if settings.n_threads > 0 else physical_cores()


def threads_for(settings: LoadSettings) -> int:
    """`n_threads`, or by default one thread per physical core but one: the editor and the
    language server keep a core, so typing stays quick while the model writes (on 2 cores,
    code-action listing p95 while generating: 2.5x idle with 2 threads, 0.7x with 1;
    bench/bench_features.py). One core: one thread."""
    return settings.n_threads if settings.n_threads > 0 else max(1, physical_cores() - 1)


class Collector:
    """One generation's text: each piece is kept, forwarded to the sink and timed (time to the
    first piece, tokens per second); a sink that returns False stops the generation."""

    def __init__(self, sink: TokenSink) -> None:
        self.sink = sink
        self.pieces: list[str] = []
        self.cancelled = False
        self.start = time.perf_counter()
        self.first: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def add(self, piece: str) -> bool:
        """Keep and forward a piece; False once the sink has asked to stop."""
        if piece and not self.cancelled:
            if self.first is None:
                self.first = time.perf_counter()
            self.pieces.append(piece)
            self.cancelled = not self.sink(piece)
        return not self.cancelled

    def result(
        self, finish: str, prompt_tokens: int, completion_tokens: int, text: str | None = None
    ) -> GenerationResult:
        """The result; `finish` is the runtime's reason (anything but "stop" counts as "length")."""
        end = time.perf_counter()
        first = self.first if self.first is not None else end
        decode = end - first
        rate = (completion_tokens - 1) / decode if completion_tokens > 1 and decode > 0 else 0.0
        reason: FinishReason = (
            "cancelled" if self.cancelled else "stop" if finish == "stop" else "length"
        )
        return GenerationResult(
            text=self.text if text is None else text,
            finish_reason=reason,
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
            timings=Timings(
                prompt_ms=(first - self.start) * 1000,
                total_ms=(end - self.start) * 1000,
                tokens_per_second=rate,
            ),
        )
