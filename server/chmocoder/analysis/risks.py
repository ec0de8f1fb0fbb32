"""Calls in code that run commands, evaluate code, import at run time, delete files or open
network connections, found in the parse tree by the patterns of grammars/risks.toml. An edit
from the model that adds one is not applied unless the user asked for such edits."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any

from tree_sitter import Node

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import grammars_dir

KINDS = {
    "command": "runs a command",
    "eval": "evaluates code",
    "import": "imports code at run time",
    "delete": "deletes files",
    "network": "opens a network connection",
}

CALLS = frozenset(
    {
        "call", "call_expression", "method_invocation", "invocation_expression",
        "function_call_expression", "member_call_expression", "scoped_call_expression",
        "function_call", "command", "macro_invocation", "new_expression",
        "object_creation_expression",
    }
)  # fmt: skip
"""Node types of calls, across the grammars."""


@dataclass(frozen=True)
class Risk:
    kind: str
    callee: str
    row: int
    """0-based row in the document."""

    def describe(self) -> str:
        return f"`{self.callee}` ({KINDS[self.kind]}) at line {self.row + 1}"


@dataclass(frozen=True)
class _Patterns:
    calls: tuple[tuple[str, re.Pattern[str]], ...]
    nodes: frozenset[str]


@cache
def _patterns(language: str) -> _Patterns:
    table: dict[str, Any] = tomllib.loads((grammars_dir() / "risks.toml").read_text("utf-8"))
    entry = table.get(language, {})
    chain = [table.get(entry["inherits"], {}), entry] if "inherits" in entry else [entry]
    calls: list[tuple[str, re.Pattern[str]]] = []
    nodes: set[str] = set()
    for part in chain:
        for kind in KINDS:
            calls.extend((kind, re.compile(p)) for p in part.get(kind, ()))
        nodes.update(part.get("nodes", ()))
    return _Patterns(tuple(calls), frozenset(nodes))


def risks(doc: Document, start: int, end: int) -> list[Risk]:
    """The risky calls (and risky nodes) within bytes [start, end) of the document."""
    if doc.tree is None or doc.language is None:
        return []
    patterns = _patterns(doc.language.name)
    found: list[Risk] = []
    stack: list[Node] = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end:
            continue
        if start <= node.start_byte and node.end_byte <= end:
            if node.type in patterns.nodes:
                found.append(Risk(_node_kind(node.type), _text(node)[:60], node.start_point[0]))
            elif node.type in CALLS:
                callee = _callee(node)
                kind = next((k for k, p in patterns.calls if callee and p.fullmatch(callee)), None)
                if kind is not None:
                    found.append(Risk(kind, callee[:60], node.start_point[0]))
        stack.extend(reversed(node.children))
    return found


def added_risks(
    before: Document, start: int, end: int, after: Document, new_end: int
) -> list[Risk]:
    """What the edit of before[start:end] into after[start:new_end] newly adds: each risky
    callee counted in both, and the ones there more often after."""
    old: dict[tuple[str, str], int] = {}
    for risk in risks(before, start, end):
        old[(risk.kind, risk.callee)] = old.get((risk.kind, risk.callee), 0) + 1
    added: list[Risk] = []
    for risk in risks(after, start, new_end):
        key = (risk.kind, risk.callee)
        if old.get(key, 0) > 0:
            old[key] -= 1
        else:
            added.append(risk)
    return added


def _callee(node: Node) -> str:
    """The called thing's text without spaces: `os.system`, `Runtime.getRuntime().exec`,
    `newProcessBuilder`, `println!`."""
    field = node.child_by_field_name
    if (function := field("function")) is not None:
        return _text(function)
    if (method := field("method")) is not None:  # Ruby
        receiver = field("receiver")
        return (_text(receiver) + "." if receiver is not None else "") + _text(method)
    if (name := field("name")) is not None:
        owner = field("object")
        scope = field("scope")
        if owner is not None:
            return _text(owner) + "." + _text(name)
        if scope is not None:
            return _text(scope) + "::" + _text(name)
        return _text(name)
    if (macro := field("macro")) is not None:
        return _text(macro) + "!"
    if (made := field("constructor") or field("type")) is not None:
        return "new" + _text(made)
    return ""


def _text(node: Node) -> str:
    return re.sub(r"\s+", "", (node.text or b"").decode("utf-8", errors="replace"))[:200]


def _node_kind(node_type: str) -> str:
    return "import" if "include" in node_type or "require" in node_type else "command"
