"""Shaping a streamed prose answer (explain, ask) before the user sees it.

Small models loop, paste the code back, and run into their token budget in the
middle of a sentence. The shaper sees the whole answer so far on every piece and
forwards only what it is sure of: text up to the last finished sentence or line,
never a code block that only repeats the code the user is looking at, never a
paragraph or sentence that repeats (or nearly repeats) an earlier one; the first
repeat stops the generation. At the end an answer cut by its budget loses its
unfinished sentence.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

_FENCE = re.compile(r"^[ \t]*```", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?:)\]](?=\s|$)")
_SENTENCES = re.compile(r"[^.!?\n]{25,}[.!?]")

_BOUNDARY = frozenset(".!?:)]`\n")
"""Characters after which what may be shown can change (sentence and line ends, fences)."""

NEAR_REPEAT = 0.9
"""Paragraphs this similar (difflib ratio) count as a repeat."""


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def echoes(block: str, source_lines: set[str]) -> bool:
    """True if most lines of a code block are lines of the code being explained."""
    lines = [_norm(line) for line in block.split("\n") if line.strip() and "```" not in line]
    if len(lines) < 2 or not source_lines:
        return False
    return sum(line in source_lines for line in lines) >= 0.6 * len(lines)


def _blocks(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, closed) of each fenced block; an unclosed one runs to the end."""
    fences = [m.start() for m in _FENCE.finditer(text)]
    out = []
    for i in range(0, len(fences), 2):
        start = fences[i]
        if i + 1 < len(fences):
            close = text.find("\n", fences[i + 1])
            out.append((start, len(text) if close < 0 else close + 1, True))
        else:
            out.append((start, len(text), False))
    return out


def _near(a: str, b: str) -> bool:
    """Nearly the same paragraph; the cheap upper bounds first (ratio is quadratic)."""
    if len(a) < 30 or len(b) < 30:
        return False
    matcher = difflib.SequenceMatcher(None, a, b)
    return (
        matcher.real_quick_ratio() >= NEAR_REPEAT
        and matcher.quick_ratio() >= NEAR_REPEAT
        and matcher.ratio() >= NEAR_REPEAT
    )


def _first_repeat(text: str) -> int | None:
    """Where the first repeated paragraph or sentence starts, if any."""
    seen: list[str] = []
    position = 0
    for paragraph in text.split("\n\n"):
        key = _norm(paragraph)
        if key and any(key == old or _near(key, old) for old in seen):
            return position
        if key:
            seen.append(key)
        position += len(paragraph) + 2
    sentences: set[str] = set()
    for match in _SENTENCES.finditer(text):
        key = _norm(match.group())
        if key in sentences:
            return match.start()
        sentences.add(key)
    return None


def shape(text: str, source: str = "", *, final: bool, complete: bool) -> tuple[str, bool]:
    """(what may be shown, whether the generation should stop). Not final: only text up to
    the last finished line or sentence. Final and not complete (cut by the budget): without
    its unfinished sentence (or, if that would leave little, is marked as cut with "…")."""
    source_lines = {_norm(line) for line in source.split("\n") if line.strip()}
    stop = False
    for start, end, closed in reversed(_blocks(text)):
        if not closed:
            if not final and not echoes(text[start:end], source_lines):
                text = text[:start]  # hold back until the block is finished
            else:
                text = text[:start]
        elif echoes(text[start:end], source_lines):
            text = text[:start] + text[end:]
    repeat = _first_repeat(text)
    if repeat is not None:
        text, stop, complete = text[:repeat], True, True
    if not final:
        ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        cut = max(text.rfind("\n") + 1, ends[-1] if ends else 0)
        return text[:cut], stop
    text = text.rstrip()
    if not complete:
        ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        if ends and ends[-1] >= len(text) / 3:
            text = text[: ends[-1]]
        elif text:  # hardly a finished sentence in it: show it, marked as cut
            text += "…"
    return re.sub(r"\n{3,}", "\n\n", text).strip(), stop


class AnswerShaper:
    """A token callback: forwards shaped text as it becomes certain; returns False to stop."""

    def __init__(
        self,
        forward: Callable[[str], Any],
        source: str = "",
        on_raw: Callable[[str], Any] | None = None,
    ) -> None:
        self.forward = forward
        self.source = source
        self.on_raw = on_raw
        """Sees every piece as the model writes it (progress), shown or not."""
        self.raw = ""
        self.sent = ""
        self.stopped = False

    def _emit(self, shaped: str) -> None:
        if len(shaped) > len(self.sent) and shaped.startswith(self.sent):
            self.forward(shaped[len(self.sent) :])
            self.sent = shaped

    def __call__(self, piece: str) -> bool:
        if self.stopped:
            return False
        if self.on_raw is not None and piece:
            self.on_raw(piece)
        ended = self.raw[-1:] in _BOUNDARY
        self.raw += piece
        if not (ended or any(c in _BOUNDARY for c in piece)):
            return True  # what may be shown ends at a boundary: nothing new can be shown yet
        shaped, stop = shape(self.raw, self.source, final=False, complete=False)
        self._emit(shaped)
        if stop:
            self.stopped = True
            return False
        return True

    def finish(self, complete: bool) -> str:
        """The answer as shown, with what was held back added; `complete`: the model ended it
        itself (not cut by the token budget)."""
        shaped, _ = shape(self.raw, self.source, final=True, complete=complete or self.stopped)
        if shaped.startswith(self.sent):
            self._emit(shaped)
            return shaped
        return self.sent.strip()  # what was shown stays the answer
