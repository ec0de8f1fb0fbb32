"""Syntax problems: tree-sitter ERROR and MISSING nodes as readable (span, message) pairs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import Span

MAX_PROBLEMS = 100


@dataclass(frozen=True)
class SyntaxProblem:
    span: Span
    message: str


def syntax_problems(doc: Document, limit: int = MAX_PROBLEMS) -> list[SyntaxProblem]:
    """The document's syntax errors, in order, at most `limit` of them.

    Only subtrees that contain an error are walked, so a clean 5,000-line file
    costs one flag check. A document that was not parsed has no problems here:
    its refusal reason is reported separately.
    """
    doc.reparse()
    if doc.tree is None:
        return []
    problems: list[SyntaxProblem] = []
    for node in error_nodes(doc.tree.root_node, limit):
        if node.is_missing:
            problems.append(SyntaxProblem(Span.of(node), _missing_message(node)))
            continue
        opener = _unclosed_bracket(node)
        if opener is not None:
            problems.append(SyntaxProblem(Span.of(opener), f"unclosed `{opener.type}`"))
        else:
            problems.append(SyntaxProblem(Span.of(node), _error_message(doc, node)))
    return problems


def error_nodes(root: Node, limit: int | None = None) -> Iterator[Node]:
    """The ERROR and MISSING nodes under `root`, in order (at most `limit`); only the
    subtrees that hold one are walked."""
    if not root.has_error:
        return
    stack, found = [root], 0
    while stack and (limit is None or found < limit):
        node = stack.pop()
        if node.is_missing or node.is_error:
            found += 1
            yield node
        elif node.has_error:
            stack.extend(reversed(node.children))


def _missing_message(node: Node) -> str:
    if node.is_named:
        return f"missing {node.type.replace('_', ' ')}"
    return f"missing `{node.type}`"


def _error_message(doc: Document, node: Node) -> str:
    token = _first_token(node)
    text = doc.text(token.start_byte, token.end_byte) if token else ""
    text = text.splitlines()[0] if text.strip() else text
    if not text.strip():
        return "syntax error"
    if len(text) > 40:
        text = text[:40] + "…"
    shown = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    parent = node.parent
    where = f" in {parent.type.replace('_', ' ')}" if parent is not None and parent.parent else ""
    return f"unexpected `{shown}`{where}"


BRACKETS = {"(": ")", "[": "]", "{": "}"}
"""Opening bracket -> its closer."""


def _unclosed_bracket(node: Node) -> Node | None:
    """The first opening bracket in an ERROR subtree that is never closed in it."""
    open_stack: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.child_count:
            stack.extend(reversed(current.children))
        elif current.type in BRACKETS:
            open_stack.append(current)
        elif open_stack and current.type == BRACKETS[open_stack[-1].type]:
            open_stack.pop()
    return open_stack[0] if open_stack else None


def _first_token(node: Node) -> Node | None:
    """The first leaf under the node (the token the parser could not place)."""
    current = node
    while current.child_count:
        first = current.children[0]
        if first.end_byte == first.start_byte and current.child_count > 1:
            first = current.children[1]
        current = first
    return current


def code_tokens(doc: Document, start: int, end: int) -> list[bytes]:
    """The tree's leaf tokens that lie within [start, end), comments left out: equal for two
    versions of code that differ only in comments, spacing or line breaks."""
    return [token for _, _, token in code_token_rows(doc, start, end)]


def code_token_rows(doc: Document, start: int, end: int) -> list[tuple[int, int, bytes]]:
    """code_tokens as (row, byte, token): the row (0-based) and byte each token starts at."""
    doc.reparse()
    if doc.tree is None:
        return []
    out: list[tuple[int, int, bytes]] = []
    stack = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end or "comment" in node.type:
            continue
        if node.child_count == 0:
            token = doc.source[node.start_byte : node.end_byte]
            out.append((node.start_point.row, node.start_byte, token))
        else:
            stack.extend(reversed(node.children))
    return out


def depth(doc: Document, byte: int) -> int:
    """How many nodes enclose the token at `byte`: code wrapped in a new block gets deeper."""
    doc.reparse()
    if doc.tree is None:
        return 0
    node: Node | None = doc.tree.root_node.descendant_for_byte_range(byte, byte + 1)
    count = 0
    while node is not None:
        count += 1
        node = node.parent
    return count
