"""`serve --tcp` with several connections: each is a session of its own, authenticated on its
own; a failed one is closed alone; the token file goes when the server stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..support.common import tcp_server

SECRET = 'API_KEY = "s3cret-of-client-a"\n\n\ndef area(r):\n    return 3.14 * r * r\n'


class RawClient:
    """A plain JSON-RPC client over a socket: what it receives is kept, in order."""

    def __init__(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "the server did not listen"
                time.sleep(0.1)
        self.buffer = b""
        self.received: list[dict[str, Any]] = []
        self.closed = False

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def wait(self, test: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        """The first message received that passes the test (waiting for it)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.received:
                if test(message):
                    return message
            assert not self.closed, f"connection closed; received {self.received}"
            assert time.monotonic() < deadline, f"nothing came; received {self.received}"
            self._read(deadline - time.monotonic())

    def _read(self, timeout: float) -> None:
        self.sock.settimeout(max(timeout, 0.01))
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return
        if not chunk:
            self.closed = True
            return
        self.buffer += chunk
        while b"\r\n\r\n" in self.buffer:
            head, rest = self.buffer.split(b"\r\n\r\n", 1)
            length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
            if len(rest) < length:
                return
            self.received.append(json.loads(rest[:length]))
            self.buffer = rest[length:]

    def wait_closed(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.closed:
            assert time.monotonic() < deadline, "the connection stayed open"
            self._read(deadline - time.monotonic())

    def initialize(self, token: str | None, **options: Any) -> dict[str, Any]:
        if token is not None:
            options["token"] = token
        self.send(
            {
                "id": 1,
                "method": "initialize",
                "params": {"capabilities": {}, "initializationOptions": options},
            }
        )
        answer = self.wait(lambda m: m.get("id") == 1)
        if "result" in answer:
            self.send({"method": "initialized", "params": {}})
        return answer

    def hover(self, request_id: int, uri: str, line: int, character: int) -> None:
        self.send(
            {
                "id": request_id,
                "method": "textDocument/hover",
                "params": {
                    "textDocument": {"uri": uri},
                    "position": {"line": line, "character": character},
                },
            }
        )


def test_each_tcp_connection_is_its_own_authenticated_session(
    tmp_path: Path, tiny_model: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(run), "CHMOCODER_MODEL": str(tiny_model),
           "CHMOCODER_DAEMON_IDLE_S": "5"}  # fmt: skip
    with tcp_server(env, port) as (server, token_file):
        token = token_file.read_text().strip()
        options = {"nCtx": 1024, "maxTokens": 8, "review": {"mode": "off"}}

        first = RawClient(port)
        assert "result" in first.initialize(token, **options)
        uri = "file:///client-a/secrets.py"
        first.send(
            {
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                     "text": SECRET},
                },
            }
        )  # fmt: skip

        # A connection without the token, and one with a wrong token, while the first is
        # open: each refused and closed alone.
        for offered in (None, "not-the-token"):
            intruder = RawClient(port)
            refused = intruder.initialize(offered)
            assert "token is required" in refused["error"]["message"]
            intruder.wait_closed()
            assert server.poll() is None, "a failed authentication stopped the server"

        # A second authenticated client is a session of its own: the first's document is not
        # there for it, and it hears nothing of the first's answers.
        second = RawClient(port)
        assert "result" in second.initialize(
            token, model="/etc/passwd", completion={"model": "/etc/shadow"}, **options
        )
        assert second.wait(lambda m: "setting model ignored" in json.dumps(m))
        assert second.wait(lambda m: "setting completion.model ignored" in json.dumps(m))
        second.hover(7, uri, 3, 5)
        assert second.wait(lambda m: m.get("id") == 7)["result"] is None

        # The first client's hover is answered to it, with its own code and the model from
        # where the server started (CHMOCODER_MODEL: the default model is not installed here).
        first.hover(2, uri, 3, 5)
        hover = first.wait(lambda m: m.get("id") == 2, timeout=120)
        assert "area" in json.dumps(hover["result"])
        seen_by_second = json.dumps(second.received)
        assert "s3cret-of-client-a" not in seen_by_second and "area" not in seen_by_second
        assert "model-missing" not in json.dumps(first.received)

        # `exit` ends that session only.
        second.send({"method": "exit"})
        second.wait_closed()
        assert server.poll() is None
        first.hover(3, uri, 3, 5)
        assert first.wait(lambda m: m.get("id") == 3, timeout=120)["result"] is not None
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert not token_file.exists(), "the token file outlived the server"
