"""The ask task: an answer to a question about the selected code, with the conversation
kept per scope (history.py)."""

from __future__ import annotations

from chmocoder.analysis.document import Document
from chmocoder.assist import prompts
from chmocoder.assist.generation import Generation
from chmocoder.assist.history import History
from chmocoder.assist.prompts import PromptSpec
from chmocoder.assist.results import Answer
from chmocoder.engine.types import Priority, TokenCallback


class Ask:
    def __init__(self, gen: Generation, history: History | None = None) -> None:
        self.gen = gen
        self.history = history

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
        gen = self.gen
        earlier = self.history.turns(scope) if self.history and scope else []

        def make(budget: int) -> PromptSpec:
            # with the doc comment above the definition: the contract a question is about
            material = gen.context(doc, start, path, budget, doc_comment=True).render()
            if end > start:
                material += f"\nSelected code:\n```\n{doc.text(start, end)}\n```\n"
            return prompts.ask_prompt(material, question, earlier, gen.settings.audience)

        text, _ = await gen.run_prose(
            "ask", make, None, on_token, Priority.INTERACTIVE, on_progress=on_progress
        )
        if self.history and scope:
            self.history.add(scope, question, text)
        return Answer(question=question, markdown=text, history=earlier)
