"""The Assistant: one object that holds the core tasks (a module each: explain.py, edit.py,
review.py, ask.py) over their shared generation path (generation.py), for the front ends.
It adds nothing of its own: each method is the task's own (bound in __init__, so a task's
signature is written once). A further task needs no place here: its front end builds it
over `gen` (lsp/features/errors.py builds assist/explain_error.py's)."""

from __future__ import annotations

from chmocoder.analysis.context import DefinitionLookup
from chmocoder.assist.ask import Ask
from chmocoder.assist.edit import EditCode
from chmocoder.assist.explain import Explain, facts
from chmocoder.assist.generation import AssistSettings, Generation, OutcomeSink
from chmocoder.assist.history import History
from chmocoder.assist.model import Model
from chmocoder.assist.review import Review

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
        explain = Explain(self.gen)
        self.facts = facts
        self.explain = explain.explain
        self.prepare_explanation = explain.prepare
        self.explain_cached = explain.cached
        self.warm = explain.warm
        self.edit = EditCode(self.gen).edit
        self.review = Review(self.gen).review
        self.ask = Ask(self.gen, history).ask

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
