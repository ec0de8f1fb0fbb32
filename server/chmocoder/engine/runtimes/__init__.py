"""The runtimes (llama_cpp, ctransformers, openai) and the factory that loads one by name;
base.py holds what they share."""

from __future__ import annotations

from pathlib import Path

from chmocoder.engine.errors import EngineError
from chmocoder.engine.runtimes.base import (
    LOCAL_RUNTIMES,
    RUNTIMES,
    Collector,
    LoadSettings,
    OpenAISettings,
    Runtime,
    RuntimeName,
    TokenSink,
    local_model_info,
    physical_cores,
    room_for,
    threads_for,
)

__all__ = [
    "LOCAL_RUNTIMES",
    "RUNTIMES",
    "Collector",
    "LoadSettings",
    "OpenAISettings",
    "Runtime",
    "RuntimeName",
    "TokenSink",
    "load_runtime",
    "local_model_info",
    "physical_cores",
    "room_for",
    "threads_for",
]


def load_runtime(name: str, model: Path, settings: LoadSettings) -> Runtime:
    """Load a local runtime (the daemon does); raises EngineError with a reason the user
    can act on. Runtime "openai" is no local runtime: the engine makes it itself."""
    if name == "llama-cpp":
        from chmocoder.engine.runtimes.llama_cpp import LlamaCppRuntime

        return LlamaCppRuntime(model, settings)
    if name == "ctransformers":
        from chmocoder.engine.runtimes.ctransformers import CTransformersRuntime

        return CTransformersRuntime(model, settings)
    raise EngineError(
        "runtime-unknown",
        f"unknown runtime {name!r}; the local ones are {', '.join(LOCAL_RUNTIMES)}",
    )
