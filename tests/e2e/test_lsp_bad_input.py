"""Bad input over LSP: each gets a result or a proper LSP error, and the server answers the next request."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from ..support.common import (
    code_actions,
    initialize,
    tcp_server,
    wait_for_diagnostics,
)

SOURCE = "def clamp(value, low, high):\n    return max(low, min(value, high))\n"


@pytest.fixture
async def client(lsp: LanguageClient, tiny_model: Path, tmp_path: Path) -> LanguageClient:
    init = {
        "model": str(tiny_model),
        "nCtx": 2048,
        "nThreads": 1,
        "maxTokens": 8,
        "daemonIdleS": 5,
        "cacheDir": str(lsp.cache),  # type: ignore[attr-defined]
        "review": {"mode": "off"},
    }
    return await initialize(lsp, tmp_path, init)  # type: ignore[no-any-return]


def open_text(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


async def still_answers(client: LanguageClient) -> None:
    uri = "file:///alive/check.py"
    open_text(client, uri, SOURCE)
    hover = await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri), position=types.Position(1, 12)
            )
        ),
        60,
    )
    assert hover is not None


async def test_positions_past_the_end_and_reversed_ranges(client: LanguageClient) -> None:
    uri = "file:///bad/positions.py"
    open_text(client, uri, SOURCE)
    far = types.Position(line=10_000, character=10_000)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri), position=far)
    )
    assert hover is None or isinstance(hover.contents, types.MarkupContent)
    for where in (uri, "file:///bad/never-opened.py"):
        completion = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(where),
                position=far,
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
        assert completion is None  # the tiny model has no fill-in-the-middle tokens
    reversed_range = types.Range(start=types.Position(1, 20), end=types.Position(0, 3))
    await code_actions(client, uri, reversed_range)
    negative = types.Position(line=0, character=0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=far, end=negative), text="x"
                )
            ],
        )
    )
    await still_answers(client)


async def test_ten_megabyte_and_binary_documents(client: LanguageClient) -> None:
    big = "file:///bad/big.py"
    open_text(client, big, "x = 1\n" * 1_700_000)
    diagnostics = await wait_for_diagnostics(client, big, 1)
    assert [d.code for d in diagnostics] == ["not-parsed"]
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(big), position=types.Position(5, 0)
        )
    )
    assert hover is None  # no definitions known in an unparsed file, and no crash
    binary = "file:///bad/blob.py"
    open_text(client, binary, "\x00\x01\x02\ufffd\x7f" * 2000 + "\ndef f(): pass\n")
    assert await wait_for_diagnostics(client, binary, 1)
    await still_answers(client)


async def test_five_hundred_hovers_in_a_burst(client: LanguageClient) -> None:
    uri = "file:///bad/burst.py"
    open_text(client, uri, SOURCE)
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(1, 12)
    )
    results = await asyncio.wait_for(
        asyncio.gather(*(client.text_document_hover_async(params) for _ in range(500))), 120
    )
    texts = {r.contents.value for r in results if r is not None}  # type: ignore[union-attr]
    assert len(results) == 500 and len(texts) == 1  # one explanation, shared by all


async def test_cancel_storm(client: LanguageClient) -> None:
    uri = "file:///bad/storm.py"
    open_text(client, uri, SOURCE * 20)
    ids = [f"storm-{i}" for i in range(100)]
    futures = [
        asyncio.wrap_future(
            client.protocol.send_request(
                types.TEXT_DOCUMENT_HOVER,
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri),
                    position=types.Position(2 * i + 1, 8),
                ),
                msg_id=msg_id,
            )
        )
        for i, msg_id in enumerate(ids)
    ]
    for msg_id in ids:
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    outcomes = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 120)
    assert len(outcomes) == 100
    for outcome in outcomes:  # each is a hover, or the LSP "request cancelled" error
        assert (
            outcome is None or isinstance(outcome, types.Hover) or "cancel" in str(outcome).lower()
        ), outcome

    await still_answers(client)


async def test_unknown_method_is_method_not_found(client: LanguageClient) -> None:
    with pytest.raises(Exception, match=r"not found|Method"):
        await client.protocol.send_request_async("chmocoder/noSuchThing", {})
    await still_answers(client)


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def test_malformed_json_rpc_frames(tmp_path: Path) -> None:
    """Garbage, a bad JSON body and a request with wrong params, then a valid request: it is answered."""
    initialize = _frame(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
    )
    garbage = b"Content-Length: 17\r\n\r\n{this is not json"
    wrong_params = _frame(
        {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {"x": 1}}
    )
    shutdown = _frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
    exit_ = _frame({"jsonrpc": "2.0", "method": "exit"})
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "chmocoder", "serve"],
        input=initialize + garbage + wrong_params + shutdown + exit_,
        capture_output=True,
        timeout=60,
        env=env,
    )
    replies = [json.loads(part.split(b"\r\n\r\n", 1)[1]) for part in _split(result.stdout)]
    by_id = {r.get("id"): r for r in replies}
    assert "result" in by_id[1]
    assert by_id[2]["error"]["code"] == -32602  # invalid params
    assert "result" in by_id[3]  # the shutdown after the garbage was answered


def test_inline_completion_at_impossible_positions(tmp_path: Path) -> None:
    """A negative line or character: InvalidParams, with no traceback on stderr; a line past
    the end: no suggestion. The server answers what follows."""

    def request(request_id: int, line: int, character: int) -> bytes:
        position = {"line": line, "character": character}
        return _frame({"jsonrpc": "2.0", "id": request_id, "method": "textDocument/inlineCompletion",
                       "params": {"textDocument": {"uri": "file:///a.py"}, "position": position,
                                  "context": {"triggerKind": 1}}})  # fmt: skip

    opened = _frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument":
                     {"uri": "file:///a.py", "languageId": "python", "version": 1, "text": "x = 1\n"}}})  # fmt: skip
    messages = [
        _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
        _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
        opened,
        request(2, -1, 0),
        request(3, 0, -5),
        request(4, 99, 0),
    ]
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path),
           "CHMOCODER_REVIEW__MODE": "off"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "chmocoder", "serve"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(b"".join(messages))
    server.stdin.flush()
    by_id: dict[Any, dict[str, Any]] = {}
    while not {2, 3, 4} <= set(by_id):  # answered before `shutdown` (which cancels the rest)
        header = server.stdout.readline()
        assert header, "the server closed its output"
        if header.startswith(b"Content-Length:"):
            length = int(header.split(b":")[1])
            while server.stdout.readline().strip():
                pass  # other headers, then the blank line
            reply = json.loads(server.stdout.read(length))
            by_id[reply.get("id")] = reply
    shutdown = _frame({"jsonrpc": "2.0", "id": 5, "method": "shutdown"})
    _, stderr = server.communicate(shutdown + _frame({"jsonrpc": "2.0", "method": "exit"}), 60)
    assert by_id[2]["error"]["code"] == by_id[3]["error"]["code"] == -32602
    assert by_id[4].get("result", by_id[4]) is None, by_id[4]
    assert b"Traceback" not in stderr and b"Unknown message" not in stderr, stderr


def _split(stream: bytes) -> list[bytes]:
    parts = []
    while stream:
        header, _, rest = stream.partition(b"\r\n\r\n")
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        parts.append(header + b"\r\n\r\n" + rest[:length])
        stream = rest[length:]
    return parts


async def test_clients_without_a_panel_get_a_markdown_document(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = "file:///panel/less.py"
    open_text(client, uri, SOURCE)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="chmocoder.explain",
            arguments=[{"uri": uri, "position": {"line": 1, "character": 10}}],
        )
    )
    assert result["title"] == "Explain clamp"
    shown = client.shown_documents[-1]
    path = Path(shown.uri.removeprefix("file://"))
    assert path.parent == tmp_path / "cache" / "answers" and path.suffix == ".md"
    text = path.read_text()
    assert text.startswith("# Explain clamp") and result["markdown"] in text
    assert (path.stat().st_mode & 0o777) == 0o600


async def test_an_answer_that_cannot_be_written_is_shown_and_not_logged(
    client: LanguageClient, tiny_model: Path, full_disk: Path
) -> None:
    """A client without a panel, the cache folder on a full disk: the answer reaches the user
    in a message, and not the log (it speaks of their code; logPrompts is off)."""
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"model": str(tiny_model), "nCtx": 2048, "nThreads": 1, "maxTokens": 8,
                      "daemonIdleS": 5, "cacheDir": str(full_disk), "review": {"mode": "off"}}
        )
    )  # fmt: skip
    log_file = client.home / "xdg_state_home/chmocoder/log/chmocoder.log"  # type: ignore[attr-defined]
    assert log_file.exists()  # the server logs from its start: the check below can fail
    logged_before = log_file.stat().st_size
    uri = "file:///panel/full.py"
    open_text(client, uri, SOURCE.replace("clamp", "clamp_on_a_full_disk"))
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="chmocoder.explain",
            arguments=[{"uri": uri, "position": {"line": 1, "character": 10}}],
        )
    )
    assert "clamp_on_a_full_disk" in result["markdown"]
    shown = [m.message for m in client.messages]
    assert any(result["markdown"][:200] in m for m in shown), shown
    logged = [m.message for m in client.log_messages]
    assert any("the disk is full" in m for m in logged), logged
    assert not any("def clamp_on_a_full_disk" in m for m in logged), logged
    with log_file.open("rb") as f:
        f.seek(logged_before)
        assert b"def clamp_on_a_full_disk" not in f.read()


def _exchange(port: int, messages: list[dict[str, Any]], *until: bytes) -> bytes:
    import socket
    import time

    deadline = time.monotonic() + 30
    while True:  # the server writes its token file, then listens
        try:
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            break
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "the server did not listen"
            time.sleep(0.1)
    with connection:
        for message in messages:
            connection.sendall(_frame(message))
        received = b""
        while not all(marker in received for marker in until):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_serve_over_tcp_needs_the_token_and_loopback(tmp_path: Path) -> None:
    """`serve --tcp`: loopback only unless --allow-remote; a client without the token from the
    0600 token file is refused and disconnected; endpoint, cacheDir and fix.check (a command
    the server would run) come from where the server started, not from the client."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(tmp_path / "run"), "CHMOCODER_ENDPOINT": "http://127.0.0.1:9/v1"}  # fmt: skip
    (tmp_path / "run").mkdir(mode=0o700)
    remote = subprocess.run(
        [sys.executable, "-m", "chmocoder", "serve", "--tcp", f"0.0.0.0:{port}"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert remote.returncode == 2 and "--allow-remote" in remote.stderr
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
    # without the token: refused, and the connection is closed
    with tcp_server(env, port) as (_, token_file):
        token = token_file.read_text().strip()
        refused = _exchange(port, [initialize], b"token is required")
        assert b"token is required" in refused and b"serverInfo" not in refused
        assert len(token) > 30
    # with it: served; settings that send code or write elsewhere are the user's, not the client's
    with tcp_server(env, port) as (_, token_file):
        token = token_file.read_text().strip()
        hostile = {"endpoint": "http://attacker.example/v1", "cacheDir": str(tmp_path / "planted"),
                   "fix": {"check": f"touch {tmp_path / 'ran'}"}}  # fmt: skip
        with_token = dict(initialize, params={"capabilities": {},
                          "initializationOptions": {"token": token, **hostile}})  # fmt: skip
        initialized = {"jsonrpc": "2.0", "method": "initialized", "params": {}}
        received = _exchange(
            port, [with_token, initialized], b"setting fix.check ignored", b"serverInfo"
        )
        assert b'"serverInfo": {"name": "chmocoder"' in received
        assert b"setting endpoint ignored" in received
        assert not (tmp_path / "planted").exists()


@pytest.mark.parametrize(("shutdown", "code"), [(True, 0), (False, 1)])
def test_exit_status_follows_the_spec(tmp_path: Path, shutdown: bool, code: int) -> None:
    """`exit` after `shutdown` ends with 0, without it with 1; a request after `shutdown`
    gets InvalidRequest."""
    messages = [{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}]
    if shutdown:
        messages += [
            {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
            {"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {
                "textDocument": {"uri": "file:///x.py"}, "position": {"line": 0, "character": 0}}},
        ]  # fmt: skip
    messages.append({"jsonrpc": "2.0", "method": "exit"})
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "chmocoder", "serve"],
        input=b"".join(_frame(m) for m in messages), capture_output=True, env=env,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == code, result.stderr[-2000:]
    if shutdown:
        assert b'"id": 3' in result.stdout and b"-32600" in result.stdout


def test_exit_does_not_wait_for_a_stuck_model_server(tmp_path: Path) -> None:
    """A model server that sends a byte a second: shutdown and exit still end the process."""
    import http.server
    import threading
    import time

    class Trickle(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                for _ in range(120):
                    self.wfile.write(b":")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    source = tmp_path / "a.py"
    source.write_text("def f():\n    return 1\n")
    options = {"runtime": "openai", "model": "m", "cacheDir": str(tmp_path / "cache"),
               "endpoint": f"http://127.0.0.1:{httpd.server_address[1]}/v1"}  # fmt: skip
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "chmocoder", "serve"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert server.stdin is not None
    uri = source.as_uri()
    for message in [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"capabilities": {}, "initializationOptions": options}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": source.read_text()}}},
        {"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": {
            "command": "chmocoder.ask", "arguments": [uri, None, "What is this?"]}},
    ]:  # fmt: skip
        server.stdin.write(_frame(message))
    server.stdin.flush()
    time.sleep(3)  # the question is now waiting on the trickling server
    server.stdin.write(_frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
    server.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
    server.stdin.flush()
    started = time.monotonic()
    try:
        code = server.wait(15)
    finally:
        server.kill()
        httpd.shutdown()
    assert code == 0 and time.monotonic() - started < 15
