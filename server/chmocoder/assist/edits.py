"""Edits are checked before they are offered: re-parsed, confined to their target."""

from __future__ import annotations

import difflib
import re
import textwrap
from collections import Counter

from chmocoder.analysis.builds import build_errors
from chmocoder.analysis.document import Document
from chmocoder.analysis.risks import KINDS, added_risks
from chmocoder.analysis.scopes import out_of_scope_uses
from chmocoder.analysis.symbols import Definition, definitions
from chmocoder.analysis.syntax import (
    BRACKETS,
    SyntaxProblem,
    code_token_rows,
    code_tokens,
    depth,
    syntax_problems,
)
from chmocoder.assist.results import Edit, Fix

FENCE_START = re.compile(r"```[\w+#.-]*[ \t]*\n")
"""The line that opens a fenced code block in a model's answer."""
_FENCE = re.compile(FENCE_START.pattern + r"(.*?)(?:\n```|\Z)", re.DOTALL)


def line_span(doc: Document, start: int, end: int) -> tuple[int, int]:
    """Widen a byte range to whole lines (without the final newline)."""
    line_start = doc.source.rfind(b"\n", 0, start) + 1
    line_end = doc.source.find(b"\n", max(end - 1, line_start))
    return line_start, len(doc.source) if line_end < 0 else line_end


_DESCRIPTION = re.compile(
    r"^\W*(?:problem|diagnosis|bug|issue)\W*:\s*(.+)$", re.IGNORECASE | re.MULTILINE
)


def extract_code(answer: str) -> str:
    """The code in a model's answer: its first fenced block, else the answer without its
    diagnosis line."""
    match = _FENCE.search(answer)
    if match:
        return match.group(1).strip("\n")
    return _DESCRIPTION.sub("", answer, count=1).strip("\n")


def extract_description(answer: str) -> str:
    """The one-sentence diagnosis before the code ("Problem: ..."), if the model wrote one."""
    fence = answer.find("```")
    match = _DESCRIPTION.search(answer[: fence if fence >= 0 else len(answer)])
    if not match:
        return ""
    text = " ".join(match.group(1).strip(" *").split())
    sentence = re.match(r"(.+?[.!?])(?:\s|$)", text)
    return (sentence.group(1) if sentence else text)[:300]


def reindent(code: str, indentation: str) -> str:
    """The code with its common indentation replaced by the target's."""
    lines = textwrap.dedent(code).split("\n")
    return "\n".join(indentation + line if line.strip() else "" for line in lines)


def changed_rows(old: list[str], new: list[str]) -> dict[int, str]:
    """Index of each line of `old` that `new` changes (ignoring indentation), with its new
    text; a line inserted before old line i counts as a change of line i."""
    changed: dict[int, str] = {}
    matcher = difflib.SequenceMatcher(None, [x.strip() for x in old], [x.strip() for x in new])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        replacement = "\n".join(line.strip() for line in new[j1:j2])
        for i in range(i1, max(i2, i1 + 1)):
            if i < len(old):
                changed.setdefault(i, replacement)
    return changed


def code_changed_rows(doc: Document, edit: Edit) -> set[int]:
    """Rows of the edit's target (0 = its first line) whose code the edit changes: replaced,
    removed, or with a statement inserted right before them. Lines compare by their code
    tokens, so a comment added to a line, or a line's spacing, is no change of it, and neither
    is a guard that wraps the line in a new block (the line itself stays as it was)."""
    patched = Document(doc.uri, apply(doc, edit), language=doc.language)
    first = doc.source.count(b"\n", 0, edit.start)
    old = _token_lines(code_token_rows(doc, edit.start, edit.end))
    new = _token_lines(code_token_rows(patched, edit.start, edit.new_end))
    old_rows, new_rows = sorted(old), sorted(new)
    matcher = difflib.SequenceMatcher(
        None,
        [old[r][1] for r in old_rows],
        [new[r][1] for r in new_rows],
        autojunk=False,
    )
    changed: set[int] = set()
    for tag, i1, i2, _, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            changed.update(old_rows[i] - first for i in range(i1, i2))
        elif (  # old line i1 is new line j2, after the insertion: changed unless wrapped
            tag == "insert"
            and i1 < len(old_rows)
            and j2 < len(new_rows)
            and depth(doc, old[old_rows[i1]][0]) == depth(patched, new[new_rows[j2]][0])
        ):
            changed.add(old_rows[i1] - first)
    return changed


