"""Definitions, references and imports of a document, from its tags.scm and imports.scm."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tree_sitter import Node, QueryCursor

from chmocoder.analysis.document import Document

_KIND_RANK = {"method": 2, "function": 1}
"""When patterns disagree on a node's kind, the more specific one wins."""

MAX_SIGNATURE_LINES = 6
MAX_SIGNATURE_CHARS = 400
MAX_DOC_CHARS = 600


@dataclass(frozen=True)
class Span:
    """A byte range and its tree-sitter points (row, byte column), all zero-based."""

    start_byte: int
    end_byte: int
    start: tuple[int, int]
    end: tuple[int, int]

    @classmethod
    def of(cls, node: Node) -> Span:
        return cls(
            node.start_byte,
            node.end_byte,
            (node.start_point.row, node.start_point.column),
            (node.end_point.row, node.end_point.column),
        )

    def contains(self, offset: int) -> bool:
        return self.start_byte <= offset <= self.end_byte

    def encloses(self, other: Span) -> bool:
        return self.start_byte <= other.start_byte and other.end_byte <= self.end_byte


@dataclass(frozen=True)
class Definition:
    kind: str
    name: str
    span: Span
    signature: str
    doc: str | None
    path: str | None = None


def definitions(doc: Document) -> list[Definition]:
    """Every definition in the document, ordered by position (cached per version)."""
    cached = doc.cache.get("definitions")
    if cached is not None:
        return cached  # type: ignore[return-value]
    doc.reparse()
    result = _collect_definitions(doc) if doc.tree is not None and doc.language else []
    doc.cache["definitions"] = result
    return result


def definitions_at(doc: Document, offset: int) -> list[Definition]:
    """The definitions that contain the offset, innermost first (a range-restricted query;
    kept for this version, as a hover asks for its facts, its prompt and its context)."""
    key = f"definitions_at:{offset}"
    kept = doc.cache.get(key)
    if not isinstance(kept, list):
        kept = doc.cache[key] = _definitions_at(doc, offset)
    return list(kept)


def _definitions_at(doc: Document, offset: int) -> list[Definition]:
    cached = doc.cache.get("definitions")
    if cached is not None:
        found: list[Definition] = [d for d in cached if d.span.contains(offset)]  # type: ignore[attr-defined]
    else:
        doc.reparse()
        if doc.tree is None or doc.language is None:
            return []
        nearby = _collect_definitions(doc, max(0, offset - 1), offset + 1)  # a node may end here
        found = [d for d in nearby if d.span.contains(offset)]
    found.sort(key=lambda d: d.span.end_byte - d.span.start_byte)
    return found


MAX_OCCURRENCES = 200
"""Per name, how many textual occurrences are checked for a definition (common names stop early)."""


def definitions_named(doc: Document, names: Iterable[str]) -> dict[str, list[Definition]]:
    """Definitions of the given names in this document.

    Without the whole-file list at hand, this finds each name's occurrences in
    the bytes and queries only the top-level nodes that hold them: after an
    edit that costs a fraction of collecting every definition of a large file.
    """
    wanted = set(names)
    cached = doc.cache.get("definitions")
    result: dict[str, list[Definition]] = {}
    if cached is not None:
        for d in cached:  # type: ignore[attr-defined]
            if d.name in wanted:
                result.setdefault(d.name, []).append(d)
        return result
    doc.reparse()
    if doc.tree is None or doc.language is None:
        return result
    root = doc.tree.root_node
    tops: dict[int, Node] = {}
    for name in wanted:
        needle = name.encode()
        position = doc.source.find(needle)
        for _ in range(MAX_OCCURRENCES):
            if position < 0:
                break
            top = root.first_child_for_byte(position)
            if top is not None and top.start_byte <= position:
                tops.setdefault(top.start_byte, top)
            position = doc.source.find(needle, position + len(needle))
    seen: set[tuple[int, int]] = set()
    for top in tops.values():
        for d in _collect_definitions(doc, top.start_byte, top.end_byte):
            key = (d.span.start_byte, d.span.end_byte)
            if d.name in wanted and key not in seen:
                seen.add(key)
                result.setdefault(d.name, []).append(d)
    for found in result.values():
        found.sort(key=lambda d: d.span.start_byte)
    return result


