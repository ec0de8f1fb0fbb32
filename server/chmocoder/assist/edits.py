"""Edits are checked before they are offered: re-parsed, confined to their target."""

from __future__ import annotations

import re
import textwrap

from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import definitions
from chmocoder.analysis.syntax import SyntaxProblem, syntax_problems
from chmocoder.assist.results import Edit, Fix

_FENCE = re.compile(r"```[\w+#.-]*[ \t]*\n(.*?)(?:\n```|\Z)", re.DOTALL)
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def line_span(doc: Document, start: int, end: int) -> tuple[int, int]:
    """Widen a byte range to whole lines (without the final newline)."""
    line_start = doc.source.rfind(b"\n", 0, start) + 1
    line_end = doc.source.find(b"\n", max(end - 1, line_start))
    return line_start, len(doc.source) if line_end < 0 else line_end


def extract_code(answer: str) -> str:
    """The code in a model's answer: its first fenced block, else the whole answer."""
    match = _FENCE.search(answer)
    code = match.group(1) if match else answer
    return code.strip("\n")


def reindent(code: str, indentation: str) -> str:
    """The code with its common indentation replaced by the target's."""
    lines = textwrap.dedent(code).split("\n")
    return "\n".join(indentation + line if line.strip() else "" for line in lines)


def indentation_of(doc: Document, line_start: int) -> str:
    line = doc.source[line_start : doc.source.find(b"\n", line_start) % (len(doc.source) + 1)]
    text = line.decode("utf-8", errors="replace")
    return text[: len(text) - len(text.lstrip())]


def verify(doc: Document, edit: Edit) -> str | None:
    """None if the edit may be offered, else the reason it may not."""
    old = doc.text(edit.start, edit.end)
    if not edit.new_text.strip():
        return "the model's answer had no code"
    if edit.new_text.strip() == old.strip():
        return "the model suggested no change"
    if doc.language is None or doc.tree is None:
        return "this file is not parsed, so the edit cannot be checked"
    patched = Document(doc.uri, apply(doc, edit), language=doc.language)
    if patched.tree is None:
        return f"the edited file could not be parsed ({patched.refusal})"
    before = syntax_problems(doc)
    after = syntax_problems(patched)
    if len(after) > len(before):
        new = _first_new(before, after)
        return f"it would add a syntax error at line {new.span.start[0] + 1}: {new.message}"
    inside_before = _definitions_within(doc, edit.start, edit.end)
    inside_after = _definitions_within(
        patched, edit.start, edit.start + len(edit.new_text.encode())
    )
    if len(inside_after) > max(1, len(inside_before)) + 1:
        return "it rewrites more than its target (the answer adds definitions from elsewhere)"
    return None


def apply(doc: Document, edit: Edit) -> bytes:
    return doc.source[: edit.start] + edit.new_text.encode("utf-8") + doc.source[edit.end :]


def _first_new(before: list[SyntaxProblem], after: list[SyntaxProblem]) -> SyntaxProblem:
    known = {(p.message, p.span.start[1]) for p in before}
    return next((p for p in after if (p.message, p.span.start[1]) not in known), after[0])


def _definitions_within(doc: Document, start: int, end: int) -> list[str]:
    return [
        d.name for d in definitions(doc) if start <= d.span.start_byte and d.span.end_byte <= end
    ]


def syntax_fix(doc: Document, problem: SyntaxProblem) -> Fix | None:
    """An instant fix from the parse tree itself, when it is certain: insert a missing
    token, or close an unclosed bracket at the end of its line. Checked like any edit:
    it must leave fewer syntax errors than before."""
    message = problem.message
    if message.startswith("missing `") and problem.span.start_byte == problem.span.end_byte:
        token = message[len("missing `") : -1]
        edit = Edit(problem.span.start_byte, problem.span.start_byte, token)
        title = f"Insert missing `{token}`"
    elif message.startswith("unclosed `"):
        opener = message[len("unclosed `") : -1]
        closer = _CLOSERS.get(opener)
        if closer is None:
            return None
        _, line_end = line_span(doc, problem.span.start_byte, problem.span.end_byte)
        line = doc.source[problem.span.start_byte : line_end]
        end = problem.span.start_byte + len(line.rstrip())
        edit = Edit(end, end, closer)
        title = f"Close `{opener}` at the end of line {problem.span.start[0] + 1}"
    else:
        return None
    patched = Document(doc.uri, apply(doc, edit), language=doc.language)
    if patched.tree is None or len(syntax_problems(patched)) >= len(syntax_problems(doc)):
        return None
    return Fix(title=title, edit=edit)