def _token_lines(tokens: list[tuple[int, int, bytes]]) -> dict[int, tuple[int, tuple[bytes, ...]]]:
    """Row -> (the byte of its first code token, its code tokens)."""
    lines: dict[int, tuple[int, list[bytes]]] = {}
    for row, byte, token in tokens:
        lines.setdefault(row, (byte, []))[1].append(token)
    return {row: (byte, tuple(found)) for row, (byte, found) in lines.items()}


def indentation_of(doc: Document, line_start: int) -> str:
    line = doc.source[line_start : doc.source.find(b"\n", line_start) % (len(doc.source) + 1)]
    text = line.decode("utf-8", errors="replace")
    return text[: len(text) - len(text.lstrip())]


NO_CHANGE = "the model suggested no change"
ONLY_COMMENTS = "the model changed only comments or spacing"


def verify(
    doc: Document, edit: Edit, *, allow_risky: bool = False, code_change: bool = False
) -> str | None:
    """None if the edit may be offered, else the reason it may not. Unless `allow_risky`,
    an edit that adds a call that runs commands, evaluates code, imports at run time, deletes
    files or opens connections is refused, naming what it adds. With `code_change` (a fix, a
    simplification) an edit must change code: one that changes only comments or spacing is
    refused."""
    old = doc.text(edit.start, edit.end)
    if not edit.new_text.strip():
        return "the model's answer had no code"
    if edit.new_text.strip() == old.strip():
        return NO_CHANGE
    if doc.language is None or doc.tree is None:
        return "this file is not parsed, so the edit cannot be checked"
    patched = Document(doc.uri, apply(doc, edit), language=doc.language)
    reason = _confined(doc, edit, patched)
    new_end = edit.new_end
    if reason is None and code_change:
        same = code_tokens(doc, edit.start, edit.end) == code_tokens(patched, edit.start, new_end)
        reason = ONLY_COMMENTS if same else None
    if reason is not None:
        return reason
    added = [] if allow_risky else added_risks(doc, edit.start, edit.end, patched, new_end)
    if added:
        what = "; ".join(risk.describe() for risk in added[:3])
        return f"it adds code that {KINDS[added[0].kind]}: {what} (not offered; allow such edits with --allow-risky or the allowRisky setting)"
    return _new_out_of_scope(doc, edit, patched) or _new_build_error(doc, edit, patched)


def _confined(doc: Document, edit: Edit, patched: Document) -> str | None:
    """None if the edited file (`patched`) parses no worse and the edit stays within its
    target, else why not."""
    if patched.tree is None:
        return f"the edited file could not be parsed ({patched.refusal})"
    before = syntax_problems(doc)
    after = syntax_problems(patched)
    if len(after) > len(before):
        new = _first_new(before, after)
        return f"it would add a syntax error at line {new.span.start[0] + 1}: {new.message}"
    new_end = edit.new_end
    targets = _outermost(_definitions_within(doc, edit.start, edit.end))
    if len(targets) == 1:
        return _same_definition(patched, targets[0], edit.start, new_end)
    if not targets and not any(
        d.span.start_byte <= edit.start and edit.end <= d.span.end_byte for d in definitions(doc)
    ):
        return _same_statements(doc, edit.start, edit.end, patched, new_end)
    inside_before = _definitions_within(doc, edit.start, edit.end)
    inside_after = _definitions_within(patched, edit.start, new_end)
    if len(inside_after) > max(1, len(inside_before)) + 1:
        return "it rewrites more than its target (the answer adds definitions from elsewhere)"
    return None


def _new_out_of_scope(doc: Document, edit: Edit, patched: Document) -> str | None:
    """Why the edit would not build or run: a use it adds of a name outside every block that
    declares it, of a constant as an assignment's target, or (Python) of a name nothing binds
    (analysis/scopes), else None."""
    before = Counter(use.name for use in out_of_scope_uses(doc, edit.start, edit.end))
    for use in out_of_scope_uses(patched, edit.start, edit.new_end):
        if before[use.name] > 0:
            before[use.name] -= 1
            continue
        verb = "assigns" if use.kind == "constant" else "uses"
        return f"it {verb} `{use.name}` at line {use.row + 1} {use.why}"
    return None


