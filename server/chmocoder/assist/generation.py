"""What every task shares: the code context, one prompt fitter (the answer's budget and the
context shrunk until both fit the model's window) and one generation path. A task module
(explain, edit, review, ask) builds its prompt for a context budget and runs it here."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from chmocoder.analysis.context import MIN_BUDGET, CodeContext, DefinitionLookup, extract_context
from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import Definition
from chmocoder.assist.model import Model
from chmocoder.assist.prompts import Audience, PromptSpec, Task
from chmocoder.assist.shaping import AnswerShaper
from chmocoder.engine.types import (
    EngineError,
    GenerationParams,
    GenerationResult,
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

RESERVE_TOKENS = 16
"""Slack between the prompt plus the answer's budget and the model's window."""
TEMPLATE_TOKENS = 64
"""What a chat template may add to the prompt's text (role markers), for the quick check."""

MakePrompt = Callable[[int], PromptSpec]
"""A task's prompt for a code-context budget (in tokens)."""


@dataclass
class AssistSettings:
    audience: Audience = "intermediate"
    max_tokens: int = 384
    temperature: float = 0.2
    seed: int | None = None
    """Prose answers' seed (config.Settings.seed)."""
    context_tokens: int = 1536
    allow_risky: bool = False
    """Edits that add risky calls (analysis/risks.py) may be offered."""
    build_check: bool = True
    """A fix is compiled before it is offered, where a compiler is installed (assist/compiler.py)."""


@dataclass(frozen=True)
class Request:
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


class Generation:
    """The model, the settings and the workspace every task uses, and the one path to the
    model (`generate`). The assistant keeps one; its tasks share it."""

    def __init__(
        self,
        engine: Model,
        settings: AssistSettings,
        workspace: DefinitionLookup | None = None,
        on_outcome: OutcomeSink | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.workspace = workspace
        self.on_outcome = on_outcome

    def context(
        self,
        doc: Document,
        offset: int,
        path: str | None = None,
        budget: int | None = None,
        chain: tuple[Definition, ...] | None = None,
        *,
        doc_comment: bool = False,
    ) -> CodeContext:
        return extract_context(
            doc,
            offset,
            path=path,
            budget=budget or self.settings.context_tokens,
            workspace=self.workspace,
            chain=chain,
            doc_comment=doc_comment,
        )

    def full_budget(
        self, info: ModelInfo, task: Task, make: MakePrompt, max_tokens: int
    ) -> tuple[Request, bool]:
        """The request with the whole context budget, and whether it fits even by the token
        estimate (an over-count: then no tokenizer round trip is needed). The answer gets at
        most a third of the window."""
        max_tokens = max(16, min(max_tokens, info.context_length // 3))
        prompt, lead, stop = make(self.settings.context_tokens).build(info.chat)
        estimate = estimate_tokens(prompt_text(prompt)) + TEMPLATE_TOKENS
        fits = estimate + max_tokens + RESERVE_TOKENS <= info.context_length
        return Request(task, prompt, lead, stop, max_tokens), fits

    async def fit(self, task: Task, make: MakePrompt, max_tokens: int) -> Request:
        """The request fitted to the model's window: the answer gets at most a third of it,
        and the code context shrinks (measured with the model's own tokenizer) until prompt
        and answer fit."""
        info = await self.engine.start()
        request, fits = self.full_budget(info, task, make, max_tokens)
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

    def prose(self) -> GenerationParams:
        """The sampling of a prose answer (explain, explain-error, ask): llama.cpp's repeat
        penalty (GenerationParams' 1.1) and the `seed` setting. Sampling the default model
        without the penalty was tried and reverted: explanation rubric on test 0.888 -> 0.894
        over three seeds, within the draw (README, Answer quality)."""
        return GenerationParams(temperature=self.settings.temperature, seed=self.settings.seed)

    async def generate(
        self,
        request: Request,
        sampling: GenerationParams,
        *,
        priority: Priority = Priority.INTERACTIVE,
        on_token: TokenCallback | None = None,
        keep_stopped: bool = True,
    ) -> GenerationResult:
        """Every model call of every task goes through here: the request's prompt, with its
        answer budget and stop strings on the task's sampling (`keep_stopped`: see
        Engine.generate)."""
        return await self.engine.generate(
            request.task,
            request.prompt,
            request.params(sampling),
            priority=priority,
            on_token=on_token,
            keep_stopped=keep_stopped,
        )

    async def surprisal(
        self, task: Task, text: str, start: int, priority: Priority = Priority.BACKGROUND
    ) -> list[tuple[int, float]] | None:
        """How surprising the model finds each token of `text` from character `start` on,
        given the text before it: (character offset, -ln p) per token; None if it stopped
        first. A runtime that cannot say (a model server, ctransformers) raises EngineError
        "unsupported"; a text over the window, "prompt-too-long"."""
        result = await self.engine.generate(
            task, text, GenerationParams(score_from=start), priority=priority
        )
        return result.scores if result.finish_reason == "stop" else None

    async def run_prose(
        self,
        task: Task,
        make: MakePrompt,
        max_tokens: int | None,
        on_token: TokenCallback | None,
        priority: Priority,
        source: str = "",
        on_progress: TokenCallback | None = None,
        request: Request | None = None,
    ) -> tuple[str, GenerationResult]:
        """A prose answer, streamed through the shaper (see shaping.py); `request`: the
        prompt already fitted (else it is fitted here)."""
        if request is None:
            request = await self.fit(task, make, self.prose_budget(max_tokens))
        shaper = make_shaper(request.lead, source, on_token, on_progress)
        result = await self.generate(request, self.prose(), priority=priority, on_token=shaper)
        text = shaper.finish(complete=result.finish_reason == "stop")
        return text, result

    def prose_budget(self, max_tokens: int | None) -> int:
        """A prose answer's tokens: the task's own, never over the maxTokens setting."""
        return min(max_tokens or self.settings.max_tokens, self.settings.max_tokens)

    def code_budget(self, target: str) -> int:
        """Tokens for an answer that rewrites `target`: its code plus a diagnosis line."""
        return min(self.settings.max_tokens * 2, max(256, len(target) // 2 + 128)) + 64

    def outcome(self, task: Task, outcome: str) -> None:
        log.info("%s: %s", task, outcome)
        if self.on_outcome is not None:
            try:
                self.on_outcome(task, outcome)
            except Exception:  # statistics must never break a task
                log.exception("recording an outcome failed")


@functools.lru_cache(maxsize=64)
def shaped_whole(lead: str, source: str, text: str, complete: bool) -> str:
    """A whole cached answer through the shaper, as `run_prose` shapes it piece by piece
    (the same answer is shown again on every hover of its definition: shaped once)."""
    shaper = make_shaper(lead, source)
    shaper(text)
    return shaper.finish(complete=complete)


def make_shaper(
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
