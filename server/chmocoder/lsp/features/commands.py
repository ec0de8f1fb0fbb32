"""Commands: chmocoder.ask, chmocoder.explain, chmocoder.review, chmocoder.clearHistory;
and the helpers other features' commands share (their arguments, checked).

Answers stream to the client's panel (`chmocoder/markdown` notifications) and
are also the command's result: {"id", "title", "markdown"}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from chmocoder.analysis.context import Focus
from chmocoder.analysis.document import Document
from chmocoder.assist.results import facts_then
from chmocoder.engine.errors import Failure
from chmocoder.lsp.convert import to_offset, to_offsets
from chmocoder.lsp.features.diagnostics import Diagnostics
from chmocoder.lsp.panel import Stream
from chmocoder.lsp.progress import ModelProgress
from chmocoder.lsp.server import ChmoServer

if TYPE_CHECKING:
    from chmocoder.lsp.wire import Target


def target_of(args: tuple[Any, ...], *, needs_question: bool = False) -> Target:
    """A command's arguments, checked (lsp/wire.py): {uri, range|position, question, ...}."""
    from chmocoder.lsp.wire import parse_target  # pydantic, at the first command (wire.py)

    return parse_target(args, needs_question=needs_question)


def document_of(ls: ChmoServer, target: Target) -> Document:
    doc = ls.document(target.uri)
    if doc is None:
        raise JsonRpcInvalidParams(f"{target.uri} is not open")
    return doc


def offsets_of(ls: ChmoServer, doc: Document, target: Target) -> tuple[int, int]:
    if target.range is not None:
        r = types.Range(
            start=types.Position(target.range.start.line, target.range.start.character),
            end=types.Position(target.range.end.line, target.range.end.character),
        )
        return to_offsets(doc, r, ls.encoding)
    if target.position is not None:
        offset = to_offset(
            doc, types.Position(target.position.line, target.position.character), ls.encoding
        )
        return offset, offset
    return 0, 0


def focus_of(ls: ChmoServer, doc: Document, target: Target) -> Focus:
    """The definitions at the target's start; outside any, the selection itself."""
    start, end = offsets_of(ls, doc, target)
    focus = Focus.at(doc, start)
    return focus if focus.inner is not None else Focus.at(doc, start, (start, end))


async def ask(ls: ChmoServer, *args: Any) -> dict[str, Any]:
    target = target_of(args, needs_question=True)
    doc = document_of(ls, target)
    start, end = offsets_of(ls, doc, target)
    title = f"Q: {target.question.strip()[:80]}"
    async with ModelProgress(ls, "ChMOCoder: answering") as progress:
        stream = Stream(ls, title)
        try:
            answer = await ls.work.run(
                doc.uri,
                ls.assistant().ask(doc, start, end, target.question.strip(), path=ls.relative_path(doc.uri),
                                   scope=doc.uri, on_token=stream,
                                   on_progress=progress.token),
            )  # fmt: skip
        except Failure as exc:
            ls.tell_failure("The question", exc)
            return stream.finish(f"*No answer: {exc.message}*")
    return {**stream.finish(answer.markdown), "turn": len(answer.history) + 1}


async def explain(ls: ChmoServer, *args: Any) -> dict[str, str]:
    target = target_of(args)
    doc = document_of(ls, target)
    focus = focus_of(ls, doc, target)
    inner = focus.inner
    facts = ls.assistant().facts(focus)
    title = f"Explain {inner.name}" if inner else "Explain selection"

    async with ModelProgress(ls, f"ChMOCoder: {title.lower()}") as progress:
        stream = Stream(ls, title)
        try:
            explanation = await ls.work.run(
                doc.uri,
                ls.assistant().explain(
                    focus,
                    path=ls.relative_path(doc.uri),
                    on_token=stream,
                    on_progress=progress.token,
                ),
            )
        except Failure as exc:
            ls.tell_failure(title, exc)
            return stream.finish(facts_then(facts, f"*No explanation: {exc.message}*"))
    return stream.finish(facts_then(facts, explanation.markdown))


def clear_history(ls: ChmoServer, *args: Any) -> dict[str, int]:
    uri = args[0].get("uri") if args and isinstance(args[0], dict) else (args[0] if args else None)
    history = ls.assistant().history
    removed = history.clear(str(uri) if uri else None) if history else 0
    return {"removed": removed}


def register(server: ChmoServer, diagnostics: Diagnostics) -> None:
    server.command("chmocoder.ask")(ask)
    server.command("chmocoder.explain")(explain)

    @server.command("chmocoder.review")  # pygls reads a handler's hints: a function, not a partial
    async def review(ls: ChmoServer, *args: Any) -> dict[str, int]:
        """The review now, through the connection's Diagnostics (the review state)."""
        target = target_of(args)
        doc = document_of(ls, target)
        calls, findings = await diagnostics.run_review(ls, doc)
        return {"modelCalls": calls, "findings": findings}

    server.command("chmocoder.clearHistory")(clear_history)
