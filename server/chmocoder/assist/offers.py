"""What the assistant offers at a place in a document, decided without a model: the code
actions (listed instantly; the model runs only when one is chosen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import definitions_at
from chmocoder.analysis.syntax import syntax_problems
from chmocoder.assist.edits import syntax_fix
from chmocoder.assist.results import Edit

if TYPE_CHECKING:  # prompts imports the engine's types (pydantic): not at start-up
    from chmocoder.assist.prompts import EditTask

OfferKind = Literal["quickfix", "rewrite", "explain"]


@dataclass(frozen=True)
class Reported:
    """A problem the editor shows on the range (one of ours), in byte offsets."""

    start: int
    end: int
    message: str
    syntax: bool
    suggestion: str = ""


@dataclass(frozen=True)
class Offer:
    title: str
    kind: OfferKind
    start: int
    end: int
    task: EditTask | None = None
    """The model's task when chosen; None for an explanation or a certain edit."""
    detail: str = ""
    """What the model is told is wrong (a fix for a reported problem)."""
    edit: Edit | None = None
    """A certain fix, from the parse tree: no model needed."""
    answers: Reported | None = None
    """The reported problem this offer is for."""


def offers(doc: Document, start: int, end: int, reported: list[Reported]) -> list[Offer]:
    """For each reported problem: a certain fix when the tree gives one, and a model fix;
    for the definition around `start`: explain, fix, add a docstring (when it has none),
    simplify; outside any definition, a selection can be explained."""
    out: list[Offer] = []
    problems = {(p.span.start_byte, p.message): p for p in syntax_problems(doc)}
    for problem in reported:
        if problem.syntax and (found := problems.get((problem.start, problem.message))):
            certain = syntax_fix(doc, found)
            if certain is not None and certain.edit is not None:
                out.append(Offer(certain.title, "quickfix", problem.start, problem.end,
                                 edit=certain.edit, answers=problem))  # fmt: skip
        detail = f"Problem: {problem.message}"
        if problem.suggestion:
            detail += f" Suggestion: {problem.suggestion}"
        out.append(Offer(f"Fix “{short(problem.message)}”", "quickfix", problem.start,
                         problem.end, task="fix", detail=detail, answers=problem))  # fmt: skip
    chain = definitions_at(doc, start)
    if chain:
        inner = chain[0]
        a, b = inner.span.start_byte, inner.span.end_byte
        out.append(Offer(f"Explain `{inner.name}`", "explain", start, end))
        out.append(Offer(f"Fix this {inner.kind} `{inner.name}`", "quickfix", a, b, task="fix"))
        if not inner.doc:
            out.append(Offer(f"Add docstring to `{inner.name}`", "rewrite", a, b, task="docstring"))
        out.append(Offer(f"Simplify `{inner.name}`", "rewrite", a, b, task="simplify"))
    elif end > start:
        out.append(Offer("Explain the selection", "explain", start, end))
    return out


def short(message: str, limit: int = 60) -> str:
    """A message cut to fit an action's title."""
    return message if len(message) <= limit else message[: limit - 1] + "…"
