"""Inline completion, the parts that need no model: the gap around the cursor cut at syntax
boundaries, where a completion's block ends, and the guards a completion must pass (not
only whitespace, not a repeat of the code after the cursor, no worse a parse)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Node, Parser

from chmocoder.analysis.context import DefinitionLookup, referenced
from chmocoder.analysis.document import Document, edit_tree, point_at
from chmocoder.analysis.symbols import Span
from chmocoder.analysis.syntax import BRACKETS, error_nodes

CLOSERS = frozenset(BRACKETS.values())
CONTINUES = tuple(",([{:\\+-*/%=&|.<>")
"""A line ending in one of these is not a complete statement."""
MAX_FILES = 4
MAX_DEFINITIONS = 8


@dataclass(frozen=True)
class Gap:
    """What the model sees around the cursor: the text before and after it, each cut at a
    syntax boundary (the start or end of a whole node, on whole lines) within a byte budget."""

    prefix: str
    suffix: str
    line_prefix: str
    """The cursor's line before the cursor."""
    line_suffix: str
    """The cursor's line after the cursor."""

    @property
    def indentation(self) -> int:
        """Columns of the cursor line's indentation (tabs count as one)."""
        return len(self.line_prefix) - len(self.line_prefix.lstrip(" \t"))

    @property
    def mid_line(self) -> bool:
        """Code follows the cursor on its line: complete that line only."""
        return bool(self.line_suffix.strip())


def gap_at(doc: Document, offset: int, prefix_bytes: int, suffix_bytes: int) -> Gap:
    """The gap at byte `offset`, with at most about `prefix_bytes` before and `suffix_bytes`
    after it (a line longer than the budget is cut mid-line)."""
    doc.reparse()
    source = doc.source
    offset = max(0, min(offset, len(source)))
    line_start = source.rfind(b"\n", 0, offset) + 1
    line_end = source.find(b"\n", offset)
    line_end = len(source) if line_end < 0 else line_end
    low, high = max(0, offset - prefix_bytes), min(len(source), offset + suffix_bytes)
    start = end = None
    if doc.tree is not None:
        start = _cut_before(doc.tree.root_node, offset, low)
        end = _cut_after(doc.tree.root_node, offset, high)
    if start is None:  # no whole node fits: whole lines
        newline = source.find(b"\n", low, offset)
        start = 0 if low == 0 else newline + 1 if newline >= 0 else low
    if end is None:
        newline = source.rfind(b"\n", offset, high)
        end = high if high == len(source) or newline < 0 else newline
    return Gap(
        prefix=doc.text(start, offset),
        suffix=doc.text(offset, end),
        line_prefix=doc.text(line_start, offset),
        line_suffix=doc.text(offset, line_end),
    )


def _cut_before(node: Node, offset: int, low: int) -> int | None:
    """The start of the line of the first node at or after `low` and before the cursor
    (descending into the node that holds the cursor when it starts before `low`)."""
    for child in node.children:
        if child.start_byte >= low:
            return (
                child.start_byte - child.start_point.column if child.start_byte <= offset else None
            )
        if child.end_byte >= offset:  # starts before `low` and holds the cursor
            return _cut_before(child, offset, low)
    return None


def _cut_after(node: Node, offset: int, high: int) -> int | None:
    """The end of the last node after the cursor that ends at or before `high` (descending
    into the node that holds the cursor when it ends after `high`)."""
    best: int | None = None
    for child in node.children:
        if child.end_byte <= offset:
            continue
        if child.end_byte <= high:
            best = child.end_byte
            continue
        if child.start_byte < offset and best is None:  # holds the cursor, ends after `high`
            return _cut_after(child, offset, high)
        break
    return best


def related_files(
    doc: Document, gap_start: int, offset: int, workspace: DefinitionLookup | None, path: str
) -> tuple[tuple[str, str], ...]:
    """(path, signatures) of other workspace files that define what the text before the
    cursor uses and this file does not: what the model should know about them."""
    if workspace is None or doc.tree is None:
        return ()
    span = Span(gap_start, offset, point_at(doc.source, gap_start), point_at(doc.source, offset))
    files: dict[str, list[str]] = {}
    count = 0
    for ref in referenced(doc, span, workspace, path, limit=None):
        if ref.origin == "this file" or count >= MAX_DEFINITIONS:
            continue
        if ref.origin in files or len(files) < MAX_FILES:
            lines = [ref.signature]
            if ref.doc:
                lines.append("    " + ref.doc.strip().split("\n\n")[0].replace("\n", " "))
            files.setdefault(ref.origin, []).append("\n".join(lines))
            count += 1
    return tuple((p, "\n\n".join(signatures)) for p, signatures in files.items())


