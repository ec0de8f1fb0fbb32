"""The failures a user reads, in a module of their own: the language server catches them in
handlers that load at start-up, before pydantic and the engine are imported.

Every failure has a kind (ErrorKind), which decides how it is shown; the engine's also
carry a stable code (`model-missing`, `deadline`, ...) that travels over the daemon's
protocol and into the statistics. The kind is derived from the code here, in one place."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    SETUP = "setup"
    """The set-up is wrong (the model, its runtime, daemon or server: missing, broken or
    unreachable): every request would fail the same way until it is mended."""
    STALE = "stale"
    """The document changed (or a newer request came) while the work ran: ask again."""
    BUSY = "busy"
    """Too much work queued."""
    DEADLINE = "deadline"
    """The request ran past its time."""
    FAILED = "failed"
    """This request failed (the model's answer unusable, a generation error)."""


_SETUP_CODES = ("model-", "runtime-", "daemon-", "endpoint-", "server-", "unsupported-")
_KINDS = {"busy": ErrorKind.BUSY, "deadline": ErrorKind.DEADLINE}


def kind_of(code: str) -> ErrorKind:
    """The kind of an engine error code."""
    if code.startswith(_SETUP_CODES):
        return ErrorKind.SETUP
    return _KINDS.get(code, ErrorKind.FAILED)


class Failure(Exception):
    """A failure the user should read: `message` says what happened and what to do."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class EngineError(Failure):
    """A failure of the engine: `code` is stable (the protocol, statistics), the kind is
    the code's (kind_of)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(kind_of(code), message)
        self.code = code
