"""What the tasks ask of the model's side (the Model protocol), apart from the tasks, so that
every task module can name it."""

from __future__ import annotations

from typing import Protocol

from chmocoder.engine.types import (
    GenerationParams,
    GenerationResult,
    ModelInfo,
    Priority,
    Prompt,
    TokenCallback,
)


class Model(Protocol):
    """What the assistant asks of the model's side: the engine (engine/engine.py), or in
    tests recorded answers (tests/support/recorded.py)."""

    info: ModelInfo | None
    """Set once the model is started."""

    async def start(self) -> ModelInfo: ...

    async def count_tokens(self, text: str) -> int: ...

    async def generate(
        self,
        task: str,
        prompt: Prompt,
        params: GenerationParams | None = None,
        *,
        priority: Priority = Priority.INTERACTIVE,
        timeout_ms: int | None = None,
        on_token: TokenCallback | None = None,
        use_cache: bool = True,
        keep_stopped: bool = True,
    ) -> GenerationResult: ...

    def cached(
        self, task: str, prompt: Prompt, params: GenerationParams
    ) -> GenerationResult | None: ...
