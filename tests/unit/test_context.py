"""Context extraction, data-driven from fixtures/context_cases.toml, and its token budget."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chmocoder.analysis.context import MAX_DOC_COMMENT_LINES, MIN_BUDGET, extract_context
from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.analysis.symbols import Definition, Span
from chmocoder.tokens import estimate_tokens

from ..support.common import FIXTURES, open_document

CASES = tomllib.loads((FIXTURES / "context_cases.toml").read_text())["case"]


def _case_id(case: dict) -> str:
    return f"{case['file'].split('/')[-1]}@{case['at']}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_context_case(registry: LanguageRegistry, case: dict) -> None:
    path = FIXTURES / case["file"]
    doc = open_document(registry, path)
    offset = doc.source.index(case["at"].encode()) + case.get("shift", 0)
    ctx = extract_context(doc, offset)
    assert doc.tree is not None and not doc.tree.root_node.has_error
    assert ctx.identifier == case["identifier"]
    assert ctx.definition is not None
    assert f"{ctx.definition.kind} {ctx.definition.name}" == case["definition"]
    assert [f"{p.kind} {p.name}" for p in ctx.parents] == case["parents"]
    assert ctx.definition.doc == case["doc"]
    assert [r.name for r in ctx.references if r.origin == "this file"] == case["references"]
    assert len(ctx.imports) == case["imports"]
    assert case["at"].split("(")[0] in ctx.definition.text
    rendered = ctx.render()
    assert ctx.definition.signature in rendered
    for ref in ctx.references:
        assert ref.signature in rendered


def test_languages_without_a_case_are_none() -> None:
    files = {c["file"] for c in CASES}
    on_disk = {f"languages/{p.name}" for p in (FIXTURES / "languages").iterdir()}
    assert on_disk == files


def test_output_is_deterministic(registry: LanguageRegistry) -> None:
    path = FIXTURES / "languages" / "sample.py"
    first = extract_context(open_document(registry, path), 400)
    second = extract_context(open_document(registry, path), 400)
    assert first == second
    assert first.render() == second.render()


def test_workspace_signatures_come_after_this_file(registry: LanguageRegistry) -> None:
    source = b"def run():\n    return helper(1) + remote_thing(2)\n\ndef helper(x):\n    return x\n"
    remote = Definition(
        "function",
        "remote_thing",
        Span(0, 10, (0, 0), (1, 0)),
        "def remote_thing(y):",
        "Far.",
        "lib/far.py",
    )
    doc = Document("file:///w/main.py", source, language=registry.support("python"))
    ctx = extract_context(
        doc,
        source.index(b"helper"),
        path="main.py",
        workspace=lambda n: [remote] if n == "remote_thing" else [],
    )
    assert [(r.name, r.origin) for r in ctx.references] == [
        ("helper", "this file"),
        ("remote_thing", "lib/far.py"),
    ]
    assert "def remote_thing(y):  # lib/far.py" in ctx.render()


@settings(max_examples=60, deadline=None)
@given(
    budget=st.integers(min_value=MIN_BUDGET, max_value=2000),
    cursor=st.integers(min_value=0, max_value=5000),
)
def test_budget_is_never_exceeded(budget: int, cursor: int) -> None:
    registry = LanguageRegistry()
    path = FIXTURES / "languages" / "sample.cpp"
    doc = open_document(registry, path)
    ctx = extract_context(doc, cursor, budget=budget)
    assert ctx.token_count == estimate_tokens(ctx.render())
    assert ctx.token_count <= budget


def test_budget_with_a_real_style_counter(registry: LanguageRegistry) -> None:
    """A counter that is not the estimate (words): the budget still holds."""
    doc = open_document(registry, FIXTURES / "languages" / "sample.go")

    def words(text: str) -> int:
        return len(text.split())

    for budget in (32, 40, 60, 100, 400):
        ctx = extract_context(doc, doc.source.index(b"Clamp(c"), budget=budget, count_tokens=words)
        assert words(ctx.render()) <= budget


def test_small_budget_keeps_cursor_line_first(registry: LanguageRegistry) -> None:
    doc = open_document(registry, FIXTURES / "languages" / "sample.py")
    ctx = extract_context(doc, doc.source.index(b"clamp(self.radius"), path="a.py", budget=48)
    assert ctx.definition is not None and ctx.definition.trimmed
    assert "clamp(self.radius" in ctx.definition.text
    assert ctx.imports == ()


RUST_DOCUMENTED = b"""use std::fmt;

