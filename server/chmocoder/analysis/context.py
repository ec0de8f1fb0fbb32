"""CodeContext: what the model is shown about the cursor, trimmed to a token budget."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from chmocoder.analysis.document import Document, point_at
from chmocoder.analysis.symbols import (
    Definition,
    Span,
    definitions_at,
    definitions_named,
    doc_comment_start,
    imports,
    references_in,
)
from chmocoder.tokens import TokenCounter, estimate_tokens

DEFAULT_BUDGET = 1536
MIN_BUDGET = 32
MAX_LINE_CHARS = 400
"""Longer lines are cut in context text (minified code, data lines)."""

MAX_REFERENCES = 40
MAX_WINDOW_RADIUS = 60
MAX_DOC_COMMENT_LINES = 30
"""A longer comment right above a definition is a file's header (a license) rather than its
doc: the definition is shown without it."""

_IDENTIFIER = re.compile(r"[A-Za-z_$@][\w$]*[?!]?\Z")

DefinitionLookup = Callable[[str], Sequence[Definition]]
"""name -> definitions of that name elsewhere in the workspace (the index)."""


@dataclass(frozen=True)
class EnclosingDefinition:
    kind: str
    name: str
    span: Span
    signature: str
    doc: str | None
    text: str
    """The definition's source; trimmed to lines around the cursor if the budget is short."""
    trimmed: bool = False
    comment_lines: int = 0
    """Lines of `text` before the definition: its doc comment, shown above it."""


@dataclass(frozen=True)
class ReferencedSignature:
    name: str
    kind: str
    signature: str
    doc: str | None
    origin: str
    """"this file", or the workspace-relative path the definition comes from."""


@dataclass(frozen=True)
class Focus:
    """What a request is about, looked up once and carried through (the hover's facts, its
    prompt at each context budget, its cache check): the cursor, the definitions around it,
    and the selection, if one is explained instead of a definition."""

    doc: Document
    offset: int
    chain: tuple[Definition, ...]
    """The definitions around the cursor, innermost first (method -> class)."""
    selection: tuple[int, int] | None = None

    @classmethod
    def at(cls, doc: Document, offset: int, selection: tuple[int, int] | None = None) -> Focus:
        """The focus at byte `offset`; an empty selection counts as none."""
        chosen = selection if selection is not None and selection[0] != selection[1] else None
        return cls(doc, offset, tuple(definitions_at(doc, offset)), chosen)

    @property
    def inner(self) -> Definition | None:
        return self.chain[0] if self.chain else None


