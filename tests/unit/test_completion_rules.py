"""Inline completion without a model: the gap cut at syntax boundaries, where a completion's
block ends, trimming what repeats the code after the cursor, and the guards."""

from __future__ import annotations

import pytest

from chmocoder.analysis.completion import block_end, gap_at, rejection, trim
from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry

CURSOR = "‸"

PY = f'''import os


def first():
    return 1


def fib(n):
    """The n-th Fibonacci number."""
    if n < 2:
        {CURSOR}
    return fib(n - 1) + fib(n - 2)


def last():
    return 3
'''

JS = f"""function area(r) {{
  const pi = 3.14159;
  {CURSOR}
}}

function other() {{
  return 2;
}}
"""


def at(registry: LanguageRegistry, marked: str, name: str) -> tuple[Document, int]:
    offset = marked.encode().index(CURSOR.encode())
    text = marked.replace(CURSOR, "")
    return Document(f"file:///{name}", text.encode(), language=registry.lookup(path=name)), offset


def test_the_gap_is_cut_at_whole_definitions(registry: LanguageRegistry) -> None:
    doc, offset = at(registry, PY, "fib.py")
    whole = gap_at(doc, offset, 10_000, 10_000)
    assert whole.prefix.startswith("import os") and whole.suffix.endswith("return 3")
    cut = gap_at(doc, offset, 80, 40)
    assert cut.prefix.startswith("def fib(n):")  # not mid-way through `first`
    assert cut.suffix == "\n    return fib(n - 1) + fib(n - 2)"  # `last` did not fit
    assert cut.line_prefix == "        " and cut.indentation == 8 and not cut.mid_line


def test_a_budget_inside_one_definition_cuts_at_its_statements(
    registry: LanguageRegistry,
) -> None:
    doc, offset = at(registry, PY, "fib.py")
    gap = gap_at(doc, offset, 30, 10)
    assert gap.prefix == "    if n < 2:\n        "  # the statement's line, not the middle of one


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("return n\n    else:\n        return 2", "return n"),  # the indentation drops
        ("return n\n\n    x = 1", "return n"),  # a blank line after a complete statement
        ("total = (n +\n\n        1)", "total = (n +\n\n        1)"),  # not complete: goes on
        ("return n\n    return fib(n - 1) + fib(n - 2)", "return n"),  # repeats the suffix
        ("return n  \n\n", "return n"),
    ],
)
def test_python_block_ends(registry: LanguageRegistry, written: str, kept: str) -> None:
    doc, offset = at(registry, PY, "fib.py")
    assert trim(written, gap_at(doc, offset, 10_000, 10_000)) == kept


def test_a_closing_bracket_the_completion_did_not_open_ends_it(
    registry: LanguageRegistry,
) -> None:
    doc, offset = at(registry, JS, "area.js")
    gap = gap_at(doc, offset, 10_000, 10_000)
    written = "return pi * r * r;\n}\n\nfunction more() {"
    assert block_end(written, gap) == len("return pi * r * r;")
    inner = "if (r < 0) {\n    return 0;\n  }\n  return pi * r * r;"
    assert block_end(inner + "\n}", gap) == len(inner)  # its own `}` is kept


def test_mid_line_completes_the_line_without_what_the_editor_closed(
    registry: LanguageRegistry,
) -> None:
    doc, offset = at(registry, f"x = max({CURSOR})\n", "m.py")
    gap = gap_at(doc, offset, 1000, 1000)
    assert gap.mid_line
    assert block_end("1, 2)\ny = 3", gap) == len("1, 2)")
    assert trim("1, 2)\ny = 3", gap) == "1, 2"
    assert trim("ax", gap) == "ax"  # a word is never taken for the editor's closer


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("  \n ", "only whitespace"),
        ("return fib(n - 1)", "it repeats the code after the cursor"),
        ("return (n", "it would make the syntax worse"),
        ("return n", None),
    ],
)
def test_guards(registry: LanguageRegistry, text: str, reason: str | None) -> None:
    doc, offset = at(registry, PY, "fib.py")
    gap = gap_at(doc, offset, 10_000, 10_000)
    before = doc.source
    assert rejection(doc, offset, text, gap) == reason
    assert doc.source == before and not doc.tree.root_node.has_error  # type: ignore[union-attr]


def test_a_file_with_errors_may_get_a_completion_that_mends_one(
    registry: LanguageRegistry,
) -> None:
    doc, offset = at(registry, f"def f(a, b:\n    return a\n\nx = f(1, {CURSOR}\n", "e.py")
    gap = gap_at(doc, offset, 1000, 1000)
    assert rejection(doc, offset, "2)", gap) is None


def test_plain_text_is_cut_by_lines(registry: LanguageRegistry) -> None:
    text = "".join(f"line {i}\n" for i in range(100))
    offset = text.index("line 50")
    doc = Document("file:///notes.txt", text.encode())
    gap = gap_at(doc, offset, 40, 20)
    assert gap.prefix.startswith("line ") and gap.prefix.endswith("line 49\n")
    assert len(gap.prefix) <= 40 and gap.suffix.startswith("line 50")


def test_lines_the_code_after_the_cursor_starts_with_are_dropped(
    registry: LanguageRegistry,
) -> None:
    doc, offset = at(registry, f"def g(x):\n    y = x + 1\n    {CURSOR}\n    return y\n", "g.py")
    gap = gap_at(doc, offset, 1000, 1000)
    assert block_end("z = y * 2\n    return y", gap) is None  # same indentation: goes on
    assert trim("z = y * 2\n    return y", gap) == "z = y * 2"


def test_what_the_prefix_uses_from_other_files_is_shown_first(registry: LanguageRegistry) -> None:
    from chmocoder.analysis.completion import related_files
    from chmocoder.analysis.symbols import Definition, Span

    def workspace(name: str) -> list[Definition]:
        span = Span(0, 1, (0, 0), (0, 1))
        known = {
            "scale": Definition(
                "function", "scale", span, "def scale(x, k):", "Multiply.", "util.py"
            ),
            "local": Definition("function", "local", span, "def local():", None, "main.py"),
        }
        return [known[name]] if name in known else []

    marked = f"def local():\n    return 1\n\n\ndef main(v):\n    w = scale(v, 2) + local()\n    {CURSOR}\n"
    doc, offset = at(registry, marked, "main.py")
    files = related_files(doc, 0, offset, workspace, "main.py")
    assert files == (
        ("util.py", "def scale(x, k):\n    Multiply."),
    )  # not `local`: this file has it
    assert related_files(doc, 0, offset, None, "main.py") == ()
