"""Inline completion: the code the model would write at the cursor, as ghost text.

Latency first. A completion the user is typing through is answered from memory (the typed
characters are the start of the last suggestion), and so is a gap seen before; otherwise
the model fills the gap (prefix, suffix, its own fill-in-the-middle tokens) at interactive
priority, greedily, and is stopped at the end of the block or when its time budget is
spent. What it wrote is trimmed and checked (analysis/completion.py) before it is shown.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from chmocoder.analysis.completion import Gap, block_end, gap_at, rejection, related_files, trim
from chmocoder.analysis.context import DefinitionLookup
from chmocoder.analysis.document import Document
from chmocoder.assist.model import Model
from chmocoder.assist.warming import Warmer
from chmocoder.engine.types import GenerationParams, Infill, Priority

log = logging.getLogger(__name__)

BYTES_PER_TOKEN = 4
"""Code tokenizers' rate, for the gap's byte budgets."""
REMEMBERED = 256
LINE_GRACE_S = 0.4
"""After the time budget, how long the line being written may take to end (at least the
budget again); past that it is dropped, never shown cut."""


@dataclass(frozen=True)
class CompleterSettings:
    """From Settings.completion (config.py holds the defaults)."""

    budget_ms: int
    """Generation time a completion may take after its first token."""
    max_tokens: int
    prefix_tokens: int
    suffix_tokens: int


@dataclass(frozen=True)
class Completion:
    text: str
    """What to insert at the cursor; "" when there is nothing to show (see `reason`)."""
    source: str
    """"model", "cache" (this gap was answered before) or "typed" (the user is typing
    through the last suggestion)."""
    reason: str = ""
    """Why nothing is shown, when `text` is empty."""
    elapsed_ms: float = 0.0


@dataclass
class _Shown:
    """The last suggestion in a document: the text before and after the cursor it was for."""

    prefix: bytes
    suffix: bytes
    text: str


@dataclass
class Counts:
    model: int = 0
    cache: int = 0
    typed: int = 0
    refused: dict[str, int] = field(default_factory=dict)


class Completer:
    def __init__(
        self,
        engine: Model,
        settings: CompleterSettings,
        workspace: DefinitionLookup | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.workspace = workspace
        self.counts = Counts()
        self._answers: OrderedDict[str, str] = OrderedDict()
        self._shown: dict[str, _Shown] = {}
        self._warmer = Warmer(engine)
        self._told_unsupported = False

    def forget(self, uri: str) -> None:
        """The document closed."""
        self._shown.pop(uri, None)

    def from_memory(self, doc: Document, offset: int) -> Completion | None:
        """An answer without the model, at once: the rest of the last suggestion when the
        user has typed its start, or the answer this same gap got before."""
        started = time.perf_counter()
        typed = self._typed_through(doc, offset)
        if typed is not None:
            self.counts.typed += 1
            return Completion(typed, "typed", elapsed_ms=_ms(started))
        key = _key(self._gap(doc, offset))
        text = self._answers.get(key)
        if text is None:
            return None
        self._answers.move_to_end(key)
        self.counts.cache += 1
        if text:
            self._show(doc, offset, text)
        return Completion(text, "cache", "" if text else "nothing to add", _ms(started))

    def _typed_through(self, doc: Document, offset: int) -> str | None:
        """The rest of the document's last suggestion, if the text around the cursor is
        what it was for plus a start of it typed (compared in place: no copy of the text)."""
        shown = self._shown.get(doc.uri)
        source = doc.source
        if (
            shown is None
            or len(source) - offset != len(shown.suffix)
            or offset < len(shown.prefix)
            or not source.startswith(shown.prefix)
            or not source.endswith(shown.suffix)
        ):
            return None
        typed = source[len(shown.prefix) : offset].decode("utf-8", errors="replace")
        if shown.text.startswith(typed) and len(typed) < len(shown.text):
            return shown.text[len(typed) :]
        return None

    def _show(self, doc: Document, offset: int, text: str) -> None:
        self._shown[doc.uri] = _Shown(doc.source[:offset], doc.source[offset:], text)

    async def complete(self, doc: Document, offset: int, path: str = "") -> Completion:
        """The completion at byte `offset`: from memory when it can be, else the model's."""
        return self.from_memory(doc, offset) or await self.fill(doc, offset, path)

    async def warm(self, doc: Document, offset: int, path: str = "") -> bool:
        """Have the model evaluate ahead, in the background, the start of the prompt a
        completion on this line would send: everything before the line (other files, the
        prefix up to the line's start), which stays the same while the line is typed. The
        model keeps that state, so the completion after a pause evaluates only the line, the
        suffix and the middle token. False when there is nothing to warm (done already, or
        a model that cannot fill in the middle)."""
        info = await self.engine.start()
        if not info.infill:
            return False
        gap, prompt, _indented = self._infill(doc, offset, path)
        line_start = gap.prefix.removesuffix(gap.line_prefix)
        if not line_start.strip():
            return False
        return await self._warmer.warm(
            prompt.model_copy(update={"prefix": line_start, "suffix": ""})
        )

    async def follow(self, doc: Document, offset: int, text: str, path: str = "") -> None:
        """The suggestion that would follow `text` once it is accepted at `offset`, computed
        ahead in the background and remembered for that gap (llama.vscode's
        cacheFutureSuggestion): accepting a suggestion then shows the next one at once."""
        accepted = doc.source[:offset] + text.encode() + doc.source[offset:]
        after = Document(doc.uri, accepted, language=doc.language)
        await self.fill(after, offset + len(text.encode()), path, ahead=True)

    async def fill(
        self, doc: Document, offset: int, path: str = "", *, ahead: bool = False
    ) -> Completion:
        """The model's completion at byte `offset` (after `from_memory` found none).
        `ahead`: computed before it is asked for (in the background, not shown)."""
        started = time.perf_counter()
        info = await self.engine.start()
        if not info.infill:
            if not self._told_unsupported:
                log.info(
                    "no inline completion: %s has no fill-in-the-middle tokens in its tokenizer "
                    "(use a code model such as the default, Qwen2.5-Coder)",
                    info.name,
                )
                self._told_unsupported = True
            return Completion("", "model", f"{info.name} cannot fill in the middle")
        gap, prompt, indented = self._infill(doc, offset, path)
        first: list[float] = []
        written: list[str] = []
        over_at: list[int] = []
        """How much was written when the time budget ran out."""
        budget = self.settings.budget_ms / 1000
        grace = max(budget, LINE_GRACE_S)

        def on_token(piece: str) -> bool:
            """False stops the model: the block has ended, or the time is up and the line
            being written has ended (a line is never cut in the middle: `/ 1` for `/ 100`
            is wrong code offered as right), or the grace for ending it is spent too."""
            now = time.perf_counter()
            if not first:
                first.append(now)
            written.append(piece)
            if now - first[0] > budget:
                so_far = "".join(written)
                if not over_at:
                    over_at.append(len(so_far) - len(piece))
                at = over_at[0]
                line_ended = so_far[:at].endswith("\n") or "\n" in so_far[at:]
                if line_ended or now - first[0] > budget + grace:
                    return False
            return block_end(_unindented("".join(written), indented), gap) is None

        self.counts.model += 1
        result = await self.engine.generate(
            "complete",
            prompt,
            GenerationParams(
                max_tokens=self.settings.max_tokens, temperature=0.0, repeat_penalty=1.0
            ),
            priority=Priority.BACKGROUND if ahead else Priority.INTERACTIVE,
            on_token=on_token,
            use_cache=False,
        )
        text = _unindented(result.text, indented)
        ended = block_end(text, gap) is not None or (result.finish_reason == "stop" and not over_at)
        reason: str | None = None
        if not ended:  # stopped by the time or token budget: whole lines only
            text = text[: text.rfind("\n")] if "\n" in text else ""
            if not text.strip():
                reason = "cut short before its first line ended"
        text = trim(text, gap)
        reason = reason or rejection(doc, offset, text, gap)
        if reason is not None and "\n" in text:  # its first line alone may pass
            first_line = text.split("\n", 1)[0]
            if rejection(doc, offset, first_line, gap) is None:
                text, reason = first_line, None
        if reason is not None:
            log.debug("completion refused (%s): %r", reason, text[:80])
            self.counts.refused[reason] = self.counts.refused.get(reason, 0) + 1
            text = ""
        self._answers[_key(gap)] = text
        while len(self._answers) > REMEMBERED:
            self._answers.popitem(last=False)
        if text and not ahead:
            self._show(doc, offset, text)
        return Completion(text, "model", reason or "", _ms(started))

    def _infill(self, doc: Document, offset: int, path: str) -> tuple[Gap, Infill, bool]:
        """The gap at `offset`, the prompt that fills it, and whether the cursor is in its
        line's indentation. There the prompt ends at the line's start and the model writes
        the indentation too (a prefix ending in spaces splits the tokens the model would
        have used for them, and it indents again); the answer's own indentation on that line
        is dropped, the user's stands. Other files' definitions come first, those the prefix
        uses up to the cursor's line: they must not change while the line is typed (the
        model's state for the prompt's start is then still good; see `warm`)."""
        gap = self._gap(doc, offset)
        start = max(0, offset - len(gap.prefix.encode()))
        indented = bool(gap.line_prefix) and not gap.line_prefix.strip()
        line_start = offset - len(gap.line_prefix.encode())
        prompt = Infill(
            prefix=gap.prefix.removesuffix(gap.line_prefix) if indented else gap.prefix,
            suffix=gap.suffix,
            path=path,
            files=related_files(doc, start, max(start, line_start), self.workspace, path),
        )
        return gap, prompt, indented

    def _gap(self, doc: Document, offset: int) -> Gap:
        s = self.settings
        return gap_at(
            doc, offset, s.prefix_tokens * BYTES_PER_TOKEN, s.suffix_tokens * BYTES_PER_TOKEN
        )


def _unindented(text: str, indented: bool) -> str:
    """The answer without its first line's indentation, when the cursor is past the user's
    (and without blank lines before it: the code goes on the cursor's line)."""
    return text.lstrip(" \t\r\n") if indented else text


def _key(gap: Gap) -> str:
    return hashlib.sha256(f"{gap.prefix}\0{gap.suffix}".encode()).hexdigest()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
