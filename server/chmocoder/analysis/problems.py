"""Problems the parse tree shows for certain, told to a fix and a review as known problems
(like a compiler's messages): names used where no declaration reaches them (scopes.py), and
statements whose value is computed and dropped, such as `best;` where `return best;` was
meant (what gcc's -Wunused-value, pylint's pointless-statement and eslint's
no-unused-expressions report).

A dropped value is reported only for expressions that cannot do anything else: a name, a
literal number or boolean, and in C, JavaScript, TypeScript and Rust an arithmetic,
comparison or logical expression, with no call, assignment, update, `await` or `yield`
anywhere inside (in Python and C++ operators may be overloaded to do things). Strings
(docstrings, "use strict"), `...`, a capitalised name (a macro), casts (`(void)x;`), attribute, field and index reads (a
getter, or `d[key]` asserting that a key is there), and statements inside a `try` or a `with`
(there for what they raise) are never reported. Rust's block-ending expression is a value,
not a statement; Go and Java refuse a dropped value themselves. A file that does not parse is
left alone."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from chmocoder.analysis.document import Document
from chmocoder.analysis.scopes import out_of_scope_uses

STATEMENTS = frozenset({"expression_statement"})
"""Node types of an expression used as a statement (in the languages below)."""

_VALUES = frozenset(
    {
        "identifier", "integer", "float", "true", "false", "none", "number", "number_literal",
        "integer_literal", "float_literal", "boolean_literal",
    }
)  # fmt: skip
_OPERATIONS = frozenset(
    {"binary_expression", "unary_expression", "parenthesized_expression"}
)  # fmt: skip
PURE: dict[str, frozenset[str]] = {
    "c": _VALUES | _OPERATIONS,
    "javascript": _VALUES | _OPERATIONS,
    "typescript": _VALUES | _OPERATIONS,
    "tsx": _VALUES | _OPERATIONS,
    "rust": _VALUES | _OPERATIONS,
    # operators may be overloaded, and then do things (`std::cout << x;`, pyparsing's
    # `rule << other`, a test that checks `a // b` raises): only names and literals
    "cpp": _VALUES,
    "python": _VALUES,
}
"""Per language, expressions that do nothing but make a value, if nothing inside them has an
effect."""
GUARDED = frozenset({"try_statement", "with_statement"})
"""A statement inside one of these may be there for what it raises (a name that may not
exist, `with pytest.raises(...)`): never reported."""
EFFECTS = frozenset(
    {
        "call", "call_expression", "assignment", "assignment_expression",
        "augmented_assignment", "augmented_assignment_expression",
        "compound_assignment_expr", "update_expression", "await", "await_expression",
        "yield", "yield_expression", "new_expression", "macro_invocation", "named_expression",
    }
)  # fmt: skip
"""Nodes with an effect (and JavaScript's `delete`, and `void`, which drops a value on
purpose): a value computed around one of them may be computed for it."""


@dataclass(frozen=True)
class UnusedValue:
    text: str
    row: int
    """0-based row of the statement."""

    def problem(self) -> str:
        return (
            f"the value of `{self.text}` is computed and not used, so "
            "this statement does nothing (a missing `return` or assignment?)"
        )


def unused_values(doc: Document, start: int, end: int) -> list[UnusedValue]:
    """Expression statements in [start, end) whose value is dropped and that do nothing else."""
    doc.reparse()
    pure = PURE.get(doc.language_name or "")
    if doc.tree is None or pure is None or doc.tree.root_node.has_error:
        return []  # a file that does not parse may be misread (C++ in a .h read as C)
    found: list[UnusedValue] = []
    stack = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end or node.type in GUARDED:
            continue
        if node.type in STATEMENTS and node.start_byte >= start and not node.has_error:
            value = node.named_children[0] if node.named_children else None
            if (
                value is not None
                and value.type in pure
                and not _has_effect(value)
                and not _macro(value)
            ):
                text = (value.text or b"").decode("utf-8", "replace")
                found.append(UnusedValue(" ".join(text.split())[:80], node.start_point.row))
                continue
        stack.extend(reversed(node.named_children))  # statements inside (a Rust `if`, a closure)
    return found


def _macro(node: Node) -> bool:
    """A capitalised name (`Py_RETURN_NONE;`): by convention a macro, which may expand to a
    statement."""
    text = node.text or b""
    return node.type == "identifier" and text.upper() == text and text[:1].isalpha()


def _has_effect(node: Node) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in EFFECTS or any(c.type in ("delete", "void") for c in current.children):
            return True  # `void x;` drops a value on purpose
        stack.extend(current.named_children)
    return False


def problem_rows(doc: Document, start: int, end: int) -> list[tuple[int, str]]:
    """What the tree shows for certain in [start, end): (0-based row, message), by row."""
    found = [(use.row, use.problem()) for use in out_of_scope_uses(doc, start, end)]
    found += [(unused.row, unused.problem()) for unused in unused_values(doc, start, end)]
    return sorted(found, key=lambda item: item[0])


def by_line(rows: list[tuple[int, str]]) -> list[str]:
    """(row, message) pairs as a compiler's messages: "line N: message"."""
    return [f"line {row + 1}: {message}" for row, message in rows]


def known_problems(doc: Document, start: int, end: int) -> list[str]:
    """What the tree shows for certain in [start, end), as a compiler's messages by line."""
    return by_line(problem_rows(doc, start, end))
