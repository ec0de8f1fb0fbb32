"""The Assistant: runs each task's prompt through the engine and shapes the answer."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from chmocoder.analysis.context import (
    MIN_BUDGET,
    CodeContext,
    DefinitionLookup,
    Focus,
    extract_context,
)
from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import Definition
from chmocoder.analysis.syntax import syntax_problems
from chmocoder.assist import prompts
from chmocoder.assist.edits import (
    extract_code,
    extract_description,
    indentation_of,
    line_span,
    reindent,
    verify,
)
from chmocoder.assist.history import History
from chmocoder.assist.model import Model
from chmocoder.assist.prompts import Audience, EditTask, PromptSpec, Task
from chmocoder.assist.results import Answer, Edit, Explanation, Finding, Fix
from chmocoder.assist.review import (
    MIN_CONFIDENCE,
    ReviewFinding,
    ReviewState,
    ReviewUnit,
    changed_rows,
    filter_findings,
    is_sentence,
)
from chmocoder.assist.shaping import AnswerShaper
from chmocoder.assist.warming import Warmer
from chmocoder.engine.types import (
    EngineError,
    GenerationParams,
    GenerationResult,
    Infill,
    ModelInfo,
    Priority,
    Prompt,
    TokenCallback,
    prompt_text,
)
from chmocoder.tokens import estimate_tokens

log = logging.getLogger(__name__)

OutcomeSink = Callable[[str, str], None]
"""(task, outcome): what became of a task beyond its model calls (a fix verified on its
second candidate, ...), for `chmocoder stats`."""

EDIT_CANDIDATES = (
    GenerationParams(temperature=0.1, repeat_penalty=1.0, seed=1),
    GenerationParams(temperature=0.6, repeat_penalty=1.0, seed=2),
    GenerationParams(temperature=0.9, repeat_penalty=1.0, seed=3),
)
"""A fix, docstring or simplify edit: the first candidate that passes verification with a
change is offered. Edits copy most of their input, so no repeat penalty."""

REVIEW_SAMPLES = (
    GenerationParams(temperature=0.1, repeat_penalty=1.0, seed=1),
    GenerationParams(temperature=0.7, repeat_penalty=1.0, seed=2),
    GenerationParams(temperature=0.7, repeat_penalty=1.0, seed=3),
)
"""Independent fixes per reviewed unit: the line they agree on is the finding."""

RESERVE_TOKENS = 16
"""Slack between the prompt plus the answer's budget and the model's window."""
TEMPLATE_TOKENS = 64
"""What a chat template may add to the prompt's text (role markers), for the quick check."""


@dataclass
class AssistSettings:
    audience: Audience = "intermediate"
    max_tokens: int = 384
    temperature: float = 0.2
    context_tokens: int = 1536
    allow_risky: bool = False
    """Edits that add risky calls (analysis/risks.py) may be offered."""


@dataclass(frozen=True)
class _Request:
    """One task's prompt fitted to the model's window, with what its answers share."""

    task: Task
    prompt: Prompt
    lead: str
    """The start of the answer the prompt already wrote (a base model's "Explanation: ")."""
    stop: tuple[str, ...]
    max_tokens: int

    def params(self, sampling: GenerationParams) -> GenerationParams:
        """`sampling` (temperature, seed, ...) with this request's answer budget and stops."""
        return sampling.model_copy(update={"max_tokens": self.max_tokens, "stop": self.stop})


