"""How odd the model finds each line of a definition: the most surprising token of the line
(-ln p, given what comes before it). Buggy lines hold such tokens more often than others
(bench/quality's dev split): the review's second vote (review.py) and, with the cursor on a
definition's first line, the fix's pointer to the line to check first (edit.py)."""

from __future__ import annotations

import bisect
import logging

from chmocoder.analysis.document import Document
from chmocoder.analysis.syntax import code_tokens
from chmocoder.assist.edits import line_span
from chmocoder.assist.generation import Generation
from chmocoder.assist.prompts import Task
from chmocoder.engine.types import EngineError, Priority

log = logging.getLogger(__name__)

CONTEXT_LINES = 15
"""Lines before the definition the model reads first when it scores it (its doc comment).
On dev, the whole file before it located the same bugs."""


async def line_odds(
    gen: Generation,
    doc: Document,
    start: int,
    end: int,
    task: Task,
    what: str,
    priority: Priority = Priority.BACKGROUND,
) -> dict[int, float]:
    """Row -> how surprising the model finds the row's most surprising token (-ln p), for the
    rows of [start, end)'s whole lines that hold code, but the first (a signature, whose
    name is new to the model by nature). Empty where the runtime cannot say (a model
    server, ctransformers) or the request fails: callers then do without."""
    first = doc.source.count(b"\n", 0, start)
    context_row = max(0, first - CONTEXT_LINES)
    begin = doc.row_span(context_row)[0]
    start, end = line_span(doc, start, end)
    text = doc.text(begin, end)
    head = len(doc.text(begin, start))
    try:
        scores = await gen.surprisal(task, text, head, priority=priority)
    except EngineError as exc:
        quiet = exc.code in ("unsupported", "prompt-too-long")  # expected, not a failure
        log.log(logging.DEBUG if quiet else logging.WARNING, "no odds of %s: %s", what, exc.message)
        return {}
    if not scores:
        return {}
    breaks = [i for i, c in enumerate(text) if c == "\n"]
    worst: dict[int, float] = {}
    ends = [offset for offset, _ in scores[1:]] + [len(text)]
    for (offset, nats), token_end in zip(scores, ends, strict=True):
        if not text[offset:token_end].strip():  # spacing: never the odd part of a line
            continue
        row = context_row + bisect.bisect_left(breaks, offset)
        worst[row] = max(worst.get(row, 0.0), nats)
    return {
        row: nats
        for row, nats in worst.items()
        if row > first and code_tokens(doc, *doc.row_span(row))
    }
