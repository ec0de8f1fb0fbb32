"""Document: incremental edits, full replacements and reparses give the tree a fresh parse gives."""

from __future__ import annotations

import random

from tree_sitter import Parser

from chmocoder.analysis.document import LINE_BREAK, Document, ParseLimits
from chmocoder.analysis.languages import LanguageRegistry

SOURCE = b"".join(
    b"def f%d(x):\n    if x > %d:\n        return (x, [x + 1])\n    return None\n\n" % (i, i)
    for i in range(40)
)
PIECES = [b"x", b"(", b")", b":", b"\n", b"    ", b"def ", b"[", b"]", b"1", b" "]


def fresh_tree(registry: LanguageRegistry, source: bytes) -> str:
    return str(Parser(registry.support("python").language).parse(source).root_node)


def test_random_edits_and_replacements_match_a_fresh_parse(registry: LanguageRegistry) -> None:
    rnd = random.Random(3)
    doc = Document("file:///r.py", SOURCE, language=registry.support("python"))
    for step in range(300):
        if step % 10 == 9:  # a full-text change: some lines changed, the rest the same
            lines = doc.source.split(b"\n")
            row = rnd.randrange(len(lines))
            lines[row] = b"".join(rnd.choices(PIECES, k=rnd.randint(0, 6)))
            doc.replace(b"\n".join(lines))
        else:
            start = rnd.randint(0, len(doc.source))
            end = min(len(doc.source), start + rnd.randint(0, 5))
            doc.apply_edit(start, end, b"".join(rnd.choices(PIECES, k=rnd.randint(0, 3))))
        doc.reparse()
        assert doc.tree is not None
        assert str(doc.tree.root_node) == fresh_tree(registry, doc.source), step
        assert doc.line_starts == [0, *(m.end() for m in LINE_BREAK.finditer(doc.source))]


def test_replacement_by_unrelated_text(registry: LanguageRegistry) -> None:
    doc = Document("file:///r.py", SOURCE, language=registry.support("python"))
    for text in (b"", b"x = [\n", SOURCE[::-1], SOURCE + SOURCE, b"y = 2\n"):
        doc.replace(text)
        doc.reparse()
        assert doc.source == text
        assert doc.tree is not None and str(doc.tree.root_node) == fresh_tree(registry, text)


def test_a_large_paste_is_parsed_within_the_time_limit(registry: LanguageRegistry) -> None:
    """Small edits reparse without the time limit (it needs a read callback that leaks);
    a paste of 64 KiB or more goes through it again."""
    doc = Document("file:///r.py", SOURCE, language=registry.support("python"))
    doc.apply_edit(0, 0, b"z = 1\n")
    doc.reparse()
    assert doc.tree is not None and doc.refusal is None
    doc.limits = ParseLimits(max_seconds=0.0001)
    doc.apply_edit(0, 0, b"def g(x):\n    return [x, (x + 1), {x: 2}]\n" * 20_000)
    doc.reparse()
    assert doc.tree is None
    assert doc.refusal is not None and "longer than" in doc.refusal
    doc.limits = ParseLimits()
    doc.replace(SOURCE)
    doc.reparse()
    assert doc.tree is not None and str(doc.tree.root_node) == fresh_tree(registry, SOURCE)
