"""Settings: one pydantic model, camelCase on the wire, a default for every field.

`Settings.from_wire` never fails: a bad value is reported by name and replaced by
its default, so a typo in an editor's configuration cannot stop the server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from chmocoder.assist.prompts import Audience
from chmocoder.engine.runtimes.base import RuntimeName
from chmocoder.paths import default_cache_dir

ReviewMode = Literal["off", "onSave", "onChange"]
LogLevel = Literal["debug", "info", "warning", "error"]


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", validate_assignment=True
    )


class HoverSettings(_Wire):
    enabled: bool = True
    timeout_ms: int = Field(default=8000, ge=10, le=600_000)


class ReviewSettings(_Wire):
    mode: ReviewMode = "onSave"
    debounce_ms: int = Field(default=1500, ge=0, le=600_000)


class FixSettings(_Wire):
    check: str = ""
    """A command (the user's tests, a build) run in a copy of the workspace folder with each
    candidate fix in place (`{file}`: the file's copy): a fix is offered only if it exits 0
    (checks.py). Over TCP taken from where the server started (CHMOCODER_FIX__CHECK)."""


class CompletionSettings(_Wire):
    """Inline completion (ghost text)."""

    enabled: bool = True
    """Complete as you type; False: only when asked (the editor's trigger)."""
    debounce_ms: int = Field(default=150, ge=0, le=10_000)
    """How long typing must pause before the model is asked (answers from memory come at once)."""
    budget_ms: int = Field(default=500, ge=10, le=60_000)
    """Generation time a completion may take after its first token."""
    max_tokens: int = Field(default=64, ge=1, le=1024)
    prefix_tokens: int = Field(default=512, ge=16, le=32_768)
    """About how much of the file before the cursor the model sees."""
    suffix_tokens: int = Field(default=64, ge=0, le=32_768)
    """About how much of the file after the cursor the model sees."""
    model: str = ""
    """The model that writes ghost text, when it is not `model` (""): a catalogue name or a
    GGUF path, on the same runtime. It has a model daemon of its own, shared by every
    window as the main one is. The default is the main model: on bench_typing the 0.5B
    model answers in about half the time but its next line is right far less often
    (README, "Inline completion")."""


class HistorySettings(_Wire):
    ttl_hours: float = Field(default=24.0, gt=0, le=24 * 365)


class Settings(_Wire):
    model: str = "default"
    """A catalogue name (qwen2.5-coder-1.5b, qwen2.5-coder-0.5b, gemma3-270m), "default" (the
    catalogue's default, Qwen2.5-Coder 1.5B Instruct) or a path to a GGUF file."""
    runtime: RuntimeName = "llama-cpp"
    endpoint: str = "http://127.0.0.1:8080/v1"
    """The OpenAI-compatible server for runtime "openai"."""
    api_key_env: str = "CHMOCODER_API_KEY"
    """Environment variable that holds the API key for runtime "openai"."""
    endpoint_fim: Literal["auto", "infill", "prompt", "suffix", "off"] = "auto"
    """Runtime "openai": how the server fills in the middle for inline completion
    (engine/runtimes/openai_fim.py); auto finds out once per endpoint."""
    endpoint_max_in_flight: int = Field(default=4, ge=1, le=256)
    """Runtime "openai": requests this process sends the server at once (a shared server)."""
    connect_timeout_s: float = Field(default=5.0, gt=0, le=600)
    """Runtime "openai": how long connecting to the server may take."""
    first_byte_timeout_s: float = Field(default=10.0, gt=0, le=3600)
    """Runtime "openai": how long the server may take to start answering."""
    request_timeout_s: float = Field(default=300.0, gt=0, le=24 * 3600)
    """Every runtime: a model request's overall deadline."""
    n_ctx: int = Field(default=4096, ge=256, le=1_048_576)
    n_threads: int = Field(default=0, ge=0, le=512)
    """0: the machine's physical cores but one (the editor keeps a core)."""
    warm: bool = True
    """Evaluate ahead, in the background, the start of the prompts a hover is likely to send
    (when a document opens, and where code actions are asked for)."""
    prompt_cache_mib: int = Field(default=512, ge=0, le=65_536)
    """Memory the model daemon keeps the evaluated states of recent prompts in (0: none),
    so a prompt that shares a start with one of them evaluates only the rest."""
    reuse_prompts: bool = True
    """False: every prompt is evaluated from its first token (no KV prefix reuse, no kept
    states) and a request without a seed is sampled with seed 0, so the same request gives
    the same answer on the same machine, whatever ran before it: slower, for benchmarks
    and reproducing a report (runtime llama-cpp)."""
    daemon_idle_s: float = Field(default=600.0, ge=1.0, le=7 * 24 * 3600)
    """The model daemon exits after this many seconds without clients or work."""

    max_tokens: int = Field(default=384, ge=1, le=32_768)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    """The seed prose answers (explain, ask) are sampled with: with reusePrompts false, the
    same question gets the same answer. None: each its own (0 with reusePrompts false).
    Benchmarks vary it to see how much of a figure is the draw."""
    audience: Audience = "intermediate"
    context_tokens: int = Field(default=1536, ge=32, le=65_536)
    hover: HoverSettings = HoverSettings()
    review: ReviewSettings = ReviewSettings()
    fix: FixSettings = FixSettings()
    completion: CompletionSettings = CompletionSettings()
    history: HistorySettings = HistorySettings()
    cache_dir: Path = Field(default_factory=default_cache_dir)
    log_level: LogLevel = "info"
    log_prompts: bool = False
    allow_risky: bool = False
    """Offer edits that add code that runs commands, evaluates code, imports at run time,
    deletes files or opens network connections (grammars/risks.toml); off: refused."""
    build_check: bool = True
    """Before a fix is offered, compile the edited file with its language's compiler when it
    is on PATH (C, C++, Rust; Python's own compile()), checking only, nothing run: a candidate
    that adds an error makes way for the next (assist/compiler.py)."""

    @classmethod
    def from_wire(cls, data: Any) -> tuple[Settings, list[str]]:
        """Settings from camelCase JSON, and one message per value that was not accepted."""
        if data is None:
            return cls(), []
        if not isinstance(data, dict):
            return cls(), [f"settings must be an object, got {type(data).__name__}; using defaults"]
        try:
            return cls.model_validate(data), []
        except ValidationError as exc:
            return _salvage(cls, data, exc)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> tuple[Settings, list[str]]:
        """Settings from CHMOCODER_* variables (nested with __: CHMOCODER_HOVER__TIMEOUT_MS)."""
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {}
        for key, value in env.items():
            if not key.startswith("CHMOCODER_") or key == "CHMOCODER_API_KEY":
                continue
            path = key.removeprefix("CHMOCODER_").lower().split("__")
            target = data
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
        return cls.from_wire(data)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def _salvage(
    cls: type[Settings], data: dict[str, Any], exc: ValidationError
) -> tuple[Settings, list[str]]:
    """Drop each invalid value (nested ones too) and say which default replaced it."""
    problems: list[str] = []
    cleaned: Any = _deep_copy(data)
    defaults = cls().to_wire()
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        name = ".".join(to_camel(part) for part in location)
        default: Any = defaults
        for part in location:
            default = (
                default.get(to_camel(part), default.get(part))
                if isinstance(default, dict)
                else None
            )
        problems.append(f"setting {name}: {error['msg']}; using the default {default!r}")
        _remove(cleaned, location)
    try:
        return cls.model_validate(cleaned), problems
    except ValidationError as second:
        problems.append(
            f"settings could not be read ({second.error_count()} errors); using defaults"
        )
        return cls(), problems


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    return value


def _remove(data: Any, location: list[str]) -> None:
    target = data
    for part in location[:-1]:
        if not isinstance(target, dict):
            return
        target = target.get(part, target.get(to_camel(part)))
    if isinstance(target, dict):
        for key in (location[-1], to_camel(location[-1])):
            target.pop(key, None)
