"""What the panel and the progress reports use of a connection's server: a protocol, so
that they need not import the server (lsp/server.py imports them; ChmoServer is one)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol

from lsprotocol import types

if TYPE_CHECKING:
    from pygls.progress import Progress

    from chmocoder.config import Settings


class Notifier(Protocol):
    def notify(self, method: str, params: Any | None = None) -> Any: ...


class Connection(Protocol):
    @property
    def protocol(self) -> Notifier: ...

    @property
    def client_capabilities(self) -> types.ClientCapabilities: ...

    @property
    def work_done_progress(self) -> Progress: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def model_started(self) -> bool: ...

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...

    def window_show_message(self, params: types.ShowMessageParams) -> None: ...

    def window_show_document(
        self,
        params: types.ShowDocumentParams,
        callback: Callable[[types.ShowDocumentResult], None] | None = None,
    ) -> Future[types.ShowDocumentResult]: ...

    def tell(
        self,
        message: str,
        kind: types.MessageType = types.MessageType.Warning,
        *,
        once: bool = False,
    ) -> None: ...
