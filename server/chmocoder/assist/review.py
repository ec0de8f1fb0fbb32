"""Reviews look at one definition at a time, and only at definitions whose text changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import Definition, definitions
from chmocoder.assist.results import Finding

MAX_FINDINGS = 5


class ReviewFinding(BaseModel):
    line: int = Field(ge=1, le=10_000_000)
    severity: Literal["error", "warning", "info"]
    message: str = Field(min_length=1, max_length=300)
    suggestion: str = Field(default="", max_length=600)


class ReviewFindings(BaseModel):
    """The JSON a review answers with (the engine turns it into a grammar)."""

    findings: list[ReviewFinding] = Field(max_length=MAX_FINDINGS)


@dataclass(frozen=True)
class _Kept:
    """A finding relative to its definition's first line, so it follows the definition."""

    row_offset: int
    severity: str
    message: str
    suggestion: str


def definition_key(doc: Document, definition: Definition) -> str:
    text = doc.source[definition.span.start_byte : definition.span.end_byte]
    return hashlib.sha256(f"{definition.kind} {definition.name}\0".encode() + text).hexdigest()


def reviewable(doc: Document) -> list[Definition]:
    """The units of review: definitions that contain no other definition (functions, methods,
    plain structs); a class is reviewed through its methods."""
    found = definitions(doc)
    return [d for d in found if not any(o is not d and d.span.encloses(o.span) for o in found)]


@dataclass
class ReviewState:
    """Per document: findings by definition hash. A definition whose text is unchanged keeps
    its findings (moved with it); only changed or new ones go to the model."""

    by_key: dict[str, list[_Kept]] = field(default_factory=dict)

    def plan(
        self, doc: Document
    ) -> tuple[list[tuple[str, Definition]], list[tuple[str, Definition]]]:
        """(definitions to review, definitions whose findings are kept), each with its key."""
        todo: list[tuple[str, Definition]] = []
        kept: list[tuple[str, Definition]] = []

        for definition in reviewable(doc):
            key = definition_key(doc, definition)
            (kept if key in self.by_key else todo).append((key, definition))
        return todo, kept

    def store(self, key: str, definition: Definition, findings: list[ReviewFinding]) -> None:
        first, last = definition.span.start[0], definition.span.end[0]
        kept: list[_Kept] = []
        seen: set[tuple[int, str]] = set()
        for f in findings:
            row = min(max(f.line - 1, first), last)  # a line outside the definition: its first
            message = " ".join(f.message.split())
            if (row, message.lower()) in seen:
                continue  # models repeat themselves
            seen.add((row, message.lower()))
            kept.append(_Kept(row - first, f.severity, message, f.suggestion.strip()))

        self.by_key[key] = kept

    def findings(self, doc: Document) -> list[Finding]:
        """All findings for the document as it is now; forgets definitions that are gone."""
        result: list[Finding] = []
        present: set[str] = set()
        for definition in reviewable(doc):
            key = definition_key(doc, definition)
            present.add(key)
            for k in self.by_key.get(key, []):
                row = definition.span.start[0] + k.row_offset
                result.append(
                    Finding(
                        row,
                        k.severity,
                        k.message,
                        k.suggestion,
                        f"{definition.kind} {definition.name}",
                    )
                )
        for key in list(self.by_key):
            if key not in present:
                del self.by_key[key]
        return result
