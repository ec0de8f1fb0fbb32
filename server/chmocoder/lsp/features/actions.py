"""Code actions: listed instantly (no model); the model runs in codeAction/resolve.

Fix (per syntax error or finding, and "fix this function"), Add docstring,
Simplify: each resolves to a WorkspaceEdit on its target range, checked by
re-parsing before it is offered. Explain runs as a command and answers in the
client's panel. Syntax errors whose fix is certain (a missing token, an
unclosed bracket) get an instant fix that needs no model. Other features add their own
sources of actions (`CodeActions.add`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from chmocoder import checks
from chmocoder.analysis.document import Document
from chmocoder.assist.edits import apply
from chmocoder.assist.offers import Offer, Reported, offers
from chmocoder.assist.results import Edit, Fix
from chmocoder.checks import CheckError, WorkingCopy
from chmocoder.engine.errors import Failure
from chmocoder.lsp.convert import byte_range, to_offsets
from chmocoder.lsp.features.diagnostics import SOURCE
from chmocoder.lsp.features.hover import warm_ahead
from chmocoder.lsp.progress import ModelProgress
from chmocoder.lsp.server import ChmoServer

if TYPE_CHECKING:
    from chmocoder.engine.types import TokenCallback
    from chmocoder.lsp.wire import ActionData


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


ActionSource = Callable[[ChmoServer, Document, types.CodeActionParams], list[types.CodeAction]]
"""What a feature offers as code actions at a place (listed instantly: no model)."""


def model_action(
    ls: ChmoServer,
    doc: Document,
    offer: Offer,
    diagnostics: Sequence[types.Diagnostic] | None = None,
) -> types.CodeAction:
    """An offer as a code action: a certain fix carries its edit; a model task resolves
    later (`resolve_action`, with the task and range the action carries); an explanation
    runs chmocoder.explain on the range."""
    from chmocoder.lsp.wire import ActionData  # pydantic: after start-up (see lsp/__init__)

    action = types.CodeAction(title=f"ChMOCoder: {offer.title}", kind=_KINDS[offer.kind])
    if diagnostics:
        action.diagnostics = list(diagnostics)
    if offer.edit is not None:
        action.edit = workspace_edit(ls, doc, offer.edit)
        action.is_preferred = True
    elif offer.task is None:
        at = byte_range(doc, offer.start, offer.end, ls.encoding)
        action.command = types.Command(
            title=offer.title,
            command="chmocoder.explain",
            arguments=[{"uri": doc.uri, "range": at}],
        )
    else:
        carried = ActionData(uri=doc.uri, version=doc.version, task=offer.task,
                             start=offer.start, end=offer.end, detail=offer.detail)  # fmt: skip
        action.data = carried.model_dump()
    return action


def own_actions(
    ls: ChmoServer, doc: Document, params: types.CodeActionParams
) -> list[types.CodeAction]:
    """The assistant's offers (assist/offers.py) for our own diagnostics on the range and
    for the definition around it."""
    start, end = to_offsets(doc, params.range, ls.encoding)
    reported: list[Reported] = []
    covers: list[types.Diagnostic] = []
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != SOURCE:
            continue
        a, b = to_offsets(doc, diagnostic.range, ls.encoding)
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        reported.append(Reported(a, b, diagnostic.message, diagnostic.code == "syntax",
                                 str(data.get("suggestion") or "")))  # fmt: skip
        covers.append(diagnostic)
    actions = []
    for offer in offers(doc, start, end, reported):
        answers = None if offer.answers is None else [covers[reported.index(offer.answers)]]
        actions.append(model_action(ls, doc, offer, answers))
    return actions


class CodeActions:
    """The code-action feature: what every source offers at the place, those that answer a
    shown problem first; the model runs only in `codeAction/resolve`. Our own offers are
    the first source; a feature adds its own with `add` (lsp/features/errors.py does)."""

    def __init__(self) -> None:
        self.sources: list[ActionSource] = [own_actions]

    def add(self, source: ActionSource) -> None:
        self.sources.append(source)

    def list(
        self, ls: ChmoServer, doc: Document, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        actions = [action for source in self.sources for action in source(ls, doc, params)]
        actions.sort(key=lambda action: not action.diagnostics)  # stable: answers first
        only = params.context.only
        if only:
            actions = [a for a in actions if any((a.kind or "").startswith(k) for k in only)]
        return actions

    def register(self, server: ChmoServer) -> None:
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
            actions = self.list(ls, doc, params)
            warm_ahead(ls, doc, to_offsets(doc, params.range, ls.encoding)[0])
            return actions

        @server.feature(types.CODE_ACTION_RESOLVE)
        async def resolve(ls: ChmoServer, action: types.CodeAction) -> types.CodeAction:
            return await resolve_action(ls, action)


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
    command = ls.settings.fix.check.strip() if data.task == "fix" else ""
    try:
        async with ModelProgress(ls, f"ChMOCoder: {title}") as progress:
            fix = await ls.work.run(doc.uri, _edit(ls, doc, data, progress.token, command))
    except Failure as exc:
        ls.tell_failure(title, exc)
        action.disabled = types.CodeActionDisabled(reason=exc.message)
        return action
    except CheckError as exc:
        ls.tell(f"{title}: {exc}")
        action.disabled = types.CodeActionDisabled(reason=str(exc))
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
    checked = "(fix.check passes with it.)" if command else ""
    said = " ".join(
        p
        for p in (fix.description, f"(Less sure: {fix.caveat}.)" if fix.caveat else "", checked)
        if p
    )
    if said:
        action.title = f"ChMOCoder: {title} — {said}"
        ls.tell(f"{title}: {said}", types.MessageType.Info)
    return action


async def _edit(
    ls: ChmoServer, doc: Document, data: ActionData, on_token: TokenCallback, command: str
) -> Fix:
    """The action's edit; with `fix.check` set (`command`), only a candidate the user's
    check passes with (checks.py): run first on the file as it is, in a copy of the
    workspace folder. If it fails there, what it printed is told to a second round of
    candidates, as `fix --check` does; if it passes, it guards the fix (a candidate that
    breaks it is not offered), where the command line refuses such a check: the setting
    stands for every fix in the workspace, not for one bug."""
    make_fix = functools.partial(
        ls.assistant().edit, doc, data.task, data.start, data.end,
        detail=data.detail, path=ls.relative_path(doc.uri), on_token=on_token,
    )  # fmt: skip
    if not command:
        return await make_fix()
    file = to_fs_path(doc.uri) if doc.uri.startswith("file:") else None
    if file is None:
        raise CheckError("fix.check runs on files saved in a folder: save this one first")
    root = ls.workspace_root() or Path(file).parent
    copy = WorkingCopy(
        root, Path(file), command, label="fix.check", hint="open the project's folder"
    )
    await asyncio.to_thread(copy.__enter__)
    try:
        first = await checks.first_run(copy, doc.source)

        async def accept(edit: Edit) -> str | None:
            return await checks.passes(copy, apply(doc, edit))

        return await make_fix(accept=accept, told_after=checks.told(first))
    finally:
        await asyncio.to_thread(copy.__exit__, None, None, None)
