"""Commands: chmocoder.ask, chmocoder.explain, chmocoder.review, chmocoder.clearHistory.

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
from chmocoder.lsp.panel import new_answer_id, show_markdown
from chmocoder.lsp.progress import ModelProgress
from chmocoder.lsp.server import ChmoServer

if TYPE_CHECKING:
    from chmocoder.lsp.wire import Target

THROTTLE_S = 0.1


def _target(args: tuple[Any, ...], *, needs_question: bool = False) -> Target:
    from chmocoder.lsp.wire import parse_target  # pydantic, at the first command (wire.py)

    return parse_target(args, needs_question=needs_question)


def _document(ls: ChmoServer, target: Target) -> Document:
    doc = ls.document(target.uri)
    if doc is None:
        raise JsonRpcInvalidParams(f"{target.uri} is not open")
    return doc


def _offsets(ls: ChmoServer, doc: Document, target: Target) -> tuple[int, int]:
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


class _Stream:
    """Forwards pieces to the panel as the full text so far, at most every THROTTLE_S."""

    def __init__(self, ls: ChmoServer, title: str) -> None:
        self.ls, self.title = ls, title
        self.id = new_answer_id()
        self.text = ""
        self._sent = 0.0

    def __call__(self, piece: str) -> None:
        self.text += piece
        now = self.ls.loop.time()
        if now - self._sent >= THROTTLE_S:
            self._sent = now
            show_markdown(self.ls, self.id, self.title, self.text, done=False)

    def finish(self, markdown: str) -> dict[str, str]:
        show_markdown(self.ls, self.id, self.title, markdown, done=True)
        return {"id": self.id, "title": self.title, "markdown": markdown}


async def _explain_errors(
    ls: ChmoServer, doc: Document, focus: Focus, target: Target
) -> dict[str, str]:
    """chmocoder.explain with `errors`: what they mean here and what to change."""
    from chmocoder.assist.results import ReportedError

    errors = [
        ReportedError(e.line, e.message, e.source, e.code, tuple(e.related)) for e in target.errors
    ]
    title = "Explain: " + errors[0].message.strip().split("\n", 1)[0][:80]
    async with ModelProgress(ls, "ChMOCoder: explaining the error") as progress:
        stream = _Stream(ls, title)
        try:
            explanation = await ls.work.run(
                doc.uri,
                ls.assistant().explain_error(focus, errors, path=ls.relative_path(doc.uri),
                                             on_token=stream, on_progress=progress.token),
            )  # fmt: skip
        except Failure as exc:
            ls.tell_failure(title, exc)
            return stream.finish(f"*No explanation: {exc.message}*")
    quoted = "\n".join(f"> {e.describe()}" for e in errors)
    return stream.finish(facts_then(quoted, explanation.markdown))


def register(server: ChmoServer, diagnostics: Diagnostics) -> None:
    @server.command("chmocoder.ask")
    async def ask(ls: ChmoServer, *args: Any) -> dict[str, Any]:
        target = _target(args, needs_question=True)
        doc = _document(ls, target)
        start, end = _offsets(ls, doc, target)
        title = f"Q: {target.question.strip()[:80]}"
        async with ModelProgress(ls, "ChMOCoder: answering") as progress:
            stream = _Stream(ls, title)
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

    @server.command("chmocoder.explain")
    async def explain(ls: ChmoServer, *args: Any) -> dict[str, str]:
        target = _target(args)
        doc = _document(ls, target)
        start, end = _offsets(ls, doc, target)
        focus = Focus.at(doc, start)
        inner = focus.inner
        if inner is None:  # no definition at the cursor: the selection is explained
            focus = Focus.at(doc, start, (start, end))
        if target.errors:
            return await _explain_errors(ls, doc, focus, target)
        facts = ls.assistant().facts(focus)
        title = f"Explain {inner.name}" if inner else "Explain selection"

        async with ModelProgress(ls, f"ChMOCoder: {title.lower()}") as progress:
            stream = _Stream(ls, title)
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

    @server.command("chmocoder.review")
    async def review(ls: ChmoServer, *args: Any) -> dict[str, int]:
        target = _target(args)
        doc = _document(ls, target)
        calls, findings = await diagnostics.run_review(ls, doc)
        return {"modelCalls": calls, "findings": findings}

    @server.command("chmocoder.clearHistory")
    def clear_history(ls: ChmoServer, *args: Any) -> dict[str, int]:
        uri = (
            args[0].get("uri")
            if args and isinstance(args[0], dict)
            else (args[0] if args else None)
        )
        history = ls.assistant().history
        removed = history.clear(str(uri) if uri else None) if history else 0
        return {"removed": removed}
