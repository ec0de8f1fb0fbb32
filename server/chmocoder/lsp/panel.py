"""What the server shows besides LSP's own features: answers streamed to the client's panel
(or, for clients without one, written to a file the client is asked to show) and the
model's state for a status bar. Clients that show them declare
capabilities.experimental.chmocoder.markdownPanel = true."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from lsprotocol import types

from chmocoder.lsp.connection import Connection

log = logging.getLogger(__name__)

MARKDOWN_NOTIFICATION = "chmocoder/markdown"
"""Server -> client: {id, title, markdown, done}. Sent while an answer streams (full text so far)."""

STATUS_NOTIFICATION = "chmocoder/status"


def has_panel(ls: Connection) -> bool:
    experimental = ls.client_capabilities.experimental
    if isinstance(experimental, dict):
        own = experimental.get("chmocoder")
        return isinstance(own, dict) and bool(own.get("markdownPanel"))
    return False


def show_markdown(ls: Connection, answer_id: str, title: str, markdown: str, done: bool) -> None:
    """Stream markdown to the client's panel; clients without one get a file at the end."""
    if has_panel(ls):
        ls.protocol.notify(
            MARKDOWN_NOTIFICATION,
            {"id": answer_id, "title": title, "markdown": markdown, "done": done},
        )
        return
    if not done:
        return
    folder = ls.settings.cache_dir / "answers"
    path = folder / f"{answer_id}.md"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {title}\n\n{markdown}\n", encoding="utf-8")
        path.chmod(0o600)
    except OSError as exc:  # an unwritable cache folder: the answer still reaches the user
        from chmocoder import storage  # sqlite3: not at start-up

        storage.write_failed("answer folder", folder, exc)
        # shown, not logged: the answer speaks of the user's code (logged only with logPrompts)
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info, message=f"ChMOCoder: {title}: {markdown[:2000]}"
            )
        )
        if ls.settings.log_prompts:
            log.info("answer shown as a message: %s: %s", title, markdown)
        return
    window = ls.client_capabilities.window
    if window is not None and window.show_document and window.show_document.support:
        ls.window_show_document(types.ShowDocumentParams(uri=path.as_uri(), take_focus=False))
    else:
        ls.tell(f"{title}: the answer is in {path}", types.MessageType.Info)


def notify_status(
    ls: Connection, state: str, detail: str = "", tokens_per_second: float | None = None
) -> None:
    """`chmocoder/status` {state: loading|generating|waiting|ready|error, detail,
    tokensPerSecond} (waiting: on a busy model server, which is asked again),
    for clients that show it in a status bar (the same capability as the panel)."""
    if has_panel(ls):
        params: dict[str, Any] = {"state": state, "detail": detail}
        if tokens_per_second is not None:
            params["tokensPerSecond"] = round(tokens_per_second, 1)
        ls.protocol.notify(STATUS_NOTIFICATION, params)


def new_answer_id() -> str:
    return uuid.uuid4().hex[:12]


THROTTLE_S = 0.1


class Stream:
    """An answer as it streams: each piece is forwarded to the panel as the full text so
    far, at most every THROTTLE_S; `finish` shows the final text and is the command's
    result, {"id", "title", "markdown"}."""

    def __init__(self, ls: Connection, title: str) -> None:
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
