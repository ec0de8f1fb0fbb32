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

EXPLAIN_WORDS: dict[str, int] = {"beginner": 170, "intermediate": 110, "expert": 50}
"""The length asked for; the token budget leaves room above it so answers end on their own."""
EXPLAIN_TOKENS: dict[str, int] = {"beginner": 420, "intermediate": 300, "expert": 150}

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
            "The reader has the code open: do not repeat or quote it back (name things in "
            f"`backticks` instead). Use at most {EXPLAIN_WORDS[audience]} words and finish "
            "on a complete sentence. " + AUDIENCE_GUIDE[audience]
        ),
        material=material,
        request=f"Explain {subject}.{about}",
        lead=f"Explanation{_BASE_READER[audience]}: The {kind} `{name}`"
        if name
        else "Explanation: This code",
        stop=BASE_STOPS,
    )


EditTask = Literal["fix", "docstring", "simplify"]
Task = Literal["explain", "explain-error", "ask", "review", "fix", "docstring", "simplify"]
"""Every task the assistant runs (the engine gets it as a label for its statistics)."""

EDIT_TITLES: dict[EditTask, str] = {
    "fix": "Fix",
    "docstring": "Add docstring",
    "simplify": "Simplify",
}

EDIT_TASKS: dict[EditTask, str] = {
    "fix": "Fix the bug in the target code",
    "docstring": "Add a docstring or doc comment to the target code, in the language's usual style",
    "simplify": "Simplify the target code without changing what it does",
}

FIX_METHOD = (
    "The target's name and its doc comment state what it is meant to do: find where the "
    "code does something else (a wrong operator or comparison, an off-by-one bound or index, "
    "a wrong initial value, conditions in the wrong order, a missing step, a shared mutable "
    "default) and fix it with the smallest change. If the known problems below name the bug, "
    "fix that one."
)


def edit_prompt(
    material: str,
    language: str,
    target: str,
    task: EditTask,
    audience: Audience,
    *,
    problems: tuple[str, ...] = (),
    cursor: str = "",
    callers: tuple[str, ...] = (),
    suspect: str = "",
) -> PromptSpec:
    """Fix / add a docstring / simplify: the answer is the target's new code in one block; a fix
    starts with a one-sentence diagnosis ("Problem: ...") that the user sees with the edit."""
    fence = f"```{language}"
    what = EDIT_TASKS[task]
    if task == "fix":
        shape = (
            "Answer in exactly this form: a first line `Problem: ` followed by one sentence "
            f"saying what is wrong, then the complete corrected target code in one {fence} "
            "block."
        )
        method = FIX_METHOD + " "
    else:
        shape = (
            f"Answer with the complete new version of the target code only, in one {fence} block."
        )
        method = ""
    request = [f"{what}."]
    if problems:
        request.append("Known problems:\n" + "\n".join(f"- {p}" for p in problems))
    if callers:
        request.append("It is called like this:\n" + "\n".join(callers))
    if cursor:
        request.append(
            f"The user's cursor is on this line, where they suspect the bug: `{cursor.strip()}`. "
            "Check this line first; if it is wrong, correct this line itself rather than "
            "adding code around it."
        )
    elif suspect:
        request.append(
            f"Of the target's lines, this one reads as the least expected: `{suspect.strip()}`. "
            "Check it first; if it is wrong, correct this line itself rather than adding code "
            "around it; if it is right, the bug is elsewhere."
        )
    request.append(f"Target code:\n{fence}\n{target}\n```")
    return PromptSpec(
        instructions=(
            f"{what}. {method}{shape} Keep the signature, the indentation and everything "
            "that does not need to change. Do not add imports, other definitions or any code "
            "outside the target."
        ),
        material=material,
        request="\n\n".join(request),
        lead=f"Corrected code:\n{fence}\n" if task == "fix" else f"New code:\n{fence}\n",
        stop=("```",),
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
