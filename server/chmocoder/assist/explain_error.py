"""The explain-error task: what an error or warning the editor shows means here, why this
code triggers it, and what to change; from any tool (the language's own server, a linter,
a compiler), at the reader's level: a beginner gets the concept, an expert one line."""

from __future__ import annotations

from collections.abc import Sequence

from chmocoder.analysis.context import Focus
from chmocoder.assist.generation import Generation
from chmocoder.assist.prompts import AUDIENCE_GUIDE, BASE_STOPS, Audience, PromptSpec
from chmocoder.assist.results import Explanation, ReportedError, describe_all, explain_title
from chmocoder.engine.types import Priority, TokenCallback

WORDS: dict[str, int] = {"beginner": 160, "intermediate": 90, "expert": 35}
TOKENS: dict[str, int] = {"beginner": 400, "intermediate": 260, "expert": 120}
SHAPE: dict[str, str] = {
    "beginner": (
        "First say in plain words what the message means and the idea behind it (what the "
        "tool checks and why), then why this code triggers it, then what to change, with "
        "the changed line."
    ),
    "intermediate": "Say why this code triggers it and what to change, with the changed line.",
    "expert": "One line: the cause here and the change.",
}


def explain_error_prompt(
    material: str, errors: str, audience: Audience, several: bool = False
) -> PromptSpec:
    return PromptSpec(
        instructions=(
            "A tool (a compiler, type checker or linter) reports a problem in the user's "
            "code. Explain it so it fits in an editor panel, in Markdown. "
            + SHAPE[audience]
            + f" Use at most {WORDS[audience]} words. Say only what the code and the "
            "message show; if the cause is in code you cannot see, say so. "
            + AUDIENCE_GUIDE[audience]
        ),
        material=material,
        request=f"The editor reports:\n{errors}\n"
        + ("Explain these errors." if several else "Explain this error."),
        lead="Explanation: This error",
        stop=BASE_STOPS,
    )


class ExplainError:
    def __init__(self, gen: Generation) -> None:
        self.gen = gen

    async def explain(
        self,
        focus: Focus,
        errors: Sequence[ReportedError],
        *,
        path: str | None = None,
        on_token: TokenCallback | None = None,
        on_progress: TokenCallback | None = None,
    ) -> Explanation:
        gen = self.gen
        described = describe_all(errors)

        def make(budget: int) -> PromptSpec:
            ctx = gen.context(focus.doc, focus.offset, path, budget, focus.chain)
            audience = gen.settings.audience
            return explain_error_prompt(ctx.render(), described, audience, len(errors) > 1)

        text, _ = await gen.run_prose(
            "explain-error",
            make,
            TOKENS[gen.settings.audience],
            on_token,
            Priority.INTERACTIVE,
            on_progress=on_progress,
        )
        return Explanation(title=explain_title(errors), markdown=text)
