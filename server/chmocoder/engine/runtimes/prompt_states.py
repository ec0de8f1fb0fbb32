"""The evaluated states of recent prompts, so a prompt evaluates only what follows its longest
cached prefix: a hover, a completion and a review in between no longer evict each other.

A state is llama.cpp's serialized context (the KV cache of the tokens evaluated, and the
last logits), kept by the tokens it holds, least recently used out under a byte budget.
llama-cpp-python's own LlamaRAMCache is not used: each of its states also copies the
logits of up to n_batch tokens (512 × 151,936 floats, 311 MB, for Qwen2.5), which its
budget does not count.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

COVERED = 0.8
"""A kept state whose tokens a newer one shares this much of (or all) is dropped: the newer
serves the same prefixes (typing makes one such state per keystroke)."""


def shared_prefix(a: tuple[int, ...] | list[int], b: tuple[int, ...] | list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


@dataclass(frozen=True)
class PromptState:
    tokens: tuple[int, ...]
    data: bytes


class PromptStates:
    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._states: OrderedDict[tuple[int, ...], PromptState] = OrderedDict()
        self.size = 0
        self.hits = 0

    def __len__(self) -> int:
        return len(self._states)

    def best(self, tokens: list[int]) -> tuple[PromptState, int] | None:
        """The kept state that shares the longest prefix with `tokens`, and its length."""
        found: tuple[PromptState, int] | None = None
        for state in self._states.values():
            shared = shared_prefix(state.tokens, tokens)
            if shared and (found is None or shared > found[1]):
                found = (state, shared)
        if found is not None:
            self._states.move_to_end(found[0].tokens)
        return found

    def keep(self, tokens: tuple[int, ...], data: bytes) -> None:
        """Keep a state (the newest); drop what it covers and what no longer fits."""
        if not tokens or len(data) > self.budget_bytes:
            return
        for old in list(self._states.values()):
            shared = shared_prefix(old.tokens, tokens)
            if shared == len(old.tokens) or shared >= COVERED * len(old.tokens):
                self._drop(old.tokens)
        self._states[tokens] = PromptState(tokens, data)
        self.size += len(data)
        while self.size > self.budget_bytes and self._states:
            self._drop(next(iter(self._states)))

    def _drop(self, tokens: tuple[int, ...]) -> None:
        state = self._states.pop(tokens)
        self.size -= len(state.data)
