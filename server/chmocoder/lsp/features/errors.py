"""Other tools' errors: the errors and warnings of the language's own server, a linter or a
compiler (any diagnostic in a code-action request that is not ours; hints and information
are left alone). Per line, one "Fix “message”" that is told them all, with their source,
code and related information, and "Explain this error", which runs
chmocoder.explainErrors: what the messages mean here, why this code triggers them, what to
change (assist/explain_error.py), streamed to the panel.

The whole feature is this module, its task (assist/explain_error.py) and one line in
lsp/__init__.py (CONTRIBUTING.md, "Adding a task").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from chmocoder.analysis.document import Document
from chmocoder.assist.offers import Offer, short
from chmocoder.assist.results import ReportedError, describe_all, explain_title, facts_then
from chmocoder.engine.errors import Failure
from chmocoder.lsp.convert import to_offsets
from chmocoder.lsp.features.actions import CodeActions, model_action
from chmocoder.lsp.features.commands import document_of, focus_of, target_of
from chmocoder.lsp.features.diagnostics import SOURCE
from chmocoder.lsp.panel import Stream
from chmocoder.lsp.progress import ModelProgress
from chmocoder.lsp.server import ChmoServer

COMMAND = "chmocoder.explainErrors"

_SHOWN = (None, types.DiagnosticSeverity.Error, types.DiagnosticSeverity.Warning)


def by_line(diagnostics: Sequence[types.Diagnostic]) -> dict[int, list[types.Diagnostic]]:
    """Other tools' errors and warnings by the (0-based) line they start on: several on one
    line are one fix that addresses them all."""
    lines: dict[int, list[types.Diagnostic]] = {}
    for diagnostic in diagnostics:
        if diagnostic.source != SOURCE and diagnostic.severity in _SHOWN:
            lines.setdefault(diagnostic.range.start.line, []).append(diagnostic)
    return lines


def reported(line: int, diagnostic: types.Diagnostic) -> ReportedError:
    related = tuple(r.message for r in diagnostic.related_information or ())
    code = "" if diagnostic.code is None else str(diagnostic.code)
    return ReportedError(line + 1, diagnostic.message, diagnostic.source or "", code, related)


def error_actions(
    ls: ChmoServer, doc: Document, params: types.CodeActionParams
) -> list[types.CodeAction]:
    actions = []
    for line, group in by_line(params.context.diagnostics).items():
        spans = [to_offsets(doc, d.range, ls.encoding) for d in group]
        start, end = min(a for a, _ in spans), max(b for _, b in spans)
        errors = [reported(line, d) for d in group]
        more = len(errors) - 1
        title = f"Fix “{short(group[0].message)}”" + (f" and {more} more" if more > 0 else "")
        detail = "Problems the editor reports:\n" + describe_all(errors)
        fix = Offer(title, "quickfix", start, end, task="fix", detail=detail)
        actions.append(model_action(ls, doc, fix, group))
        plural = "these errors" if more > 0 else "this error"
        argument = {
            "uri": doc.uri,
            "range": params.range,
            "errors": [dataclasses.asdict(e) for e in errors],
        }
        command = types.Command(title=f"Explain {plural}", command=COMMAND, arguments=[argument])
        actions.append(
            types.CodeAction(
                title=f"ChMOCoder: Explain {plural}", diagnostics=group, command=command
            )
        )
    return actions


async def explain_errors(ls: ChmoServer, *args: Any) -> dict[str, str]:
    """chmocoder.explainErrors {uri, range, errors: [{line, message, source, code, related}]}."""
    from chmocoder.assist.explain_error import ExplainError  # pydantic: not at start-up

    target = target_of(args)
    doc = document_of(ls, target)
    if not target.errors:
        raise JsonRpcInvalidParams("errors: at least one error is required")
    errors = [
        ReportedError(e.line, e.message, e.source, e.code, tuple(e.related)) for e in target.errors
    ]
    focus = focus_of(ls, doc, target)
    title = explain_title(errors)
    task = ExplainError(ls.assistant().gen)
    async with ModelProgress(ls, "ChMOCoder: explaining the error") as progress:
        stream = Stream(ls, title)
        try:
            explanation = await ls.work.run(
                doc.uri,
                task.explain(focus, errors, path=ls.relative_path(doc.uri), on_token=stream,
                             on_progress=progress.token),
            )  # fmt: skip
        except Failure as exc:
            ls.tell_failure(title, exc)
            return stream.finish(f"*No explanation: {exc.message}*")
    quoted = "\n".join(f"> {e.describe()}" for e in errors)
    return stream.finish(facts_then(quoted, explanation.markdown))


def register(server: ChmoServer, actions: CodeActions) -> None:
    actions.add(error_actions)
    server.command(COMMAND)(explain_errors)
