"""Predicted output (speculative decoding from a text the answer is expected to copy): the
runtime drafts the tokens that followed the answer's last few tokens in the prediction and
evaluates them in one batch with the model; the model's own choice at each position (the
same sampler, in the same order) decides how many it keeps. The answer is the model's own
(only the arithmetic of a batch differs from one token at a time), and where it copies the
prediction it costs a batch's time per token instead of a whole step's.

The drafter is pure (token lists), and so is the text of a stream with stop strings; the
runtime (llama_cpp.py) owns the model's context."""

from __future__ import annotations

from collections import defaultdict

DRAFT_SIZES = (4, 16, 32)
"""Tokens drafted per step: the first size after a miss, the next after a draft taken whole.
On a 2-core machine (default model, two threads, a 900-token context; llama-cpp-python) a
batch of 5 costs about 3 single steps, of 17 about 10, of 33 about 14: a long draft pays
only where the answer copies on, so drafts grow while it does."""
MATCH = 3
"""Tokens at the end of the answer that must be found in the prediction before drafting
from it (a shorter match drafts from the wrong line of a text whose lines repeat)."""


class Drafter:
    """Drafts from a prediction's tokens: the tokens that follow the longest match (at least
    MATCH tokens, at most 16 compared) of the answer's last tokens, the match nearest after
    the last one drafted from on a tie."""

    def __init__(self, prediction: list[int]) -> None:
        self.tokens = prediction
        self.at: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i in range(len(prediction) - MATCH + 1):
            self.at[tuple(prediction[i : i + MATCH])].append(i + MATCH)
        self.cursor = 0
        """Where in the prediction the last draft ended (the answer's place in it)."""
        self.size = 0
        """The index in DRAFT_SIZES of the next draft's size."""

    def taken(self, drafted: int, kept: int) -> None:
        """The answer kept `kept` of the `drafted` tokens of the last draft: the next is
        longer if it kept them all, else the shortest."""
        if drafted:
            self.size = min(self.size + 1, len(DRAFT_SIZES) - 1) if kept == drafted else 0

    def draft(self, answer: list[int], limit: int) -> list[int]:
        """Up to `limit` tokens (and the size the last drafts earned) the prediction says
        come next after `answer`."""
        limit = min(limit, DRAFT_SIZES[self.size])
        if limit <= 0 or len(answer) < MATCH:
            return []
        found = self.at.get(tuple(answer[-MATCH:]))
        if not found:
            return []
        best, best_key = -1, (-1, 0)
        for end in found:  # `end`: the prediction's token after the match
            length = MATCH
            while (
                length < 16
                and end - length - 1 >= 0
                and len(answer) - length - 1 >= 0
                and self.tokens[end - length - 1] == answer[-length - 1]
            ):
                length += 1
            key = (length, -abs(end - self.cursor))
            if key > best_key:
                best, best_key = end, key
        out = self.tokens[best : best + limit]
        self.cursor = best + len(out)
        return out


def held_back(text: str, stops: list[str]) -> int:
    """How many characters at the end of `text` might begin a stop string (not to be shown
    until the next token says whether it is one)."""
    longest = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:n]):
                longest = n
                break
    return longest


def first_stop(text: str, stops: list[str]) -> int:
    """Where the first stop string in `text` begins, or -1."""
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else -1
