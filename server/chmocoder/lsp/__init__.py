"""The only package that imports pygls and lsprotocol: handlers that convert and delegate."""

from __future__ import annotations

from chmocoder.lsp.server import ChmoServer


def create_server() -> ChmoServer:
    """A server with every feature registered (the features import the server's module, not
    this one: the arrows point one way)."""
    from chmocoder.lsp import diagnostics
    from chmocoder.lsp.features import actions, ask, completion, documents, hover, lifecycle

    server = ChmoServer()
    for feature in (lifecycle, documents, diagnostics, hover, actions, ask, completion):
        feature.register(server)
    return server
