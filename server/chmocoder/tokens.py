"""The token estimate: for context budgets until the engine supplies the model's tokenizer,
and for runtimes whose server has none to offer (openai). Used by analysis and engine alike,
so it belongs to neither."""

from __future__ import annotations

from collections.abc import Callable

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """An upper estimate: one token per 3 UTF-8 bytes, rounded up.

    BPE tokenizers of code models (Llama, Gemma, Qwen) average 3.5 to 4 bytes a
    token on source code, so this over-counts and a budget it allows holds for
    the real tokenizer too. It is additive: the estimate of a concatenation is
    never more than the sum of the estimates of its parts.
    """
    return (len(text.encode("utf-8")) + 2) // 3
