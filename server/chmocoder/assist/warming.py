"""Warming ahead: the model evaluates a prompt's start in the background (one token, no
result cache), so that the request which begins with it later evaluates only the rest; the
model daemon keeps the evaluated state (engine/runtimes/prompt_states.py). Each start is
warmed once it has been warmed to the end: a warm-up stopped on the way is asked again,
and goes on from the state kept where it stopped."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from chmocoder.assist.model import Model
from chmocoder.engine.types import GenerationParams, Infill, Priority, Prompt, prompt_text

REMEMBERED = 256
"""Prompt starts remembered as warm (a hash each)."""


class Warmer:
    def __init__(self, engine: Model) -> None:
        self.engine = engine
        self._done: OrderedDict[str, None] = OrderedDict()

    async def warm(self, prompt: Prompt) -> bool:
        """Evaluate `prompt` at background priority, unless it was warmed already (False)."""
        where = prompt.path if isinstance(prompt, Infill) else ""  # rendered in the tokens
        key = hashlib.sha256(f"{where}\0{prompt_text(prompt)}".encode()).hexdigest()
        if key in self._done:
            self._done.move_to_end(key)
            return False
        await self.engine.generate(
            "warm",
            prompt,
            GenerationParams(max_tokens=1, temperature=0.0, repeat_penalty=1.0),
            priority=Priority.BACKGROUND,
            use_cache=False,
        )
        self._done[key] = None
        while len(self._done) > REMEMBERED:
            self._done.popitem(last=False)
        return True
