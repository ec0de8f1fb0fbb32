"""The runtimes (llama_cpp, ctransformers, openai) and the factory that loads one by name;
base.py holds what they share."""

from __future__ import annotations

from pathlib import Path

from chmocoder.engine.errors import EngineError
from chmocoder.engine.runtimes.base import (
    RUNTIMES,
    Collector,
    LoadSettings,
    Runtime,
    TokenSink,
    local_model_info,
    physical_cores,
    room_for,
    threads_for,
)

__all__ = [
    "RUNTIMES",
    "Collector",
    "LoadSettings",
    "Runtime",
    "TokenSink",
    "load_runtime",
    "local_model_info",
    "physical_cores",
    "room_for",
    "threads_for",
]


def load_runtime(name: str, model: Path | None, settings: LoadSettings) -> Runtime:
    """Load a runtime; raises EngineError with a reason the user can act on."""
    if name == "llama-cpp":
        from chmocoder.engine.runtimes.llama_cpp import LlamaCppRuntime

        assert model is not None
        return LlamaCppRuntime(model, settings)
    if name == "ctransformers":
        from chmocoder.engine.runtimes.ctransformers import CTransformersRuntime

        assert model is not None
        return CTransformersRuntime(model, settings)
    if name == "openai":
        from chmocoder.engine.runtimes.openai import OpenAIRuntime

        return OpenAIRuntime(settings)
    raise EngineError(
        "runtime-unknown", f"unknown runtime {name!r}; use one of {', '.join(RUNTIMES)}"
    )
