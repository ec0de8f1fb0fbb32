"""Code actions: listed instantly (no model); the model runs in codeAction/resolve.

Fix (per syntax error or finding, per line of other tools' errors and warnings, with
"Explain this error" beside it, and "fix this function"), Add docstring,
Simplify: each resolves to a WorkspaceEdit on its target range, checked by
re-parsing before it is offered. Explain runs as a command and answers in the
client's panel. Syntax errors whose fix is certain (a missing token, an
unclosed bracket) get an instant fix that needs no model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from lsprotocol import types

from chmocoder.analysis.document import Document
from chmocoder.assist.offers import Reported, offers
from chmocoder.assist.results import Edit, ReportedError
from chmocoder.engine.errors import Failure
from chmocoder.lsp.convert import byte_range, to_offsets
from chmocoder.lsp.features.diagnostics import SOURCE
from chmocoder.lsp.features.hover import warm_ahead
from chmocoder.lsp.progress import ModelProgress
from chmocoder.lsp.server import ChmoServer


def workspace_edit(ls: ChmoServer, doc: Document, edit: Edit) -> types.WorkspaceEdit:
    text_edit = types.TextEdit(
        range=byte_range(doc, edit.start, edit.end, ls.encoding), new_text=edit.new_text
    )
    workspace = ls.client_capabilities.workspace
    versioned = workspace and workspace.workspace_edit and workspace.workspace_edit.document_changes
    if versioned:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=doc.uri, version=doc.version
                    ),
                    edits=[text_edit],
                )
            ]
        )
    return types.WorkspaceEdit(changes={doc.uri: [text_edit]})


_KINDS = {
    "quickfix": types.CodeActionKind.QuickFix,
    "rewrite": types.CodeActionKind.RefactorRewrite,
    "explain": types.CodeActionKind.Empty,
}


def list_actions(
    ls: ChmoServer, doc: Document, params: types.CodeActionParams
) -> list[types.CodeAction]:
    """The assistant's offers (assist/offers.py) as code actions: a certain fix carries its
    edit, an explanation runs as a command, a model task resolves later (ActionData)."""
    from chmocoder.lsp.wire import ActionData  # pydantic: after start-up (see lsp/__init__)

    start, end = to_offsets(doc, params.range, ls.encoding)
    reported: list[Reported] = []
    covers: list[list[types.Diagnostic]] = []
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != SOURCE:
            continue
        a, b = to_offsets(doc, diagnostic.range, ls.encoding)
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        reported.append(Reported(a, b, diagnostic.message, diagnostic.code == "syntax",
                                 str(data.get("suggestion") or "")))  # fmt: skip
        covers.append([diagnostic])
    for line, group in _others_by_line(params.context.diagnostics).items():
        spans = [to_offsets(doc, d.range, ls.encoding) for d in group]
        errors = tuple(_reported_error(line, d) for d in group)
        reported.append(Reported(min(a for a, _ in spans), max(b for _, b in spans),
                                 group[0].message, False, errors=errors))  # fmt: skip
        covers.append(group)
    actions: list[types.CodeAction] = []
    for offer in offers(doc, start, end, reported):
        action = types.CodeAction(title=f"ChMOCoder: {offer.title}", kind=_KINDS[offer.kind])
        if offer.answers is not None:
            action.diagnostics = covers[reported.index(offer.answers)]
        if offer.edit is not None:
            action.edit = workspace_edit(ls, doc, offer.edit)
            action.is_preferred = True
        elif offer.task is None:
            argument: dict[str, object] = {"uri": doc.uri, "range": params.range}
            if offer.answers is not None and offer.answers.errors:
                argument["errors"] = [dataclasses.asdict(e) for e in offer.answers.errors]
            action.command = types.Command(
                title=offer.title, command="chmocoder.explain", arguments=[argument]
            )
        else:
            carried = ActionData(uri=doc.uri, version=doc.version, task=offer.task,
                                 start=offer.start, end=offer.end, detail=offer.detail)  # fmt: skip
            action.data = carried.model_dump()
        actions.append(action)
    only = params.context.only
    if only:
        actions = [a for a in actions if any((a.kind or "").startswith(k) for k in only)]
    return actions


_SHOWN = (None, types.DiagnosticSeverity.Error, types.DiagnosticSeverity.Warning)
"""Other tools' diagnostics that get a fix and an explanation (not hints and information)."""


def _others_by_line(
    diagnostics: Sequence[types.Diagnostic],
) -> dict[int, list[types.Diagnostic]]:
    """Other tools' errors and warnings by the (0-based) line they start on: several on one
    line are one fix that addresses them all."""
    by_line: dict[int, list[types.Diagnostic]] = {}
    for diagnostic in diagnostics:
        if diagnostic.source != SOURCE and diagnostic.severity in _SHOWN:
            by_line.setdefault(diagnostic.range.start.line, []).append(diagnostic)
    return by_line


def _reported_error(line: int, diagnostic: types.Diagnostic) -> ReportedError:
    related = tuple(r.message for r in diagnostic.related_information or ())
    code = "" if diagnostic.code is None else str(diagnostic.code)
    return ReportedError(line + 1, diagnostic.message, diagnostic.source or "", code, related)


async def resolve_action(ls: ChmoServer, action: types.CodeAction) -> types.CodeAction:
    from pydantic import ValidationError

    from chmocoder.lsp.wire import ActionData

    try:
        data = ActionData.model_validate(action.data)
    except ValidationError:
        return action  # not one of ours, or from a client that mangled it: nothing to add
    doc = ls.document(data.uri)
    if doc is None or doc.version != data.version:
        ls.tell(
            "the document changed since this action was listed: ask for it again",
            types.MessageType.Info,
        )
        return action
    title = action.title.removeprefix("ChMOCoder: ")
    try:
        async with ModelProgress(ls, f"ChMOCoder: {title}") as progress:
            fix = await ls.work.run(
                doc.uri,
                ls.assistant().edit(
                    doc,
                    data.task,
                    data.start,
                    data.end,
                    detail=data.detail,
                    path=ls.relative_path(doc.uri),
                    on_token=progress.token,
                ),
            )
    except Failure as exc:
        ls.tell_failure(title, exc)
        action.disabled = types.CodeActionDisabled(reason=exc.message)
        return action
    if doc.version != data.version:
        ls.tell(
            f"{title} was not applied: the document changed while the model worked",
            types.MessageType.Info,
        )
        return action
    if fix.edit is None:
        reason = fix.rejected or "no usable answer"
        ls.tell(f"{title} was not applied: {reason}", types.MessageType.Info)
        action.disabled = types.CodeActionDisabled(reason=reason)
        return action
    action.edit = workspace_edit(ls, doc, fix.edit)
    if fix.description:
        action.title = f"ChMOCoder: {title} — {fix.description}"
        ls.tell(f"{title}: {fix.description}", types.MessageType.Info)
    return action


def register(server: ChmoServer) -> None:
    options = types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite],
        resolve_provider=True,
    )

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(
        ls: ChmoServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        doc = ls.document(params.text_document.uri)
        if doc is None:
            return None
        actions = list_actions(ls, doc, params)
        warm_ahead(ls, doc, to_offsets(doc, params.range, ls.encoding)[0])
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: ChmoServer, action: types.CodeAction) -> types.CodeAction:
        return await resolve_action(ls, action)
