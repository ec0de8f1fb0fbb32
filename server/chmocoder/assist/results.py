"""What the tasks return: plain data, positions in byte offsets and zero-based rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Explanation:
    title: str
    markdown: str
    """The model's explanation; empty while it is still being written."""


def facts_then(facts: str, body: str) -> str:
    """What a hover, the panel and the explain command show: the facts known without a
    model, a rule, then the model's text (or why there is none); the text alone without
    facts."""
    return f"{facts}\n\n---\n\n{body}" if facts else body


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    new_text: str

    @property
    def new_end(self) -> int:
        """Where the new text ends once applied (a byte offset)."""
        return self.start + len(self.new_text.encode())


@dataclass(frozen=True)
class Fix:
    title: str
    edit: Edit | None
    rejected: str | None = None
    """Why the model's edit was not offered (it added a syntax error, it changed nothing...)."""
    description: str = ""
    """The model's one-sentence diagnosis, shown with the edit."""
    caveat: str = ""
    """Why this edit is less sure than most ("it changes other lines than the cursor's"),
    shown with it; empty when there is no such reason."""


@dataclass(frozen=True)
class Finding:
    row: int
    """Zero-based: the line the finding is about."""
    severity: str
    message: str
    suggestion: str
    definition: str
    """"kind name" of the definition the finding is about."""


@dataclass(frozen=True)
class Answer:
    question: str
    markdown: str
    history: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ReportedError:
    """An error or warning as a tool reported it."""

    line: int
    """1-based."""
    message: str
    source: str = ""
    code: str = ""
    related: tuple[str, ...] = ()
    """The related information's messages ("defined here", ...)."""

    def describe(self) -> str:
        tool = " ".join(p for p in (self.source, f"[{self.code}]" if self.code else "") if p)
        text = f"line {self.line}: {tool + ': ' if tool else ''}{self.message.strip()}"
        return text + "".join(f"\n  related: {r.strip()}" for r in self.related if r.strip())


def explain_title(errors: Sequence[ReportedError]) -> str:
    """The title of an explanation of these errors: the first message's first line."""
    first = errors[0].message.strip().split("\n", 1)[0] if errors else "the error"
    return f"Explain: {first[:80]}"


def describe_all(errors: Sequence[ReportedError]) -> str:
    """The errors as the model (and a fix's known problems) are told them, one a line."""
    return "\n".join(error.describe() for error in errors)
