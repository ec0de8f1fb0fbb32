"""The explain task: quick facts from the parse tree, and the model's explanation of the
definition (or selection) at the cursor, at the reader's level; warmed ahead, and found in
the result cache without a wait when it is there."""

from __future__ import annotations

from dataclasses import dataclass

from chmocoder.analysis.context import Focus
from chmocoder.assist import prompts
from chmocoder.assist.generation import Generation, MakePrompt, Request, shaped_whole
from chmocoder.assist.prompts import PromptSpec
from chmocoder.assist.results import Explanation
from chmocoder.assist.warming import Warmer
from chmocoder.engine.types import Infill, ModelInfo, Priority, Prompt, TokenCallback

_CURSOR_PART = "\n\nCursor: line "
_FILE_PARTS = ("File: ", "Imports:\n")


def facts(focus: Focus) -> str:
    """Quick facts from tree-sitter: what the definition is, its signature and doc ("" when
    the cursor is in none)."""
    inner = focus.inner
    if inner is None:
        return ""
    lang = focus.doc.language_name or ""
    parts = [
        f"**{inner.kind}** `{inner.name}`"
        + (f" in `{focus.chain[1].name}`" if len(focus.chain) > 1 else "")
    ]
    parts.append(f"```{lang}\n{inner.signature}\n```")
    if inner.doc:
        parts.append(inner.doc)
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Prepared:
    """An explanation's prompt, found once for a hover: looked up in the result cache, and
    then, if it was not there, sent as it is."""

    title: str
    shown: str
    make: MakePrompt
    request: Request | None
    """The prompt with the whole context budget, when it fits the window by the estimate
    (what `fit` would return); None when the model is not started or it needs fitting."""
    info: ModelInfo | None
    """The model it was made for: another model (new settings) makes it anew."""


class Explain:
    def __init__(self, gen: Generation) -> None:
        self.gen = gen
        self._warmer = Warmer(gen.engine)

    def _budget(self) -> int:
        return self.gen.prose_budget(prompts.EXPLAIN_TOKENS[self.gen.settings.audience])

    def _parts(self, focus: Focus, path: str | None) -> tuple[str, str, MakePrompt]:
        """(title, the code explained, the prompt for a context budget)."""
        doc, inner = focus.doc, focus.inner
        shown = doc.text(inner.span.start_byte, inner.span.end_byte) if inner else ""
        if focus.selection is not None:
            shown = doc.text(*focus.selection)
        title = f"{inner.kind} {inner.name}" if inner else "selection"

        def make(budget: int) -> PromptSpec:
            return self.prompt(focus, path=path, budget=budget)

        return title, shown, make

    def prepare(self, focus: Focus, *, path: str | None = None) -> Prepared:
        """The explanation's prompt, for `cached` and then `explain` (found once)."""
        title, shown, make = self._parts(focus, path)
        info = self.gen.engine.info
        request = None
        if info is not None:
            full, fits = self.gen.full_budget(info, "explain", make, self._budget())
            request = full if fits else None
        return Prepared(title, shown, make, request, info)

    async def explain(
        self,
        focus: Focus,
        *,
        path: str | None = None,
        on_token: TokenCallback | None = None,
        on_progress: TokenCallback | None = None,
        priority: Priority = Priority.INTERACTIVE,
        prepared: Prepared | None = None,
    ) -> Explanation:
        """`on_token` gets the explanation as it may be shown; `on_progress` every piece the
        model writes; `prepared`: its prompt, found already (`prepare`)."""
        if prepared is None or prepared.info is not self.gen.engine.info:
            prepared = self.prepare(focus, path=path)
        title, shown, make = prepared.title, prepared.shown, prepared.make
        text, _result = await self.gen.run_prose(
            "explain",
            make,
            prompts.EXPLAIN_TOKENS[self.gen.settings.audience],
            on_token,
            priority,
            source=shown,
            on_progress=on_progress,
            request=prepared.request,
        )
        return Explanation(title=title, markdown=text)

    async def warm(self, focus: Focus, *, path: str | None = None, file_only: bool = False) -> bool:
        """Have the model evaluate ahead, in the background, the start of the prompt an
        explanation here would send: all of it but the cursor's line and the request (or,
        `file_only`, what every explanation in this file shares: the instructions, the file's
        name and imports). The model keeps that state, so when the hover comes only the rest
        is evaluated. Nothing is answered; False when there was nothing new to warm."""
        _title, _shown, make = self._parts(focus, path)
        request = await self.gen.fit("explain", make, self._budget())
        start = prompt_start(request.prompt, file_only=file_only)
        if start is None:
            return False
        return await self._warmer.warm(start)

    def cached(
        self, focus: Focus, *, path: str | None = None, prepared: Prepared | None = None
    ) -> Explanation | None:
        """The explanation `explain` would give, if the result cache has it: found at once
        (no task, no wait: a hover after an edit elsewhere asks the same again). None when
        the model would be needed, or the prompt needs the tokenizer to fit."""
        if prepared is None or prepared.info is not self.gen.engine.info:
            prepared = self.prepare(focus, path=path)
        request, title, shown = prepared.request, prepared.title, prepared.shown
        if request is None:
            return None
        hit = self.gen.engine.cached(request.task, request.prompt, request.params(self.gen.prose()))
        if hit is None:
            return None
        markdown = shaped_whole(request.lead, shown, hit.text, hit.finish_reason == "stop")
        return Explanation(title=title, markdown=markdown)

    def prompt(
        self, focus: Focus, *, path: str | None = None, budget: int | None = None
    ) -> PromptSpec:
        doc = focus.doc
        ctx = self.gen.context(doc, focus.offset, path, budget, focus.chain, doc_comment=True)
        material = ctx.render()
        kind, name = (ctx.definition.kind, ctx.definition.name) if ctx.definition else ("code", "")
        if focus.selection is not None:
            selected = doc.text(*focus.selection)
            material += f"\nSelected code:\n```\n{selected}\n```\n"
            kind, name = "selected code", ""
        audience = self.gen.settings.audience
        return prompts.explain_prompt(material, kind, name, audience, ctx.identifier)


def prompt_start(prompt: Prompt, *, file_only: bool = False) -> Prompt | None:
    """The start of a prompt built on a CodeContext: up to its cursor part (or, `file_only`,
    its file and imports parts), for a chat prompt the last message's content cut there.
    None when the prompt has no such part."""
    if isinstance(prompt, Infill) or not prompt:
        return None
    text = prompt if isinstance(prompt, str) else prompt[-1].content
    if file_only:
        at = 0
        for part in _FILE_PARTS:
            if not text.startswith(part, at):
                break
            end = text.find("\n\n", at)
            if end < 0:
                return None
            at = end + 2
        cut = at
    else:
        found = text.rfind(_CURSOR_PART)
        cut = found + 2 if found >= 0 else 0
    if cut <= 0:
        return None
    if isinstance(prompt, str):
        return prompt[:cut]
    return [*prompt[:-1], prompt[-1].model_copy(update={"content": text[:cut]})]
