"""Prompts per task and audience.

Stable text first (instructions, the file's context, referenced signatures),
the cursor-specific request last, so consecutive prompts share a prefix the
runtime's KV cache can reuse. A chat-tuned model gets system + user messages;
a base model (the default Gemma 3 270M) gets one document that ends in a
lead-in it continues ("Explanation: The function `clamp`").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chmocoder.engine.types import ChatMessage, Prompt

Audience = Literal["beginner", "intermediate", "expert"]

SYSTEM = (
    "You are ChMOCoder, a code assistant inside the user's editor. You are given code "
    "from the user's file with its surrounding context. Be accurate: say only what the "
    "code shows, and say so when something depends on code you cannot see."
)

AUDIENCE_GUIDE: dict[str, str] = {
    "beginner": (
        "The reader is new to programming. Use plain words and explain every technical "
        "term you use (for example what a parameter or a return value is). After the "
        "explanation, give a small worked example: a call with sample inputs and the result."
    ),
    "intermediate": (
        "The reader knows the language. Explain the purpose, the inputs and outputs, side "
        "effects, and anything surprising."
    ),
    "expert": (
        "The reader is an expert. Be terse: one or two sentences on what it does, then "
        "only non-obvious behaviour, edge cases and risks. No basics."
    ),
}

EXPLAIN_TOKENS: dict[str, int] = {"beginner": 320, "intermediate": 220, "expert": 120}

_BASE_READER: dict[str, str] = {
    "beginner": " for a beginner, with terms explained and a worked example",
    "intermediate": "",
    "expert": " for an expert, in one or two sentences",
}


@dataclass(frozen=True)
class PromptSpec:
    """A task's prompt before it is shaped for a chat or a base model."""

    instructions: str
    """What the model is asked to do (system-level, stable)."""
    material: str
    """The code context."""
    request: str
    """The specific request (last, cursor-specific)."""
    lead: str
    """For a base model: the opening words of the answer, which it continues."""
    stop: tuple[str, ...] = ()
    """Extra stop strings for a base model, which otherwise runs on."""

    def build(self, chat: bool) -> tuple[Prompt, str, tuple[str, ...]]:
        """(prompt, text to put before the model's output, stop strings)."""
        if chat:
            messages = [
                ChatMessage(role="system", content=f"{SYSTEM}\n\n{self.instructions}"),
                ChatMessage(role="user", content=f"{self.material}\n{self.request}"),
            ]
            return messages, "", ()
        text = f"{self.material}\n{self.request}\n\n{self.lead}"
        return text, self.lead, self.stop


BASE_STOPS = (
    "\n\n\n", "\nFile:", "\nQuestion:", "\n```\n\n", "<end_of_turn>", "<start_of_turn>",
    # a base model that runs on starts the prompt's own sections again
    "\nCursor: line", "\nExplain the", "\nExplanation", "\nInside:\n", "\nReferenced definitions:",
)  # fmt: skip
"""Where a base model's answer ends (it would otherwise continue the document)."""


def explain_prompt(
    material: str, kind: str, name: str, audience: Audience, focus: str | None = None
) -> PromptSpec:
    subject = f"the {kind} `{name}`" if name else "this code"
    about = f" Pay attention to `{focus}`." if focus and focus != name else ""
    return PromptSpec(
        instructions=(
            "Explain code so it fits in an editor hover: start with one short paragraph "
            "saying what it does and why, then a few bullet points of details. Markdown. "
            + AUDIENCE_GUIDE[audience]
        ),
        material=material,
        request=f"Explain {subject}.{about}",
        lead=f"Explanation{_BASE_READER[audience]}: The {kind} `{name}`"
        if name
        else "Explanation: This code",
        stop=BASE_STOPS,
    )


def edit_prompt(
    material: str, language: str, target: str, task: str, detail: str, audience: Audience
) -> PromptSpec:
    """Fix / add a docstring / simplify: the answer is the target's new code in one block."""
    fence = f"```{language}"
    return PromptSpec(
        instructions=(
            f"{task}. Answer with the complete new version of the target code only, in one "
            f"{fence} block, keeping its indentation and everything that does not need to "
            "change. Do not include code outside the target."
        ),
        material=material,
        request=f"{task}. {detail}\nTarget code:\n{fence}\n{target}\n```",
        lead=f"Corrected code:\n{fence}\n",
        stop=("```",),
    )


def review_prompt(
    material: str, kind: str, name: str, first_line: int, audience: Audience
) -> PromptSpec:
    return PromptSpec(
        instructions=(
            "Review code for real problems only: bugs, wrong edge cases, misleading names "
            "or docs, risky constructs. No style nitpicks. Answer in JSON: "
            '{"findings": [{"line": N, "severity": "error|warning|info", "message": "...", '
            '"suggestion": "..."}]}, with "line" numbered as in the file, and an empty list '
            "when the code is fine. " + ("Keep messages plain." if audience == "beginner" else "")
        ),
        material=material,
        request=f"Review the {kind} `{name}` (it starts at line {first_line}).",
        lead='{"findings": [',
        stop=(),
    )


def ask_prompt(
    material: str, question: str, history: list[tuple[str, str]], audience: Audience
) -> PromptSpec:
    earlier = "".join(f"\nQuestion: {q}\nAnswer: {a}\n" for q, a in history)
    return PromptSpec(
        instructions="Answer the user's question about the code. Markdown. "
        + AUDIENCE_GUIDE[audience],
        material=material + earlier,
        request=f"Question: {question}",
        lead="Answer:",
        stop=BASE_STOPS,
    )