def _collect_definitions(
    doc: Document, start: int | None = None, end: int | None = None
) -> list[Definition]:
    assert doc.tree is not None and doc.language is not None
    found: dict[int, tuple[Node, str, Node | None, list[Node]]] = {}
    cursor = QueryCursor(doc.language.tags)
    if start is not None and end is not None:
        cursor.set_byte_range(start, end)
    for _pattern, captures in cursor.matches(doc.tree.root_node):
        for capture, nodes in captures.items():
            if not capture.startswith("definition."):
                continue
            kind = capture.removeprefix("definition.")
            node = nodes[0]
            names = captures.get("name", [])
            docs = captures.get("doc", [])
            previous = found.get(node.id)
            if previous is None:
                found[node.id] = (node, kind, names[0] if names else None, list(docs))
                continue
            _, old_kind, old_name, old_docs = previous
            better = kind if _KIND_RANK.get(kind, 0) > _KIND_RANK.get(old_kind, 0) else old_kind
            old_docs.extend(d for d in docs if all(d.id != o.id for o in old_docs))
            found[node.id] = (node, better, old_name or (names[0] if names else None), old_docs)
    result = []
    for node, kind, name_node, doc_nodes in found.values():
        name = doc.text(name_node.start_byte, name_node.end_byte) if name_node else "<anonymous>"
        result.append(
            Definition(
                kind=kind,
                name=name,
                span=Span.of(node),
                signature=signature_of(doc, node, kind),
                doc=_doc_text(doc, node, doc_nodes),
            )
        )
    result.sort(key=lambda d: (d.span.start_byte, -d.span.end_byte))
    return result


_SHAPE_KINDS = frozenset({"struct", "interface", "enum", "type"})
"""Kinds whose body is their signature (fields, members): shown up to the line cap."""


def signature_of(doc: Document, node: Node, kind: str = "function") -> str:
    """The head of a definition: its text up to the body, else its first lines."""
    body = None if kind in _SHAPE_KINDS else _body_of(node)
    if body is not None and body.start_byte > node.start_byte:
        head = doc.text(node.start_byte, _head_end(body))
    elif kind in _SHAPE_KINDS:
        head = doc.text(node.start_byte, node.end_byte)
    else:
        head = doc.text(node.start_byte, node.end_byte).split("\n", 1)[0]
    lines = head.rstrip().splitlines()[:MAX_SIGNATURE_LINES]
    text = "\n".join(line.rstrip() for line in lines)
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[:MAX_SIGNATURE_CHARS].rstrip() + " …"
    return text


def _head_end(body: Node) -> int:
    """Where the head before `body` ends, leaving out comments between the two."""
    end = body.start_byte
    sibling = body.prev_sibling
    while sibling is not None and sibling.is_extra:
        end = sibling.start_byte
        sibling = sibling.prev_sibling
    return end


def _body_of(node: Node) -> Node | None:
    """The `body` field of the node or of a descendant within three levels."""
    frontier = [node]
    for _ in range(3):
        following: list[Node] = []
        for candidate in frontier:
            body = candidate.child_by_field_name("body")
            if body is not None:
                return body
            following.extend(candidate.named_children[:8])
        frontier = following
    return None


_COMMENT_LEADER = re.compile(r"^\s*(?:///?!?|/\*\*?|\*/|\*(?!/)|#+|--+\[*=*\[*|'''|\"\"\")\s?")
_COMMENT_TRAILER = re.compile(r"\s*(?:\*/|\]=*\]|'''|\"\"\")\s*$")
_STRING_PREFIX = re.compile(r"^[rRuUbBfF]{0,2}(\"\"\"|'''|\"|')")


def clean_doc(raw: str) -> str:
    """Doc text without comment markers or string quotes, common indentation removed."""
    text = raw.strip()
    quote = _STRING_PREFIX.match(text)
    if quote:
        q = quote.group(1)
        text = text[quote.end() :]
        if text.endswith(q):
            text = text[: -len(q)]
        lines = text.splitlines()
    else:
        lines = [
            _COMMENT_TRAILER.sub("", _COMMENT_LEADER.sub("", line)) for line in text.splitlines()
        ]
    indents = [len(ln) - len(ln.lstrip()) for ln in lines[1:] if ln.strip()]
    common = min(indents, default=0)
    cleaned = [lines[0].strip()] + [ln[common:].rstrip() for ln in lines[1:]] if lines else []
    result = "\n".join(cleaned).strip()
    if len(result) > MAX_DOC_CHARS:
        result = result[:MAX_DOC_CHARS].rstrip() + " …"
    return result


