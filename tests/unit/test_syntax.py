"""ERROR and MISSING nodes become readable problems."""

from __future__ import annotations

import pytest

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.analysis.syntax import syntax_problems

CASES = [
    ("python", b"print((1, 2)\n", "unclosed `(`"),
    ("python", b"x = [1, 2\n", "unclosed `[`"),
    ("python", b"if x:\n    pass\nelse pass\n", "unexpected `else`"),
    ("javascript", b"function f() {\n  return 1;\n", "missing `}`"),
    ("c", b"int f(void) { return 1 }\n", "missing `;`"),
    ("go", b"package x\nfunc f() int { return 1 + }\n", "unexpected"),
    ("rust", b"fn f() { let x = 1 }\n", "missing `;`"),
]


@pytest.mark.parametrize(("language", "source", "expected"), CASES)
def test_problem_messages(
    registry: LanguageRegistry, language: str, source: bytes, expected: str
) -> None:
    doc = Document("file:///t", source, language=registry.support(language))
    problems = syntax_problems(doc)
    assert problems, "no problem found in broken code"
    assert any(expected in p.message for p in problems), [p.message for p in problems]
    for p in problems:
        assert 0 <= p.span.start_byte <= p.span.end_byte <= len(source)


def test_clean_file_has_none(registry: LanguageRegistry) -> None:
    doc = Document(
        "file:///t.py", b"def f(x):\n    return x\n", language=registry.support("python")
    )
    assert syntax_problems(doc) == []


def test_problem_count_is_bounded(registry: LanguageRegistry) -> None:
    doc = Document("file:///t.py", b")\n" * 5000, language=registry.support("python"))
    problems = syntax_problems(doc, limit=50)
    assert 0 < len(problems) <= 50


def test_control_characters_are_escaped(registry: LanguageRegistry) -> None:
    doc = Document("file:///t.py", b"x = 1\x00\x01\n", language=registry.support("python"))
    messages = [p.message for p in syntax_problems(doc)]
    assert messages and all(m.isprintable() for m in messages)