/// The value of the last entry with this key.
/// None when no entry has it.
fn lookup(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

// a note, then a blank line: not a doc

fn other() -> i32 {
    1
}
"""


def test_the_doc_comment_above_a_definition_is_shown_with_it(registry: LanguageRegistry) -> None:
    """doc_comment: a Rust `///` doc above the definition comes with its text, the line
    numbers from the comment's first line; without it (or with no doc) the text starts at
    the definition; when both do not fit whole, the definition alone is trimmed as before."""
    doc = Document("file:///kv.rs", RUST_DOCUMENTED, language=registry.support("rust"))
    at = RUST_DOCUMENTED.index(b"pairs.iter")
    plain = extract_context(doc, at, path="kv.rs")
    shown = extract_context(doc, at, path="kv.rs", doc_comment=True)
    assert plain.definition is not None and shown.definition is not None
    assert plain.definition.text.startswith("fn lookup")
    assert shown.definition.text.startswith("/// The value of the last entry")
    assert shown.definition.text.endswith(plain.definition.text)
    assert "Function `lookup` (lines 3-7):\n/// The value" in shown.render()
    assert "Function `lookup` (lines 5-7):\nfn lookup" in plain.render()
    other = RUST_DOCUMENTED.index(b"    1\n")
    alone = extract_context(doc, other, doc_comment=True).definition
    assert alone is not None and alone.text.startswith("fn other") and not alone.comment_lines
    small = extract_context(doc, at, path="kv.rs", budget=48, doc_comment=True)
    assert small.definition is not None and "/// The value" not in small.definition.text
    assert "pairs.iter" in small.definition.text and small.token_count <= 48


def test_a_long_comment_above_is_a_header_and_not_shown(registry: LanguageRegistry) -> None:
    header = b"".join(b"// licence line %d\n" % i for i in range(MAX_DOC_COMMENT_LINES + 1))
    source = header + b"fn one() -> i32 {\n    1\n}\n"
    doc = Document("file:///h.rs", source, language=registry.support("rust"))
    shown = extract_context(doc, source.index(b"    1"), doc_comment=True).definition
    assert shown is not None and shown.text.startswith("fn one") and not shown.comment_lines
    short = source[source.index(b"// licence line 1\n") :]
    doc = Document("file:///h.rs", short, language=registry.support("rust"))
    shown = extract_context(doc, short.index(b"    1"), doc_comment=True).definition
    assert shown is not None and shown.comment_lines == MAX_DOC_COMMENT_LINES


def test_a_docstring_inside_is_not_shown_twice(registry: LanguageRegistry) -> None:
    doc = open_document(registry, FIXTURES / "languages" / "sample.py")
    at = doc.source.index(b"clamp(self.radius")
    assert extract_context(doc, at, doc_comment=True) == extract_context(doc, at)


def test_too_small_budget_is_a_clear_error(registry: LanguageRegistry) -> None:
    doc = open_document(registry, FIXTURES / "languages" / "sample.py")
    with pytest.raises(ValueError, match="too small"):
        extract_context(doc, 0, budget=MIN_BUDGET - 1)


def test_unknown_language_gets_a_window_of_lines() -> None:
    text = "".join(f"line {i}\n" for i in range(500)).encode()
    doc = Document("file:///notes.txt", text)
    ctx = extract_context(doc, text.index(b"line 250"), budget=100)
    assert ctx.language is None and ctx.definition is None
    assert ctx.window is not None and "line 250" in ctx.window
    assert "line 0\n" not in ctx.window
    assert any("unknown language" in n for n in ctx.notes)
    assert ctx.token_count <= 100


def test_cursor_outside_definitions_gets_window(registry: LanguageRegistry) -> None:
    doc = open_document(registry, FIXTURES / "languages" / "sample.py")
    ctx = extract_context(doc, 0)
    assert ctx.definition is None
    assert ctx.window is not None and "import math" in ctx.window
    assert ctx.identifier == "import" or ctx.identifier is None or ctx.identifier == "math"


def test_identifier_at_end_of_word(registry: LanguageRegistry) -> None:
    source = b"def f(alpha):\n    return alpha\n"
    doc = Document("file:///a.py", source, language=registry.support("python"))
    end_of_word = source.rindex(b"alpha") + len(b"alpha")
    assert extract_context(doc, end_of_word).identifier == "alpha"


def test_path_is_reported(registry: LanguageRegistry) -> None:
    doc = open_document(registry, FIXTURES / "languages" / "sample.rs")
    ctx = extract_context(doc, 10, path="src/lib.rs")
    assert ctx.render().startswith("File: src/lib.rs (rust)")
    assert Path(ctx.path).name == "lib.rs"


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "languages").iterdir()))
def test_restricted_queries_agree_with_full_list(registry: LanguageRegistry, name: str) -> None:
    """definitions_at / definitions_named (range-restricted) == filtering the whole-file list."""
    from chmocoder.analysis.symbols import definitions, definitions_at, definitions_named

    path = FIXTURES / "languages" / name
    full = definitions(open_document(registry, path))
    names = {d.name for d in full}
    fresh = open_document(registry, path)
    assert definitions_named(fresh, names) == {n: [d for d in full if d.name == n] for n in names}
    for offset in range(0, len(fresh.source), 7):
        fresh = open_document(registry, path)
        expected = sorted(
            (d for d in full if d.span.contains(offset)),
            key=lambda d: d.span.end_byte - d.span.start_byte,
        )
        assert definitions_at(fresh, offset) == expected, offset
