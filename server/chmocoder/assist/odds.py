"""How odd the model finds each line of a definition: the most surprising token of the line
(-ln p, given what comes before it). Buggy lines hold such tokens more often than others
(bench/quality's dev split): the review's second vote (review.py) and, with the cursor on a
definition's first line, the fix's pointer to the line to check first (edit.py).

With the cursor on a line of a definition, the same odds give a fix one more candidate
(`expected_line`): the line as the model expects it from its most surprising token on; and
they rank a fix's candidates (`surprisal_of`): the version of the definition the model finds
least surprising as a whole. A one-point bug (an operator, a bound, a variable, a constant)
is a token the model did not expect: the model's own expectation there restored the line in
54 of bench/quality's 81 dev cases."""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass

from chmocoder.analysis.document import Document
from chmocoder.analysis.syntax import code_tokens
from chmocoder.assist.edits import line_span
from chmocoder.assist.generation import Generation
from chmocoder.assist.prompts import Task
from chmocoder.engine.types import EngineError, GenerationParams, Priority

log = logging.getLogger(__name__)

CONTEXT_LINES = 15
"""Lines before the definition the model reads first when it scores it (its doc comment).
On dev, the whole file before it located the same bugs."""

EXPECTED_TOKENS = 48
"""The most tokens of a line the model writes from its most surprising token on."""
EXPECTED_MAX_TOKENS = 600
"""A definition longer than this (by the token estimate, about 45 lines) gets no expected line:
its odds alone would keep a fix waiting over 15 s at one thread (38 tokens/s on a 2-core
machine). bench/quality's longest is 283."""
_GREEDY = GenerationParams(temperature=0.0, top_p=1.0, repeat_penalty=1.0, seed=1)


@dataclass(frozen=True)
class Odds:
    """The model's odds of a definition's tokens: `text` (the lines before it, then the
    definition's whole lines), each scored token's (offset in `text`, -ln p) from `head`
    (where the definition starts) on, and `row0`, the document row `text` starts at."""

    text: str
    head: int
    row0: int
    scores: list[tuple[int, float]]

    def tokens(self) -> list[tuple[int, int, float]]:
        """(start, end, -ln p) of each scored token, spacing included."""
        ends = [offset for offset, _ in self.scores[1:]] + [len(self.text)]
        return [(o, e, n) for (o, n), e in zip(self.scores, ends, strict=True)]


def _before(doc: Document, start: int) -> tuple[int, int]:
    """(row, byte offset) where the CONTEXT_LINES before the line of `start` begin."""
    row = max(0, doc.source.count(b"\n", 0, start) - CONTEXT_LINES)
    return row, doc.row_span(row)[0]


async def _scored(
    gen: Generation, text: str, head: int, task: Task, what: str, priority: Priority
) -> list[tuple[int, float]] | None:
    try:
        scores = await gen.surprisal(task, text, head, priority=priority)
    except EngineError as exc:
        quiet = exc.code in ("unsupported", "prompt-too-long")  # expected, not a failure
        log.log(logging.DEBUG if quiet else logging.WARNING, "no odds of %s: %s", what, exc.message)
        return None
    return scores or None


async def token_odds(
    gen: Generation,
    doc: Document,
    start: int,
    end: int,
    task: Task,
    what: str,
    priority: Priority = Priority.BACKGROUND,
) -> Odds | None:
    """The odds of each token of [start, end)'s whole lines, read after the CONTEXT_LINES
    before them. None where the runtime cannot say (a model server, ctransformers) or the
    request fails: callers then do without."""
    row0, begin = _before(doc, start)
    start, end = line_span(doc, start, end)
    text = doc.text(begin, end)
    head = len(doc.text(begin, start))
    scores = await _scored(gen, text, head, task, what, priority)
    return Odds(text, head, row0, scores) if scores else None


def line_odds(doc: Document, odds: Odds | None) -> dict[int, float]:
    """Row -> how surprising the model finds the row's most surprising token (-ln p), for the
    rows of the definition `odds` scored (token_odds) that hold code, but the first (a
    signature, whose name is new to the model by nature). Empty without odds (a runtime
    that cannot say, a failed request): callers then do without."""
    if odds is None:
        return {}
    first = odds.row0 + odds.text.count("\n", 0, odds.head)
    breaks = [i for i, c in enumerate(odds.text) if c == "\n"]
    worst: dict[int, float] = {}
    for offset, token_end, nats in odds.tokens():
        if not odds.text[offset:token_end].strip():  # spacing: never the odd part of a line
            continue
        row = odds.row0 + bisect.bisect_left(breaks, offset)
        worst[row] = max(worst.get(row, 0.0), nats)
    return {
        row: nats
        for row, nats in worst.items()
        if row > first and code_tokens(doc, *doc.row_span(row))
    }


async def expected_line(
    gen: Generation, doc: Document, odds: Odds, row: int, task: Task, priority: Priority
) -> str | None:
    """The document's line `row` as the model expects it, from `odds` of the definition
    that holds it: up to its most surprising token as it is, from there on as the model
    writes it (greedy, to the line's end), without the line break. None when it is the
    line as it is, the model does not end the line within EXPECTED_TOKENS, or it cannot say.
    (That token alone replaced by the one the model expected, keeping the rest of the line,
    restored fewer lines on dev, 38 of 81 against 54, and ranked worse among candidates.)"""
    line_start = _offset_of_row(odds, row)
    if line_start is None:
        return None
    line_end = odds.text.find("\n", line_start)
    line_end = len(odds.text) if line_end < 0 else line_end
    on_line = [
        (o, n) for o, e, n in odds.tokens() if line_start <= o < line_end and odds.text[o:e].strip()
    ]
    if not on_line:
        return None
    at = max(on_line, key=lambda t: t[1])[0]
    params = _GREEDY.model_copy(update={"max_tokens": EXPECTED_TOKENS, "stop": ("\n",)})
    try:
        result = await gen.engine.generate(task, odds.text[:at], params, priority=priority)
    except EngineError as exc:
        log.warning("no expected line: %s", exc.message)
        return None
    if result.finish_reason != "stop" or not result.text:
        return None  # the line did not end within EXPECTED_TOKENS (or nothing was written)
    expected = odds.text[line_start:at] + result.text.split("\n", 1)[0]
    return expected if expected.strip() and expected != odds.text[line_start:line_end] else None


def _offset_of_row(odds: Odds, row: int) -> int | None:
    """Where the document's row `row` starts in `odds.text`, if it is in the definition."""
    offset = 0
    for _ in range(row - odds.row0):
        offset = odds.text.find("\n", offset) + 1
        if offset <= 0:
            return None
    return offset if offset >= odds.head else None


async def surprisal_of(
    gen: Generation, odds: Odds, new_text: str, task: Task, what: str, priority: Priority
) -> float | None:
    """How surprising the model finds a new version of the definition `odds` scored, as a
    whole (the sum of -ln p of its tokens, read after the same lines before it); None where
    it cannot say. The text before the change is the same, so the model's kept state spares
    most of it."""
    scores = await _scored(gen, odds.text[: odds.head] + new_text, odds.head, task, what, priority)
    return sum(nats for _offset, nats in scores) if scores else None