def _doc_text(doc: Document, node: Node, doc_nodes: Iterable[Node]) -> str | None:
    """Docstrings inside the definition, or the comments right above it (no blank line)."""
    inside = [d for d in doc_nodes if d.start_byte >= node.start_byte]
    if inside:
        first = min(inside, key=lambda d: d.start_byte)
        return clean_doc(doc.text(first.start_byte, first.end_byte)) or None
    above = sorted(
        (d for d in doc_nodes if d.end_byte <= node.start_byte), key=lambda d: d.start_byte
    )
    chosen = _adjacent(above, node.start_point.row) or _comments_above(node)
    if not chosen:
        return None
    return clean_doc("\n".join(doc.text(c.start_byte, c.end_byte) for c in chosen)) or None


def doc_comment_start(doc: Document, d: Definition) -> int | None:
    """Where the run of comments right above a documented definition starts (a byte offset: a
    Rust `///`, a C or JavaScript `/** */`, which the definition's node leaves out), or None
    when there is none (a Python definition documented by its docstring alone, inside it)."""
    doc.reparse()
    if d.doc is None or doc.tree is None:
        return None
    node = doc.tree.root_node.descendant_for_byte_range(d.span.start_byte, d.span.end_byte)
    while (
        node is not None
        and node.parent is not None
        and (node.parent.start_byte == node.start_byte and node.parent.end_byte == node.end_byte)
    ):
        node = node.parent
    if node is None or (node.start_byte, node.end_byte) != (d.span.start_byte, d.span.end_byte):
        return None
    comments = _comments_above(node)
    return comments[0].start_byte if comments else None


def _adjacent(comments: list[Node], row: int) -> list[Node]:
    """The run of comments that ends on the line before `row`, with no blank line inside."""
    chosen: list[Node] = []
    for comment in reversed(comments):
        if comment.end_point.row < row - 1:
            break
        chosen.append(comment)
        row = comment.start_point.row
    chosen.reverse()
    return chosen


def _comments_above(node: Node) -> list[Node]:
    """Comment siblings above the node, or above the wrapper it is the first child of.

    The query's `(comment)* @doc . (definition)` only sees comments that are
    siblings; grammars put a comment before the first member of a body outside
    that body (Ruby's body_statement, an export statement), so look up too.
    """
    current: Node | None = node
    for _ in range(3):
        if current is None:
            break
        comments: list[Node] = []
        sibling = current.prev_sibling
        while sibling is not None and "comment" in sibling.type:
            comments.append(sibling)
            sibling = sibling.prev_sibling
        if comments:
            return _adjacent(list(reversed(comments)), node.start_point.row)
        if sibling is not None:
            break
        current = current.parent
    return []


def references_in(doc: Document, span: Span) -> list[tuple[str, str]]:
    """(name, kind) of the references inside a span, in order of first use, once each."""
    doc.reparse()
    if doc.tree is None or doc.language is None:
        return []
    cursor = QueryCursor(doc.language.tags)
    cursor.set_byte_range(span.start_byte, span.end_byte)
    seen: dict[str, str] = {}
    ordered: list[tuple[int, str, str]] = []
    for _pattern, captures in cursor.matches(doc.tree.root_node):
        names = captures.get("name")
        if not names:
            continue
        for capture in captures:
            if capture.startswith("reference."):
                node = names[0]
                if not span.encloses(Span.of(node)):
                    continue
                name = doc.text(node.start_byte, node.end_byte)
                if name not in seen:
                    seen[name] = capture.removeprefix("reference.")
                    ordered.append((node.start_byte, name, seen[name]))
    ordered.sort()
    return [(name, kind) for _, name, kind in ordered]


def imports(doc: Document) -> list[str]:
    """The file's import statements, each as the whole source lines it spans."""
    cached = doc.cache.get("imports")
    if cached is not None:
        return cached  # type: ignore[return-value]
    doc.reparse()
    result: list[str] = []
    if doc.tree is not None and doc.language is not None and doc.language.imports is not None:
        cursor = QueryCursor(doc.language.imports)
        nodes = cursor.captures(doc.tree.root_node).get("import", [])
        last_end = -1
        for node in sorted(nodes, key=lambda n: n.start_byte):
            start = doc.source.rfind(b"\n", 0, node.start_byte) + 1
            last = max(node.start_byte, node.end_byte - 1)  # some nodes end after their newline
            end = doc.source.find(b"\n", last)
            end = len(doc.source) if end < 0 else end
            if start < last_end:
                continue
            last_end = end
            result.append(doc.text(start, end).rstrip())
    doc.cache["imports"] = result
    return result
