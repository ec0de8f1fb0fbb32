"""The Assistant: one object that holds the tasks (a module each: explain.py, edit.py,
review.py, ask.py) over their shared generation path (generation.py), for the front ends.
It adds nothing of its own: each method is the task's."""

from __future__ import annotations

from collections.abc import Callable

from chmocoder.analysis.context import DefinitionLookup, Focus
from chmocoder.analysis.document import Document
from chmocoder.assist.ask import Ask
from chmocoder.assist.edit import Acceptance, EditCode
from chmocoder.assist.explain import Explain, Prepared, facts
from chmocoder.assist.explain_error import ExplainError
from chmocoder.assist.generation import AssistSettings, Generation, OutcomeSink
from chmocoder.assist.history import History
from chmocoder.assist.model import Model
from chmocoder.assist.prompts import EditTask
from chmocoder.assist.results import Answer, Explanation, Finding, Fix, ReportedError
from chmocoder.assist.review import Review, ReviewState
from chmocoder.engine.types import Priority, TokenCallback

__all__ = ["AssistSettings", "Assistant"]


class Assistant:
    def __init__(
        self,
        engine: Model,
        settings: AssistSettings,
        history: History | None = None,
        workspace: DefinitionLookup | None = None,
        on_outcome: OutcomeSink | None = None,
    ) -> None:
        self.gen = Generation(engine, settings, workspace, on_outcome)
        self.history = history
        self._explain = Explain(self.gen)
        self._explain_error = ExplainError(self.gen)
        self._edit = EditCode(self.gen)
        self._review = Review(self.gen)
        self._ask = Ask(self.gen, history)

    @property
    def engine(self) -> Model:
        return self.gen.engine

    @property
    def settings(self) -> AssistSettings:
        return self.gen.settings

    @settings.setter
    def settings(self, settings: AssistSettings) -> None:
        self.gen.settings = settings

    @property
    def workspace(self) -> DefinitionLookup | None:
        return self.gen.workspace

    @workspace.setter
    def workspace(self, workspace: DefinitionLookup | None) -> None:
        self.gen.workspace = workspace

    def facts(self, focus: Focus) -> str:
        return facts(focus)

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
        return await self._explain.explain(
            focus,
            path=path,
            on_token=on_token,
            on_progress=on_progress,
            priority=priority,
            prepared=prepared,
        )

    def prepare_explanation(self, focus: Focus, *, path: str | None = None) -> Prepared:
        return self._explain.prepare(focus, path=path)

    async def explain_error(
        self,
        focus: Focus,
        errors: list[ReportedError],
        *,
        path: str | None = None,
        on_token: TokenCallback | None = None,
        on_progress: TokenCallback | None = None,
    ) -> Explanation:
        return await self._explain_error.explain(
            focus, errors, path=path, on_token=on_token, on_progress=on_progress
        )

    async def warm(self, focus: Focus, *, path: str | None = None, file_only: bool = False) -> bool:
        return await self._explain.warm(focus, path=path, file_only=file_only)

    def explain_cached(
        self, focus: Focus, *, path: str | None = None, prepared: Prepared | None = None
    ) -> Explanation | None:
        return self._explain.cached(focus, path=path, prepared=prepared)

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
        accept: Acceptance | None = None,
    ) -> Fix:
        return await self._edit.edit(
            doc, task, start, end, detail=detail, path=path, on_token=on_token, accept=accept
        )

    async def review(
        self,
        doc: Document,
        state: ReviewState,
        *,
        path: str | None = None,
        is_current: Callable[[], bool] = lambda: True,
    ) -> tuple[list[Finding], int]:
        return await self._review.review(doc, state, path=path, is_current=is_current)

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
        return await self._ask.ask(
            doc,
            start,
            end,
            question,
            path=path,
            scope=scope,
            on_token=on_token,
            on_progress=on_progress,
        )