def block_end(text: str, gap: Gap) -> int | None:
    """Where a completion should stop, if it has reached that point: the end of the cursor's
    line (when code follows the cursor on it), before a line indented less than the cursor's,
    before a closing bracket the completion did not open at or left of the cursor's
    indentation, or at a blank line after a complete statement. None: not there yet."""
    if gap.mid_line:
        newline = text.find("\n")
        return newline if newline >= 0 else None
    lines = text.split("\n")
    if len(lines) == 1:
        return None
    depth = _depth(gap.line_prefix + lines[0])
    position = len(lines[0]) + 1
    for number, line in enumerate(lines[1:], 1):
        complete = number < len(lines) - 1  # the last line may still be growing
        stripped = line.lstrip(" \t")
        indent = len(line) - len(stripped)
        if not stripped:
            if complete and depth <= 0 and _ends_statement(lines[:number]):
                return position - 1  # a blank line after a complete statement
            position += len(line) + 1
            continue
        if indent < gap.indentation and (complete or stripped):
            return position - 1
        if stripped[0] in CLOSERS and depth <= 0 and indent <= gap.indentation:
            return position - 1
        depth += _depth(line)
        position += len(line) + 1
    return None


def _depth(line: str) -> int:
    return sum(1 for c in line if c in BRACKETS) - sum(1 for c in line if c in CLOSERS)


def _ends_statement(lines: Sequence[str]) -> bool:
    last = next((line.rstrip() for line in reversed(lines) if line.strip()), "")
    return bool(last) and not last.endswith(CONTINUES)


def trim(text: str, gap: Gap) -> str:
    """The completion cut at its block's end, without what repeats the code after the cursor:
    the rest of the cursor's line (the `)` an editor closed already) and whole lines that
    the text after the cursor starts with."""
    end = block_end(text, gap)
    if end is not None:
        text = text[:end]
    text = text.rstrip("\n") if gap.mid_line else text.rstrip()
    rest = gap.line_suffix.strip()
    for size in range(min(len(rest), len(text)), 0, -1):
        # the closers and punctuation the editor already put after the cursor, not a word
        if text.endswith(rest[:size]) and not any(c.isalnum() for c in rest[:size]):
            text = text[: len(text) - size]
            break
    lines = text.split("\n")
    following = [line.strip() for line in gap.suffix.split("\n")[1:] if line.strip()]
    for size in range(min(len(lines) - 1, len(following)), 0, -1):
        if [line.strip() for line in lines[-size:]] == following[:size]:
            text = "\n".join(lines[:-size]).rstrip()
            break
    return text


def rejection(doc: Document, offset: int, text: str, gap: Gap) -> str | None:
    """Why a (trimmed) completion must not be shown, or None: only whitespace, only what
    follows the cursor already, or a parse with more errors than without it."""
    if not text.strip():
        return "only whitespace"
    after = gap.suffix.lstrip()
    if after.startswith(text.strip()):
        return "it repeats the code after the cursor"
    if _errors_with(doc, offset, text) > _errors(doc):
        return "it would make the syntax worse"
    return None


def _errors(doc: Document) -> int:
    doc.reparse()
    cached = doc.cache.get("error_count")
    if cached is None:
        cached = doc.cache["error_count"] = (
            sum(1 for _ in error_nodes(doc.tree.root_node)) if doc.tree else 0
        )
    assert isinstance(cached, int)
    return cached


def _errors_with(doc: Document, offset: int, text: str) -> int:
    """Syntax errors once `text` is inserted at `offset`: an incremental reparse of a copy
    of the document's tree (the document itself is untouched)."""
    doc.reparse()
    if doc.tree is None or doc.language is None:
        return 0
    inserted = text.encode()
    tree = doc.tree.copy()
    edit_tree(tree, doc.source, offset, offset, inserted)
    source = doc.source[:offset] + inserted + doc.source[offset:]
    root = Parser(doc.language.language).parse(source, tree).root_node
    return sum(1 for _ in error_nodes(root))
