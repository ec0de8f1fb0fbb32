"""The only package that imports pygls and lsprotocol: handlers that convert and delegate."""

from __future__ import annotations

from chmocoder.lsp.server import ChmoServer


def create_server() -> ChmoServer:
    """A server with every feature registered (the features import the server's module, not
    this one: the arrows point one way)."""
    from chmocoder.lsp.features import commands, completion, documents, errors, hover, lifecycle
    from chmocoder.lsp.features.actions import CodeActions
    from chmocoder.lsp.features.diagnostics import Diagnostics

    server = ChmoServer()
    diagnostics = Diagnostics()  # the features' state is this connection's
    server.on_stop.append(diagnostics.stop)
    diagnostics.register(server)
    documents.register(server, diagnostics)
    commands.register(server, diagnostics)
    actions = CodeActions()
    actions.register(server)
    errors.register(server, actions)
    for feature in (lifecycle, hover, completion):
        feature.register(server)
    return server
