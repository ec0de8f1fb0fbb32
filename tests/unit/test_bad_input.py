"""Bad input is parsed or refused with a reason; nothing crashes or hangs."""

from __future__ import annotations

from pathlib import Path

import pytest

from chmocoder.analysis.context import extract_context
from chmocoder.analysis.document import Document, ParseLimits
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.analysis.syntax import syntax_problems
from chmocoder.cli_files import read_source


def test_invalid_utf8_is_read_with_a_note(tmp_path: Path, registry: LanguageRegistry) -> None:
    path = tmp_path / "bad.py"
    path.write_bytes(b"def f():\n    return '\xff\xfe'\n")
    source, notes = read_source(path)
    assert notes and "not valid UTF-8" in notes[0]
    source.decode("utf-8")  # valid now
    doc = Document(path.as_uri(), source, language=registry.support("python"))
    ctx = extract_context(doc, source.index(b"return"))
    assert ctx.definition is not None and ctx.definition.name == "f"


def test_nul_bytes_parse(registry: LanguageRegistry) -> None:
    source = b"def f():\n    return 1\x00\x00\n\ndef g():\n    return 2\n"
    doc = Document("file:///n.py", source, language=registry.support("python"))
    assert doc.tree is not None
    assert syntax_problems(doc)
    ctx = extract_context(doc, source.index(b"return 2"))
    assert ctx.definition is not None and ctx.definition.name == "g"


def test_ten_megabytes_is_refused_with_reason(registry: LanguageRegistry) -> None:
    source = b"x = 1\n" * (10_000_000 // 6)
    doc = Document("file:///big.py", source, language=registry.support("python"))
    assert doc.tree is None
    assert doc.refusal is not None and "MiB limit" in doc.refusal
    ctx = extract_context(doc, len(source) // 2)
    assert ctx.window is not None and "x = 1" in ctx.window
    assert doc.refusal in ctx.notes
    assert syntax_problems(doc) == []


def test_fifty_thousand_character_line(registry: LanguageRegistry) -> None:
    source = b"def f():\n    return [" + b"1, " * 16_700 + b"]\n"
    doc = Document("file:///long.py", source, language=registry.support("python"))
    assert doc.tree is not None
    ctx = extract_context(doc, 30_000)
    assert ctx.definition is not None and ctx.definition.name == "f"
    assert ctx.token_count <= ctx.token_budget
    assert max(len(line) for line in ctx.render().splitlines()) < 1000


def test_deep_nesting_parses_in_brackets(registry: LanguageRegistry) -> None:
    source = b"x = " + b"(" * 10_000 + b"1" + b")" * 10_000 + b"\n"
    doc = Document("file:///deep.py", source, language=registry.support("python"))
    assert doc.tree is not None
    ctx = extract_context(doc, 5000)
    assert ctx.token_count <= ctx.token_budget


def test_parse_over_time_limit_is_refused(registry: LanguageRegistry) -> None:
    """A parse that outruns its time limit stops with a reason; the parser stays usable."""
    source = b"def f(x):\n    return [x, (x + 1), {x: 2}]\n" * 70_000  # 3 MB, under the size limit
    doc = Document(
        "file:///slow.py",
        source,
        language=registry.support("python"),
        limits=ParseLimits(max_seconds=0.001),
    )
    assert doc.tree is None
    assert doc.refusal is not None and "longer than 0.001 s" in doc.refusal
    ctx = extract_context(doc, len(source) // 2)
    assert ctx.window is not None
    doc.replace(b"def f():\n    pass\n")
    doc.reparse()
    assert doc.tree is not None and doc.refusal is None


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("javascript", "if (x) {" * 10_000 + "}" * 10_000),
        ("ruby", "if x\n" * 10_000 + "end\n" * 10_000),
        ("bash", "if x; then\n" * 10_000 + "fi\n" * 10_000),
        ("rust", "fn f() {" + "{" * 10_000),
    ],
)
def test_ten_thousand_levels(registry: LanguageRegistry, language: str, source: str) -> None:
    doc = Document("file:///deep", source.encode(), language=registry.support(language))
    assert doc.tree is not None
    ctx = extract_context(doc, len(source) // 2)
    assert ctx.token_count <= ctx.token_budget
    syntax_problems(doc)


def test_deep_c_nesting(registry: LanguageRegistry) -> None:
    source = b"int f(void) {" + b"{" * 10_000 + b"}" * 10_000 + b"}\n"
    doc = Document("file:///deep.c", source, language=registry.support("c"))
    assert doc.tree is not None
    ctx = extract_context(doc, 7000)
    assert ctx.definition is not None and ctx.definition.name == "f"
    assert ctx.token_count <= ctx.token_budget
