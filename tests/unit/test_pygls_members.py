"""The private members of pygls that ChmoProtocol overrides or calls (lsp/server.py), with
the shapes it relies on. pyproject pins pygls to the minor version these were read from;
a new pygls that changes them fails here, by name, before any behaviour does."""

from __future__ import annotations

import inspect

from pygls.protocol import JsonRPCProtocol

from chmocoder.lsp import create_server


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_members_chmoprotocol_overrides_have_their_shapes() -> None:
    assert _parameters(JsonRPCProtocol._execute_handler) == [
        "self", "msg_id", "handler", "callback", "args", "kwargs",
    ]  # fmt: skip
    assert _parameters(JsonRPCProtocol._send_response)[:3] == ["self", "msg_id", "result"]
    assert "error" in _parameters(JsonRPCProtocol._send_response)
    assert _parameters(JsonRPCProtocol.structure_message) == ["self", "data"]
    assert _parameters(JsonRPCProtocol.handle_message) == ["self", "message"]


def test_the_state_chmoprotocol_reads_is_where_it_looks() -> None:
    server = create_server()
    protocol = server.protocol
    assert isinstance(protocol._request_futures, dict)
    assert protocol._server is server
    assert protocol._shutdown is False
