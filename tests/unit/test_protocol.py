"""ChmoProtocol, in process: messages in through pygls's own reader path, bytes out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chmocoder.lsp import create_server


class Sink:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.messages.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))

    def close(self) -> None:
        pass


async def test_notifications_leave_nothing_behind_and_one_copy_of_the_text() -> None:
    """pygls files a future per notification and never takes it out (one per keystroke);
    and its workspace would keep a second copy of every document."""
    server = create_server()
    protocol = server.protocol
    sink = Sink()
    protocol.set_writer(sink)

    def send(method: str, params: dict[str, Any], id_: int | None = None) -> None:
        data: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if id_ is not None:
            data["id"] = id_
        protocol.handle_message(protocol.structure_message(data))

    send("initialize", {"capabilities": {}, "processId": None, "rootUri": None}, 1)
    send("initialized", {})
    uri = "file:///t.py"
    item = {"uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}
    send("textDocument/didOpen", {"textDocument": item})
    start = {"line": 0, "character": 0}
    for version in range(2, 202):
        send(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": start, "end": start}, "text": "y"}],
            },
        )
    await asyncio.sleep(0.05)
    assert server.documents[uri].source == b"y" * 200 + b"x = 1\n"
    published = [m for m in sink.messages if m.get("method") == "textDocument/publishDiagnostics"]
    assert [m["params"]["version"] for m in published] == list(range(1, 202))
    assert not any(m.get("method") == "window/showMessage" for m in sink.messages)
    assert protocol._request_futures == {}
    assert list(server.workspace.text_documents) == []
    send("textDocument/didClose", {"textDocument": {"uri": uri}})
    await asyncio.sleep(0.01)
    assert uri not in server.documents and protocol._request_futures == {}
