"""The engine's one error type, in a module of its own: the language server catches it in
handlers that load at start-up, before pydantic and the engine are imported."""

from __future__ import annotations


class EngineError(Exception):
    """A failure the user should read: `code` is stable, `message` says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