@dataclass(frozen=True)
class CodeContext:
    path: str
    language: str | None
    point: tuple[int, int]
    """The cursor as (row, byte column), zero-based."""
    identifier: str | None
    definition: EnclosingDefinition | None
    parents: tuple[Definition, ...]
    """Definitions around the enclosing one, innermost first (method -> class)."""
    imports: tuple[str, ...]
    references: tuple[ReferencedSignature, ...]
    window: str | None
    """Plain-text fallback: lines around the cursor, when there is no definition."""
    notes: tuple[str, ...] = ()
    token_budget: int = DEFAULT_BUDGET
    token_count: int = 0

    def render(self) -> str:
        """The context as the text a prompt embeds; the budget is measured on this."""
        parts = [f"File: {self.path}" + (f" ({self.language})" if self.language else "")]
        if not self.path:
            parts = []
        if self.imports:
            parts.append("Imports:\n" + "\n".join(self.imports))
        if self.parents:
            parts.append("Inside:\n" + "\n".join(p.signature for p in reversed(self.parents)))
        if self.references:
            lines = []
            for ref in self.references:
                where = "" if ref.origin == "this file" else f"  # {ref.origin}"
                lines.append(ref.signature + where)
                if ref.doc:
                    lines.append(_indent(_first_paragraph(ref.doc)))
            parts.append("Referenced definitions:\n" + "\n".join(lines))
        if self.definition is not None:
            d = self.definition
            span_lines = f"lines {d.span.start[0] + 1 - d.comment_lines}-{d.span.end[0] + 1}"
            head = f"{d.kind.capitalize()} `{d.name}` ({span_lines})"
            parts.append(head + ":\n" + d.text)
        elif self.window is not None:
            parts.append(f"Code around line {self.point[0] + 1}:\n" + self.window)
        if self.identifier:
            parts.append(f"Cursor: line {self.point[0] + 1}, on `{self.identifier}`")
        else:
            parts.append(f"Cursor: line {self.point[0] + 1}")
        return "\n\n".join(parts) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def extract_context(
    doc: Document,
    offset: int,
    *,
    path: str | None = None,
    budget: int = DEFAULT_BUDGET,
    count_tokens: TokenCounter = estimate_tokens,
    workspace: DefinitionLookup | None = None,
    chain: Sequence[Definition] | None = None,
    doc_comment: bool = False,
) -> CodeContext:
    """The context for a cursor at byte `offset`, never over `budget` tokens (`chain`: the
    definitions around it, innermost first, when the caller has looked them up;
    `doc_comment`: the enclosing definition's doc comment above it shown with it, when the
    whole of both fits).

    What is kept when the budget is short, most important first: the cursor
    line, the enclosing definition's head and the lines around the cursor, the
    rest of the definition, the parents' signatures, referenced signatures from
    this file, then from the workspace, then imports.
    """
    doc.reparse()
    offset = max(0, min(offset, len(doc.source)))
    row, column = point_at(doc.source, offset)
    point = (row, column)
    notes = [doc.refusal] if doc.refusal else []
    if doc.language is None:
        notes.append("unknown language: plain text around the cursor")
    enclosing = list(chain) if chain is not None else definitions_at(doc, offset)
    base = CodeContext(
        path=path or doc.uri,
        language=doc.language_name,
        point=point,
        identifier=identifier_at(doc, offset),
        definition=None,
        parents=(),
        imports=(),
        references=(),
        window=None,
        notes=tuple(notes),
        token_budget=budget,
    )
    if budget < MIN_BUDGET:
        raise ValueError(f"a context budget of {budget} tokens is too small (minimum {MIN_BUDGET})")
    fit = _Fitter(_fit_base(base, budget, count_tokens), budget, count_tokens)
    if enclosing:
        inner = enclosing[0]
        line_start = doc.source.rfind(b"\n", 0, inner.span.start_byte) + 1

        def shown(text: str, trimmed: bool, comment_lines: int = 0) -> CodeContext:
            d = EnclosingDefinition(
                inner.kind, inner.name, inner.span, inner.signature, inner.doc, text, trimmed,
                comment_lines,
            )  # fmt: skip
            return replace(fit.current, definition=d)

        above = doc_comment_start(doc, inner) if doc_comment else None
        above_start = doc.source.rfind(b"\n", 0, above) + 1 if above is not None else line_start
        comment_lines = doc.source.count(b"\n", above_start, line_start)
        if 0 < comment_lines <= MAX_DOC_COMMENT_LINES:
            documented = textwrap.dedent(doc.text(above_start, inner.span.end_byte))
            cut = "\n".join(_cut_line(line) for line in documented.split("\n"))
            fit.try_add(shown(cut, cut != documented, comment_lines))
        if fit.current.definition is None:  # without its doc comment, trimmed if need be
            full = textwrap.dedent(doc.text(line_start, inner.span.end_byte))
            fit.add_text(shown, full, point[0] - inner.span.start[0], keep_first=True)
        if fit.current.definition is None:
            enclosing = []
    if not enclosing:
        all_lines = doc.text(0, len(doc.source)).split("\n")
        first = max(0, point[0] - MAX_WINDOW_RADIUS)
        window = "\n".join(all_lines[first : point[0] + MAX_WINDOW_RADIUS + 1])
        fit.add_text(
            lambda text, _trimmed: replace(fit.current, window=text), window, point[0] - first
        )
    else:
        for parent in enclosing[1:]:
            fit.try_add(replace(fit.current, parents=(*fit.current.parents, parent)))
        inner = enclosing[0]
        for ref in referenced(doc, inner.span, workspace, path, skip=inner.span):
            fit.try_add(replace(fit.current, references=(*fit.current.references, ref)))
    for statement in imports(doc):
        fit.try_add(replace(fit.current, imports=(*fit.current.imports, statement)))
    result = fit.current
    return replace(result, token_count=count_tokens(result.render()))