class Assistant:
    def __init__(
        self,
        engine: Model,
        settings: AssistSettings,
        history: History | None = None,
        workspace: DefinitionLookup | None = None,
        on_outcome: OutcomeSink | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.history = history
        self.workspace = workspace
        self.on_outcome = on_outcome
        self._warmer = Warmer(engine)

    # --- shared --------------------------------------------------------------------

    def context(
        self,
        doc: Document,
        offset: int,
        path: str | None = None,
        budget: int | None = None,
        chain: tuple[Definition, ...] | None = None,
    ) -> CodeContext:
        return extract_context(
            doc,
            offset,
            path=path,
            budget=budget or self.settings.context_tokens,
            workspace=self.workspace,
            chain=chain,
        )

    def _full_budget(
        self, info: ModelInfo, task: Task, make: Callable[[int], PromptSpec], max_tokens: int
    ) -> tuple[_Request, bool]:
        """The request with the whole context budget, and whether it fits even by the token
        estimate (an over-count: then no tokenizer round trip is needed). The answer gets at
        most a third of the window."""
        max_tokens = max(16, min(max_tokens, info.context_length // 3))
        prompt, lead, stop = make(self.settings.context_tokens).build(info.chat)
        estimate = estimate_tokens(prompt_text(prompt)) + TEMPLATE_TOKENS
        fits = estimate + max_tokens + RESERVE_TOKENS <= info.context_length
        return _Request(task, prompt, lead, stop, max_tokens), fits

    async def _fit(
        self, task: Task, make: Callable[[int], PromptSpec], max_tokens: int
    ) -> _Request:
        """The request fitted to the model's window: the answer gets at most a third of it,
        and the code context shrinks (measured with the model's own tokenizer) until prompt
        and answer fit."""
        info = await self.engine.start()
        request, fits = self._full_budget(info, task, make, max_tokens)
        if fits:
            return request
        window = info.context_length
        budget = self.settings.context_tokens
        for attempt in range(6):
            if attempt:
                prompt, lead, stop = make(budget).build(info.chat)
                request = replace(request, prompt=prompt, lead=lead, stop=stop)
            used = await self.engine.count_tokens(prompt_text(request.prompt))
            over = used + request.max_tokens + RESERVE_TOKENS - window
            if over <= 0 or budget <= MIN_BUDGET:
                break
            budget = max(MIN_BUDGET, budget - over - budget // 8)
        if over > 0:  # the smallest context still leaves too little room: a shorter answer
            if window - used - RESERVE_TOKENS < 16:
                raise EngineError(
                    "prompt-too-long",
                    f"the model's context window ({window} tokens) is too small for this "
                    f"request ({used} tokens without the answer); use a model or nCtx with more",
                )
            request = replace(request, max_tokens=window - used - RESERVE_TOKENS)
        return request

    def _prose(self) -> GenerationParams:
        """The sampling of a prose answer (explain, ask)."""
        return GenerationParams(temperature=self.settings.temperature)

    async def _generate(
        self,
        request: _Request,
        sampling: GenerationParams,
        *,
        priority: Priority = Priority.INTERACTIVE,
        on_token: TokenCallback | None = None,
    ) -> GenerationResult:
        """Every model call of every task goes through here: the request's prompt, with its
        answer budget and stop strings on the task's sampling."""
        return await self.engine.generate(
            request.task,
            request.prompt,
            request.params(sampling),
            priority=priority,
            on_token=on_token,
        )

    async def _run(
        self,
        task: Task,
        make: Callable[[int], PromptSpec],
        max_tokens: int | None,
        on_token: TokenCallback | None,
        priority: Priority,
        source: str = "",
        on_progress: TokenCallback | None = None,
    ) -> tuple[str, GenerationResult]:
        """A prose answer, streamed through the shaper (see shaping.py)."""
        request = await self._fit(task, make, self._prose_budget(max_tokens))
        shaper = _shaper(request.lead, source, on_token, on_progress)
        result = await self._generate(request, self._prose(), priority=priority, on_token=shaper)
        text = shaper.finish(complete=result.finish_reason == "stop")
        return text, result

    def _prose_budget(self, max_tokens: int | None) -> int:
        """A prose answer's tokens: the task's own, never over the maxTokens setting."""
        return min(max_tokens or self.settings.max_tokens, self.settings.max_tokens)

    def _code_budget(self, target: str) -> int:
        """Tokens for an answer that rewrites `target`: its code plus a diagnosis line."""
        return min(self.settings.max_tokens * 2, max(256, len(target) // 2 + 128)) + 64

    def _outcome(self, task: Task, outcome: str) -> None:
        log.info("%s: %s", task, outcome)
        if self.on_outcome is not None:
            try:
                self.on_outcome(task, outcome)
            except Exception:  # statistics must never break a task
                log.exception("recording an outcome failed")

    # --- explain -------------------------------------------------------------------

    def facts(self, focus: Focus) -> str:
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

    def _explain_parts(
        self, focus: Focus, path: str | None
    ) -> tuple[str, str, Callable[[int], PromptSpec]]:
        """(title, the code explained, the prompt for a context budget)."""
        doc, inner = focus.doc, focus.inner
        shown = doc.text(inner.span.start_byte, inner.span.end_byte) if inner else ""
        if focus.selection is not None:
            shown = doc.text(*focus.selection)
        title = f"{inner.kind} {inner.name}" if inner else "selection"

        def make(budget: int) -> PromptSpec:
            return self.explain_prompt(focus, path=path, budget=budget)

        return title, shown, make

    async def explain(
        self,
        focus: Focus,
        *,
        path: str | None = None,
        on_token: TokenCallback | None = None,
        on_progress: TokenCallback | None = None,
        priority: Priority = Priority.INTERACTIVE,
    ) -> Explanation:
        """`on_token` gets the explanation as it may be shown; `on_progress` every piece the
        model writes."""
        title, shown, make = self._explain_parts(focus, path)
        text, _result = await self._run(
            "explain",
            make,
            prompts.EXPLAIN_TOKENS[self.settings.audience],
            on_token,
            priority,
            source=shown,
            on_progress=on_progress,
        )
        return Explanation(title=title, markdown=text)

    async def warm(self, focus: Focus, *, path: str | None = None, file_only: bool = False) -> bool:
        """Have the model evaluate ahead, in the background, the start of the prompt an
        explanation here would send: all of it but the cursor's line and the request (or,
        `file_only`, what every explanation in this file shares: the instructions, the file's
        name and imports). The model keeps that state, so when the hover comes only the rest
        is evaluated. Nothing is answered; False when there was nothing new to warm."""
        _title, _shown, make = self._explain_parts(focus, path)
        budget = self._prose_budget(prompts.EXPLAIN_TOKENS[self.settings.audience])
        request = await self._fit("explain", make, budget)
        start = prompt_start(request.prompt, file_only=file_only)
        if start is None:
            return False
        return await self._warmer.warm(start)

    def explain_cached(self, focus: Focus, *, path: str | None = None) -> Explanation | None:
        """The explanation `explain` would give, if the result cache has it: found at once
        (no task, no wait: a hover after an edit elsewhere asks the same again). None when
        the model would be needed, or the prompt needs the tokenizer to fit."""
        info = self.engine.info
        if info is None:
            return None
        title, shown, make = self._explain_parts(focus, path)
        budget = self._prose_budget(prompts.EXPLAIN_TOKENS[self.settings.audience])
        request, fits = self._full_budget(info, "explain", make, budget)
        if not fits:
            return None
        hit = self.engine.cached(request.task, request.prompt, request.params(self._prose()))
        if hit is None:
            return None
        markdown = _shaped_whole(request.lead, shown, hit.text, hit.finish_reason == "stop")
        return Explanation(title=title, markdown=markdown)

    def explain_prompt(
        self, focus: Focus, *, path: str | None = None, budget: int | None = None
    ) -> PromptSpec:
        doc = focus.doc
        ctx = self.context(doc, focus.offset, path, budget, focus.chain)
        material = ctx.render()
        kind, name = (ctx.definition.kind, ctx.definition.name) if ctx.definition else ("code", "")
        if focus.selection is not None:
            selected = doc.text(*focus.selection)
            material += f"\nSelected code:\n```\n{selected}\n```\n"
            kind, name = "selected code", ""
        return prompts.explain_prompt(material, kind, name, self.settings.audience, ctx.identifier)

    # --- edits ---------------------------------------------------------------------

    async def edit(
        self,
        doc: Document,
        task: EditTask,
        start: int,
        end: int,
        *,
        detail: str = "",
        path: str | None = None,
        on_token: TokenCallback | None = None,
    ) -> Fix:
        """A new version of the target, checked (re-parse, confinement) before it is offered.
        Up to three candidates: the first that changes the code and passes is the answer."""
        focus = Focus.at(doc, start)
        chain = focus.chain
        target_start, target_end = _edit_target(focus, end)
        target = doc.text(target_start, target_end)
        problems = [detail] if detail.strip() else []
        for p in syntax_problems(doc):
            if target_start <= p.span.start_byte <= target_end:
                problems.append(f"line {p.span.start[0] + 1}: {p.message}")
        cursor = ""
        if chain and doc.source.count(b"\n", 0, start) > chain[0].span.start[0]:
            cursor = doc.text(*line_span(doc, start, start))
        callers = _callers(doc, chain[0], target_start, target_end) if chain else ()

        def make(budget: int) -> PromptSpec:
            ctx = self.context(doc, start, path, budget, chain)
            return prompts.edit_prompt(
                ctx.render(),
                doc.language_name or "",
                target,
                task,
                self.settings.audience,
                problems=tuple(problems),
                cursor=cursor if task == "fix" else "",
                callers=callers if task == "fix" else (),
            )

        request = await self._fit(task, make, self._code_budget(target))
        title = prompts.EDIT_TITLES[task]
        indentation = indentation_of(doc, target_start)
        reasons: list[str] = []
        for number, candidate in enumerate(EDIT_CANDIDATES, 1):
            result = await self._generate(
                request, candidate, on_token=on_token if number == 1 else None
            )
            code = reindent(extract_code(result.text), indentation)
            edit = Edit(target_start, target_end, code)
            reason = verify(doc, edit, allow_risky=self.settings.allow_risky)
            if reason is None:
                self._outcome(task, f"verified on candidate {number}")
                return Fix(title=title, edit=edit, description=extract_description(result.text))
            log.info("%s candidate %d rejected: %s", task, number, reason)
            reasons.append(reason)
        unchanged = all(r == "the model suggested no change" for r in reasons)
        self._outcome(task, "no change" if unchanged else "rejected")
        reason = reasons[-1] if unchanged else next(r for r in reasons if "no change" not in r)
        return Fix(title=title, edit=None, rejected=reason)

    # --- review --------------------------------------------------------------------

    async def review(
        self,
        doc: Document,
        state: ReviewState,
        *,
        path: str | None = None,
        is_current: Callable[[], bool] = lambda: True,
    ) -> tuple[list[Finding], int]:
        """Findings for the document, asking the model only about changed units.

        Returns (findings, model calls made). Stops early when `is_current` turns
        False (the document moved on): what was reviewed so far is kept.
        """
        calls = 0
        for unit in state.plan(doc):
            if not is_current():
                break
            calls += 1
            try:
                found = await self._review_unit(doc, unit, path)
            except EngineError as exc:  # one bad answer must not stop the review of the rest
                log.warning("review of %s %s failed: %s", unit.kind, unit.name, exc.message)
                continue
            kept = filter_findings(doc, unit, found)
            if len(kept) < len(found):
                log.info(
                    "review of %s %s: %d of %d findings kept",
                    unit.kind, unit.name, len(kept), len(found),
                )  # fmt: skip
            state.store(unit, kept)
        state.forget_missing(doc)
        return state.findings(doc), calls

    async def _review_unit(
        self, doc: Document, unit: ReviewUnit, path: str | None
    ) -> list[ReviewFinding]:
        """At most one finding: the line most of the sampled fixes change (see review.py)."""
        rows, lines = _unit_lines(doc, unit)

        def make(budget: int) -> PromptSpec:
            if unit.kind == "module":
                ctx = f"File: {path or doc.uri}" + (
                    f" ({doc.language_name})\n" if doc.language_name else "\n"
                )
            else:
                ctx = self.context(doc, unit.start_byte, path, budget).render()
            return prompts.edit_prompt(
                ctx, doc.language_name or "", "\n".join(lines), "fix", self.settings.audience
            )

        request = await self._fit("review", make, self._code_budget("\n".join(lines)))
        votes: dict[int, int] = {}
        said: dict[int, tuple[str, str]] = {}
        needed = -(-MIN_CONFIDENCE * len(REVIEW_SAMPLES) // 100)  # votes a finding needs
        for number, sample in enumerate(REVIEW_SAMPLES, 1):
            result = await self._generate(request, sample, priority=Priority.BACKGROUND)
            if "```" in result.text:  # no code: the model found nothing to change ("No bug.")
                new = extract_code(result.text).split("\n")
                for index, replacement in changed_rows(lines, new).items():
                    votes[index] = votes.get(index, 0) + 1
                    said.setdefault(index, (extract_description(result.text), replacement))
            left = len(REVIEW_SAMPLES) - number
            if max(votes.values(), default=0) + left < needed:
                # no line can be agreed on any more: the rest cannot change the outcome
                self._outcome("review", f"stopped after {number} of {len(REVIEW_SAMPLES)}")
                return []
        if not votes:
            return []
        index, count = max(votes.items(), key=lambda kv: (kv[1], -kv[0]))
        message, replacement = said[index]
        if not is_sentence(message):
            message = "This line does not seem to do what the code is meant to do."
        return [
            ReviewFinding(
                line=rows[index] + 1,
                quote=lines[index].strip()[:300] or "?",
                severity="warning",
                message=message[:300],
                suggestion=f"`{replacement[:200]}`" if replacement else "remove this line",
                confidence=count * 100 // len(REVIEW_SAMPLES),
            )
        ]

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
        on_progress: TokenCallback | None = None,
    ) -> Answer:
        earlier = self.history.turns(scope) if self.history and scope else []

        def make(budget: int) -> PromptSpec:
            material = self.context(doc, start, path, budget).render()
            if end > start:
                material += f"\nSelected code:\n```\n{doc.text(start, end)}\n```\n"
            return prompts.ask_prompt(material, question, earlier, self.settings.audience)

        text, _ = await self._run(
            "ask", make, None, on_token, Priority.INTERACTIVE, on_progress=on_progress
        )
        if self.history and scope:
            self.history.add(scope, question, text)
        return Answer(question=question, markdown=text, history=earlier)


_CURSOR_PART = "\n\nCursor: line "
_FILE_PARTS = ("File: ", "Imports:\n")


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


def _edit_target(focus: Focus, end: int) -> tuple[int, int]:
    """The whole lines of the innermost definition around [focus, end), else the lines."""
    inner, doc = focus.inner, focus.doc
    if inner is not None and inner.span.end_byte >= end:
        return line_span(doc, inner.span.start_byte, inner.span.end_byte)
    return line_span(doc, focus.offset, end)


def _unit_lines(doc: Document, unit: ReviewUnit) -> tuple[list[int], list[str]]:
    """(row of each line, the lines) a unit's review shows the model."""
    if unit.kind == "module":
        numbered = [line.split("| ", 1) for line in unit.text.split("\n")]
        return [int(n) - 1 for n, _ in numbered], [text for _, text in numbered]
    start, end = line_span(doc, unit.start_byte, unit.end_byte)
    lines = doc.text(start, end).split("\n")
    return [unit.start_row + i for i in range(len(lines))], lines


def _callers(
    doc: Document, definition: Definition, start: int, end: int, limit: int = 3
) -> tuple[str, ...]:
    """Lines of this file outside the target that call it, as the model's evidence of intent."""
    needle = f"{definition.name}(".encode()
    found: list[str] = []
    position = doc.source.find(needle)
    while position >= 0 and len(found) < limit:
        if not start <= position < end:
            a, b = line_span(doc, position, position)
            line = doc.text(a, b).strip()
            if line and line not in found:
                found.append(line)
        position = doc.source.find(needle, position + 1)
    return tuple(found)


@functools.lru_cache(maxsize=64)
def _shaped_whole(lead: str, source: str, text: str, complete: bool) -> str:
    """A whole cached answer through the shaper, as `_run` shapes it piece by piece (the
    same answer is shown again on every hover of its definition: shaped once)."""
    shaper = _shaper(lead, source)
    shaper(text)
    return shaper.finish(complete=complete)


def _shaper(
    lead: str,
    source: str,
    on_token: TokenCallback | None = None,
    on_progress: TokenCallback | None = None,
) -> AnswerShaper:
    """The shaper of one prose answer, fed first the part of the prompt's lead the reader
    sees (after its "Label: ")."""
    shaper = AnswerShaper(on_token or (lambda _piece: None), source, on_progress)
    shaper(lead.split(": ", 1)[1] if ": " in lead else "")
    return shaper
