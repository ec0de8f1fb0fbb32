"""The Assistant: runs each task's prompt through the engine and shapes the answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chmocoder.analysis.context import CodeContext, DefinitionLookup, extract_context
from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import Definition, definitions_at
from chmocoder.assist import prompts
from chmocoder.assist.edits import extract_code, indentation_of, line_span, reindent, verify
from chmocoder.assist.history import History
from chmocoder.assist.prompts import Audience, PromptSpec
from chmocoder.assist.results import Answer, Edit, Explanation, Finding, Fix
from chmocoder.assist.review import ReviewFindings, ReviewState
from chmocoder.engine.engine import Engine
from chmocoder.engine.types import GenerationParams, GenerationResult, Priority

log = logging.getLogger(__name__)

TokenCallback = Callable[[str], Any]

EDIT_TASKS = {
    "fix": "Fix the problem in the target code",
    "docstring": "Add a docstring or doc comment to the target code, in the language's usual style",
    "simplify": "Simplify the target code without changing what it does",
}


@dataclass
class AssistSettings:
    audience: Audience = "intermediate"
    max_tokens: int = 384
    temperature: float = 0.2
    context_tokens: int = 1536


class Assistant:
    def __init__(
        self,
        engine: Engine,
        settings: AssistSettings,
        history: History | None = None,
        workspace: DefinitionLookup | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.history = history
        self.workspace = workspace

    # --- shared --------------------------------------------------------------------

    def context(self, doc: Document, offset: int, path: str | None = None) -> CodeContext:
        return extract_context(
            doc, offset, path=path, budget=self.settings.context_tokens, workspace=self.workspace
        )

    def _params(
        self, max_tokens: int | None = None, stop: tuple[str, ...] = ()
    ) -> GenerationParams:
        limit = min(max_tokens or self.settings.max_tokens, self.settings.max_tokens)
        return GenerationParams(max_tokens=limit, temperature=self.settings.temperature, stop=stop)

    async def _run(
        self,
        task: str,
        spec: PromptSpec,
        max_tokens: int | None,
        on_token: TokenCallback | None,
        priority: Priority,
    ) -> tuple[str, GenerationResult]:
        info = await self.engine.start()
        prompt, lead, stop = spec.build(info.chat)
        visible_lead = lead.split(": ", 1)[1] if ": " in lead else ""
        params = self._params(max_tokens, stop)
        guard = RepeatGuard(on_token or (lambda _piece: None))
        guard(visible_lead)
        result = await self.engine.generate(task, prompt, params, priority=priority, on_token=guard)
        return without_repeats((visible_lead + result.text).strip()), result

    # --- explain -------------------------------------------------------------------

    def facts(self, doc: Document, offset: int) -> tuple[str, Definition | None]:
        """Quick facts from tree-sitter: what the definition is, its signature and doc."""
        chain = definitions_at(doc, offset)
        if not chain:
            return "", None
        inner = chain[0]
        lang = doc.language_name or ""
        parts = [
            f"**{inner.kind}** `{inner.name}`"
            + (f" in `{chain[1].name}`" if len(chain) > 1 else "")
        ]
        parts.append(f"```{lang}\n{inner.signature}\n```")
        if inner.doc:
            parts.append(inner.doc)
        return "\n\n".join(parts), inner

    async def explain(
        self,
        doc: Document,
        offset: int,
        *,
        selection: tuple[int, int] | None = None,
        path: str | None = None,
        on_token: TokenCallback | None = None,
        priority: Priority = Priority.INTERACTIVE,
    ) -> Explanation:
        chain = definitions_at(doc, offset)
        inner = chain[0] if chain else None
        spec = self.explain_prompt(doc, offset, selection=selection, path=path)
        text, result = await self._run(
            "explain", spec, prompts.EXPLAIN_TOKENS[self.settings.audience], on_token, priority
        )
        title = f"{inner.kind} {inner.name}" if inner else "selection"
        return Explanation(title=title, markdown=text, cached=result.cached)

    def explain_prompt(
        self,
        doc: Document,
        offset: int,
        *,
        selection: tuple[int, int] | None = None,
        path: str | None = None,
    ) -> PromptSpec:
        ctx = self.context(doc, offset, path)
        material = ctx.render()
        kind, name = (ctx.definition.kind, ctx.definition.name) if ctx.definition else ("code", "")
        if selection is not None and selection[0] != selection[1]:
            selected = doc.text(*selection)
            material += f"\nSelected code:\n```\n{selected}\n```\n"
            kind, name = "selected code", ""
        return prompts.explain_prompt(material, kind, name, self.settings.audience, ctx.identifier)

    # --- edits ---------------------------------------------------------------------

    def edit_target(self, doc: Document, start: int, end: int) -> tuple[int, int]:
        """The whole lines of the innermost definition around [start, end), else the lines."""
        chain = definitions_at(doc, start)
        if chain and chain[0].span.end_byte >= end:
            return line_span(doc, chain[0].span.start_byte, chain[0].span.end_byte)
        return line_span(doc, start, end)

    async def edit(
        self,
        doc: Document,
        task: str,
        start: int,
        end: int,
        *,
        detail: str = "",
        path: str | None = None,
        on_token: TokenCallback | None = None,
    ) -> Fix:
        """Ask for a new version of the target and check it (re-parse, confinement)."""
        target_start, target_end = self.edit_target(doc, start, end)
        target = doc.text(target_start, target_end)
        ctx = self.context(doc, start, path)
        spec = prompts.edit_prompt(
            ctx.render(),
            doc.language_name or "",
            target,
            EDIT_TASKS[task],
            detail,
            self.settings.audience,
        )
        info = await self.engine.start()
        prompt, _lead, stop = spec.build(info.chat)
        budget = min(self.settings.max_tokens * 2, max(256, len(target) // 2 + 128))
        result = await self.engine.generate(
            task,
            prompt,
            GenerationParams(max_tokens=budget, temperature=0.1, stop=stop),
            on_token=on_token,
        )
        code = reindent(extract_code(result.text), indentation_of(doc, target_start))
        edit = Edit(target_start, target_end, code)
        title = {"fix": "Fix", "docstring": "Add docstring", "simplify": "Simplify"}[task]
        reason = verify(doc, edit)
        if reason is not None:
            log.info("%s edit rejected: %s", task, reason)
            return Fix(title=title, edit=None, rejected=reason)
        return Fix(title=title, edit=edit)

    # --- review --------------------------------------------------------------------

    async def review(
        self,
        doc: Document,
        state: ReviewState,
        *,
        path: str | None = None,
        is_current: Callable[[], bool] = lambda: True,
    ) -> tuple[list[Finding], int]:
        """Findings for the document, asking the model only about changed definitions.

        Returns (findings, model calls made). Stops early when `is_current` turns
        False (the document moved on): what was reviewed so far is kept.
        """
        todo, _kept = state.plan(doc)
        calls = 0
        for key, definition in todo:
            if not is_current():
                break
            ctx = self.context(doc, definition.span.start_byte, path)
            numbered = _numbered(doc, definition)
            material = ctx.render() + f"\nWith line numbers:\n{numbered}\n"
            spec = prompts.review_prompt(
                material,
                definition.kind,
                definition.name,
                definition.span.start[0] + 1,
                self.settings.audience,
            )
            info = await self.engine.start()
            prompt, _lead, _stop = spec.build(info.chat)
            calls += 1
            try:
                found, _ = await self.engine.generate_json(
                    "review",
                    prompt,
                    ReviewFindings,
                    GenerationParams(max_tokens=self.settings.max_tokens, temperature=0.1),
                    priority=Priority.BACKGROUND,
                )
            except Exception as exc:  # one bad answer must not stop the review of the rest
                log.warning("review of %s %s failed: %s", definition.kind, definition.name, exc)
                continue
            state.store(key, definition, found.findings)
        return state.findings(doc), calls

    # --- ask -----------------------------------------------------------------------

    async def ask(
        self,
        doc: Document,
        start: int,
        end: int,
        question: str,
        *,
        path: str | None = None,
        scope: str | None = None,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        earlier = self.history.turns(scope) if self.history and scope else []
        ctx = self.context(doc, start, path)
        material = ctx.render()
        if end > start:
            material += f"\nSelected code:\n```\n{doc.text(start, end)}\n```\n"
        spec = prompts.ask_prompt(material, question, earlier, self.settings.audience)
        text, _ = await self._run("ask", spec, None, on_token, Priority.INTERACTIVE)
        if self.history and scope:
            self.history.add(scope, question, text)
        return Answer(question=question, markdown=text, history=earlier)


def _norm(paragraph: str) -> str:
    return " ".join(paragraph.split()).lower()


class RepeatGuard:
    """Streams text on, but stops when a paragraph repeats one already written.

    A paragraph that so far reads like an earlier one is held back until it
    either turns out new (then it is forwarded) or complete and repeated (then
    the generation is stopped and it is never shown).
    """

    def __init__(self, forward: Callable[[str], Any]) -> None:
        self.forward = forward
        self.text = ""
        self.repeated = False
        self._sent = 0
        self._checked = 0
        self._seen: set[str] = set()

    def __call__(self, piece: str) -> bool:
        """Returns False once the text repeats itself: the generation should stop."""
        if self.repeated:
            return False
        if not piece:
            return True
        self.text += piece
        parts = self.text.split("\n\n")
        complete, current = parts[:-1], parts[-1]
        for index in range(self._checked, len(complete)):
            key = _norm(complete[index])
            if key and key in self._seen:
                self.repeated = True
                self.text = "\n\n".join(complete[:index])
                if len(self.text) > self._sent:
                    self.forward(self.text[self._sent :])
                    self._sent = len(self.text)
                return False
            self._seen.add(key)
            self._checked = index + 1
        key = _norm(current)
        hold = bool(key) and any(seen.startswith(key) for seen in self._seen)
        upto = len(self.text) - (len(current) if hold else 0)
        if upto > self._sent:
            self.forward(self.text[self._sent : upto])
            self._sent = upto
        return True


def without_repeats(text: str) -> str:
    """The text up to its first repeated paragraph: small models loop, and a loop adds nothing."""
    seen: set[str] = set()
    kept: list[str] = []
    for paragraph in text.split("\n\n"):
        key = " ".join(paragraph.split()).lower()
        if key and key in seen:
            break
        seen.add(key)
        kept.append(paragraph)
    return "\n\n".join(kept).strip()


def _numbered(doc: Document, definition: Definition) -> str:

    first = definition.span.start[0]
    start, end = line_span(doc, definition.span.start_byte, definition.span.end_byte)
    lines = doc.text(start, end).split("\n")
    return "\n".join(f"{first + i + 1:>5}| {line}" for i, line in enumerate(lines))