def identifier_at(doc: Document, offset: int) -> str | None:
    """The identifier under the cursor, or just before it (cursor at a word's end)."""
    if doc.tree is None:
        return _word_at(doc.source, offset)
    root = doc.tree.root_node
    for probe in (offset, offset - 1):
        if probe < 0:
            continue
        node = root.named_descendant_for_byte_range(probe, probe)
        if node is None or node.child_count or node.start_byte > probe:
            continue
        text = doc.text(node.start_byte, node.end_byte)
        if _IDENTIFIER.match(text):
            return text
    return None


def referenced(
    doc: Document,
    span: Span,
    workspace: DefinitionLookup | None,
    path: str | None,
    *,
    skip: Span | None = None,
    limit: int | None = MAX_REFERENCES,
) -> list[ReferencedSignature]:
    """What `span` uses (its first `limit` names): those defined in this file (but at
    `skip`, the definition being shown), then the first definition of each other name
    elsewhere in the workspace."""
    names = [name for name, _kind in references_in(doc, span)][:limit]
    by_name = definitions_named(doc, names)
    local: list[ReferencedSignature] = []
    remote: list[ReferencedSignature] = []
    for name in names:
        here = [d for d in by_name.get(name, []) if d.span != skip]
        if here:
            d = here[0]
            local.append(ReferencedSignature(name, d.kind, d.signature, d.doc, "this file"))
        elif workspace is not None and name not in by_name:
            for d in workspace(name)[:1]:
                if d.path and d.path != path:
                    remote.append(ReferencedSignature(name, d.kind, d.signature, d.doc, d.path))
    return local + remote


class _Fitter:
    """Greedy budget keeping: a change is kept only if the rendering still fits."""

    def __init__(self, base: CodeContext, budget: int, count: TokenCounter) -> None:
        self.current = base
        self.budget = budget
        self.count = count

    def fits(self, candidate: CodeContext) -> bool:
        return self.count(candidate.render()) <= self.budget

    def try_add(self, candidate: CodeContext) -> bool:
        if self.fits(candidate):
            self.current = candidate
            return True
        return False

    def add_text(
        self,
        make: Callable[[str, bool], CodeContext],
        text: str,
        cursor_line: int,
        *,
        keep_first: bool = False,
    ) -> None:
        """Add `text` whole, else the widest window of lines around the cursor that fits."""
        lines = [_cut_line(line) for line in text.split("\n")]
        whole = "\n".join(lines)
        if self.try_add(make(whole, whole != text)):
            return
        cursor_line = max(0, min(cursor_line, len(lines) - 1))
        for keep in (keep_first, False) if keep_first else (False,):
            low, high, best = 0, len(lines), None
            while low <= high:
                radius = (low + high) // 2
                candidate = make(_window(lines, cursor_line, radius, keep), True)
                if self.fits(candidate):
                    best, low = candidate, radius + 1
                else:
                    high = radius - 1
            if best is not None:
                self.current = best
                return
        line = lines[cursor_line].strip() if lines else ""
        while line:
            line = line[: len(line) // 2]
            if self.try_add(make(line + " …", True)):
                return


def _fit_base(base: CodeContext, budget: int, count: TokenCounter) -> CodeContext:
    """The bare context (path, cursor), shortened until it fits the budget."""
    candidates = [
        base,
        replace(base, identifier=None),
        replace(base, identifier=None, path=base.path.rsplit("/", 1)[-1][:40]),
        replace(base, identifier=None, path=""),
    ]
    for candidate in candidates:
        if count(candidate.render()) <= budget:
            return candidate
    return candidates[-1]


def _window(lines: list[str], cursor: int, radius: int, keep_first: bool) -> str:
    start, end = max(0, cursor - radius), min(len(lines), cursor + radius + 1)
    chosen = lines[start:end]
    if keep_first and start > 0:
        chosen = [lines[0], "  …", *chosen]
    elif start > 0:
        chosen = ["…", *chosen]
    if end < len(lines):
        chosen.append("  …")
    return "\n".join(chosen)


def _cut_line(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " …"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _first_paragraph(text: str) -> str:
    return text.split("\n\n", 1)[0]


def _word_at(source: bytes, offset: int) -> str | None:
    start = offset
    while start > 0 and (chr(source[start - 1]).isalnum() or source[start - 1] in b"_$"):
        start -= 1
    end = offset
    while end < len(source) and (chr(source[end]).isalnum() or source[end] in b"_$"):
        end += 1
    word = source[start:end].decode("utf-8", errors="replace")
    return word if word and _IDENTIFIER.match(word) else None
