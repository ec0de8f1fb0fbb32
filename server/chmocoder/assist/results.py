"""What the tasks return: plain data, positions in byte offsets and zero-based rows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Explanation:
    title: str
    markdown: str
    """The model's explanation; empty while it is still being written."""


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    new_text: str


@dataclass(frozen=True)
class Fix:
    title: str
    edit: Edit | None
    rejected: str | None = None
    """Why the model's edit was not offered (it added a syntax error, it changed nothing...)."""
    description: str = ""
    """The model's one-sentence diagnosis, shown with the edit."""


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
