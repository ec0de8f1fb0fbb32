"""Incremental edits give the same tree as a full parse of the final text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Node, Parser

from chmocoder.analysis.document import Document, advance_point, point_at
from chmocoder.analysis.languages import LanguageRegistry

REGISTRY = LanguageRegistry()

SEED = (
    "def greet(name):\r\n"
    '\t"""Say hello — to 名前 😀."""\r\n'
    "\tif name:\n"
    "\t\treturn f'hi {name} 👋'\n"
    "    return None\n"
    "\n"
    "class Ünïcode:\n"
    "    def m(self): return greet('ß')\n"
)

FRAGMENTS = st.sampled_from(
    ["", "x", "😀", "名前", "\r\n", "\n", "\t", "    ", "(", ")", ":", "def ", "return 1\n",
     "é", "\"\"\"", "#", "if x:\n\t", "🧑‍💻", "\r"]
)  # fmt: skip


def _shape(node: Node) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    shape = []
    cursor = node.walk()
    visited = False
    while True:
        if not visited:
            n = cursor.node
            assert n is not None
            shape.append(
                (n.type, n.start_byte, n.end_byte, tuple(n.start_point), tuple(n.end_point))
            )
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited = False
            continue
        if not cursor.goto_parent():
            return shape
        visited = True


def _full(
    language: str, source: bytes
) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    tree = Parser(REGISTRY.support(language).language).parse(source)
    return _shape(tree.root_node)


edit = st.tuples(st.floats(0, 1), st.floats(0, 1), st.lists(FRAGMENTS, max_size=3).map("".join))


@settings(max_examples=200, deadline=None)
@given(edits=st.lists(edit, min_size=1, max_size=8))
def test_random_edits_match_full_parse(edits: list[tuple[float, float, str]]) -> None:
    doc = Document("file:///t.py", SEED.encode(), language=REGISTRY.support("python"))
    text = SEED
    for a, b, insert in edits:
        # positions on character boundaries of the current text, like an editor's
        start, end = sorted((int(a * len(text)), int(b * len(text))))
        start_byte = len(text[:start].encode())
        end_byte = len(text[:end].encode())
        doc.apply_edit(start_byte, end_byte, insert.encode())
        text = text[:start] + insert + text[end:]
        if a < 0.5:  # sometimes reparse between edits, sometimes batch them
            doc.reparse()
    doc.reparse()
    assert doc.source == text.encode()
    assert doc.tree is not None
    assert _shape(doc.tree.root_node) == _full("python", doc.source)


@settings(max_examples=50, deadline=None)
@given(
    edits=st.lists(edit, min_size=1, max_size=5),
    language=st.sampled_from(["go", "rust", "javascript"]),
)
def test_random_edits_other_grammars(edits: list[tuple[float, float, str]], language: str) -> None:
    seed = {
        "go": "package x\n\n// Ünï 😀\nfunc f(a int) int {\r\n\treturn a\n}\n",
        "rust": "/// 名前\nfn f(a: i32) -> i32 {\n\ta + 1\r\n}\n",
        "javascript": "const s = '👋';\nfunction f(a) {\n\treturn a + s;\r\n}\n",
    }[language]
    doc = Document("file:///t", seed.encode(), language=REGISTRY.support(language))
    text = seed
    for a, b, insert in edits:
        start, end = sorted((int(a * len(text)), int(b * len(text))))
        doc.apply_edit(len(text[:start].encode()), len(text[:end].encode()), insert.encode())
        text = text[:start] + insert + text[end:]
    doc.reparse()
    assert doc.tree is not None
    assert _shape(doc.tree.root_node) == _full(language, doc.source)


def test_full_replacement_drops_old_tree() -> None:
    doc = Document("file:///t.py", b"x = 1\n", language=REGISTRY.support("python"))
    doc.replace(b"def f(:\n")
    doc.reparse()
    assert doc.tree is not None and doc.tree.root_node.has_error
    assert _shape(doc.tree.root_node) == _full("python", b"def f(:\n")


def test_edit_outside_document_is_refused() -> None:
    doc = Document("file:///t.py", b"x = 1\n", language=REGISTRY.support("python"))
    try:
        doc.apply_edit(3, 99, b"")
    except ValueError as exc:
        assert "outside the document" in str(exc)
    else:
        raise AssertionError("an edit past the end was accepted")
    assert doc.source == b"x = 1\n"


def test_points_are_tree_sitter_points() -> None:
    source = "a😀b\r\ncd\n".encode()
    assert point_at(source, 0) == (0, 0)
    assert point_at(source, len("a😀".encode())) == (0, 5)
    assert point_at(source, source.index(b"cd")) == (1, 0)
    assert advance_point(point_at(source, 2), b"xy\nz") == (1, 1)
    assert advance_point(point_at(source, 2), b"xy") == (0, 4)


def test_row_span() -> None:
    doc = Document("file:///t.txt", "a😀\r\n  bc\n\nlast".encode())
    assert doc.row_span(0) == (
        0,
        len("a😀\r".encode()),
    )  # CRLF: the \r stays, as tree-sitter counts
    assert doc.source[slice(*doc.row_span(1))] == b"  bc"
    assert doc.row_span(2)[0] == doc.row_span(2)[1]
    assert doc.source[slice(*doc.row_span(3))] == b"last"
    assert doc.row_span(99) == doc.row_span(3)
    doc.apply_edit(0, 0, b"new\n")
    assert doc.source[slice(*doc.row_span(0))] == b"new"  # an edit resets the cached rows