def _new_build_error(doc: Document, edit: Edit, patched: Document) -> str | None:
    """Why the edit would not build, by what else the compiler would refuse
    (analysis/builds: a name whose `#include` or `use` is missing, a value missing where one
    is needed), else None. Only errors the edit adds count."""
    before = Counter(error.key for error in build_errors(doc, edit.start, edit.end))
    for error in build_errors(patched, edit.start, edit.new_end):
        if before[error.key] > 0:
            before[error.key] -= 1
            continue
        return f"it {error.message}"
    return None


def _same_statements(
    doc: Document, start: int, end: int, patched: Document, new_end: int
) -> str | None:
    """A module-level edit must leave statements of the same kinds, one for one, where it
    was (the rule for definitions: nothing added beside them but comments)."""
    before = _statement_kinds(doc, start, end)
    after = _statement_kinds(patched, start, new_end)
    if before == after:
        return None
    return (
        f"it must replace the module-level {', '.join(before) or 'lines'} with the same kind of "
        f"statement; the answer has {', '.join(after) or 'none'}"
    )


def _statement_kinds(doc: Document, start: int, end: int) -> list[str]:
    assert doc.tree is not None
    return [
        node.type
        for node in doc.tree.root_node.named_children
        if node.start_byte < end and node.end_byte > start and "comment" not in node.type
    ]


def _outermost(found: list[Definition]) -> list[Definition]:
    return [d for d in found if not any(o is not d and o.span.encloses(d.span) for o in found)]


def _same_definition(patched: Document, target: Definition, start: int, end: int) -> str | None:
    """A definition's edit must leave exactly one definition of the same kind and name where
    it was, and nothing else but comments: no new top-level statements, imports, decorators
    or definitions (model output is untrusted: a prompt-injected answer may try to add them)."""
    found = _outermost(_definitions_within(patched, start, end))
    what = f"{target.kind} `{target.name}`"
    if len(found) != 1 or (found[0].kind, found[0].name) != (target.kind, target.name):
        got = ", ".join(f"{d.kind} `{d.name}`" for d in found) or "no definition"
        return (
            f"it must replace the {what} with one {target.kind} of that name; the answer has {got}"
        )
    new = found[0]
    first_row_start = patched.source.rfind(b"\n", 0, new.span.start_byte) + 1
    for a, b in ((start, new.span.start_byte), (new.span.end_byte, end)):
        position = a
        for line in patched.source[a:b].split(b"\n"):
            stripped = line.lstrip()
            at = position + len(line) - len(stripped)
            position += len(line) + 1
            if stripped.strip() and not _allowed_around(patched, at, new, first_row_start):
                code = stripped.decode("utf-8", errors="replace").strip()[:60]
                return f"it adds code outside the {what}: `{code}`"
    return None


def _allowed_around(doc: Document, at: int, definition: Definition, first_row_start: int) -> bool:
    """Text at `at`, outside the definition's span, may be a comment, or on the definition's
    own first line a wrapper of it (`export function`, `pub fn`). Nothing else: a decorator or
    statement added by the model is code that would run."""
    assert doc.tree is not None
    node = doc.tree.root_node.named_descendant_for_byte_range(at, at + 1)
    while node is not None:
        if "comment" in node.type:
            return True
        encloses = node.start_byte <= definition.span.start_byte and (
            definition.span.end_byte <= node.end_byte
        )
        if encloses and at >= first_row_start and node.type not in ("module", "program"):
            return True
        parent = node.parent
        node = parent if parent is not None and parent.start_byte == at else None
    return False


def apply(doc: Document, edit: Edit) -> bytes:
    return doc.source[: edit.start] + edit.new_text.encode("utf-8") + doc.source[edit.end :]


def _first_new(before: list[SyntaxProblem], after: list[SyntaxProblem]) -> SyntaxProblem:
    known = {(p.message, p.span.start[1]) for p in before}
    return next((p for p in after if (p.message, p.span.start[1]) not in known), after[0])


def _definitions_within(doc: Document, start: int, end: int) -> list[Definition]:
    return [d for d in definitions(doc) if start <= d.span.start_byte and d.span.end_byte <= end]


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
        closer = BRACKETS.get(opener)
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
