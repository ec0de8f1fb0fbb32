"""The language server: shared state of one editor connection, and the features assembled."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import logging
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from chmocoder import __version__
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.engine.errors import ErrorKind, Failure
from chmocoder.lsp.panel import notify_status
from chmocoder.lsp.progress import AssemblyProgress
from chmocoder.lsp.work import DocumentWork

if TYPE_CHECKING:
    # The model's side (assist, engine, compose) is imported when the assistant is first
    # built, not at start-up: the answer to `initialize` waits for none of it.
    from chmocoder.analysis.document import Document
    from chmocoder.analysis.index import WorkspaceIndex
    from chmocoder.assist.assistant import Assistant
    from chmocoder.assist.completion import Completer
    from chmocoder.compose import Parts
    from chmocoder.config import Settings
    from chmocoder.engine.engine import CallRecord

log = logging.getLogger(__name__)

CONNECTION: contextvars.ContextVar[ChmoServer] = contextvars.ContextVar("chmocoder_connection")
"""The server of the TCP session whose task this is (lsp/tcp.py sets it; tasks inherit it)."""


UNREADABLE = "unreadable"
"""What structure_message makes of a request it answered with an error."""


class ChmoProtocol(LanguageServerProtocol):
    """pygls's protocol, but a request whose params cannot be read gets an error reply.

    pygls raises while decoding such a request and never answers it, so the
    client would wait for ever; here the request's id gets InvalidParams.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                log.warning(
                    "unreadable %s request %r: answered with an error",
                    data.get("method"),
                    data["id"],
                )
                self._send_response(data["id"], error=exc.to_response_error())
                return SimpleNamespace(jsonrpc=UNREADABLE)  # handle_message skips it
            raise

    def handle_message(self, message: Any) -> None:
        """Two rules pygls leaves out. A TCP connection must authenticate in `initialize`
        (initializationOptions.token, the token the server wrote to its token file) before
        anything else is handled; a wrong or missing token ends the connection. After
        `shutdown`, a request gets InvalidRequest instead of no answer."""
        if getattr(message, "jsonrpc", None) == UNREADABLE:
            return  # answered with an error in structure_message
        server = self._server
        method = getattr(message, "method", None)
        request_id: str | int = getattr(message, "id", None) or 0
        is_request = method is not None and getattr(message, "id", None) is not None
        if (
            isinstance(server, ChmoServer)
            and server.tcp_token is not None
            and not server.authenticated
        ):
            offered = _token_of(message) if method == types.INITIALIZE else None
            if offered is not None and hmac.compare_digest(offered, server.tcp_token):
                server.authenticated = True
            else:
                log.warning("TCP client without a valid token: connection closed")
                if is_request:
                    self._send_response(
                        request_id,
                        error=JsonRpcException(
                            message="a valid token is required (initializationOptions.token)"
                        ).to_response_error(),
                    )
                server.end_connection()  # this connection only: the others go on
                return
        if self._shutdown and is_request and method != types.EXIT:
            self._send_response(
                request_id,
                error=JsonRpcInvalidRequest(
                    message="the server is shutting down"
                ).to_response_error(),
            )
            return
        super().handle_message(message)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        """pygls files the future of every async, threaded or generator handler under a
        message id so that it can be cancelled, and takes it out only when it answers a
        request: a notification's future, and each step of its built-in generator handlers
        (filed under made-up ids), stayed for ever, one or two per keystroke. Here every
        future leaves the file when it is done."""
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            # Later on the loop: done callbacks may run in a worker thread, or inside pygls's
            # loop over this file at shutdown (cancelling a future runs them at once).
            loop = asyncio.get_running_loop()
            loop_thread = threading.get_ident()

            def forget(_done: Any) -> None:
                if threading.get_ident() == loop_thread:
                    loop.call_soon(self._request_futures.pop, msg_id, None)  # no wake-up
                elif not loop.is_closed():
                    loop.call_soon_threadsafe(self._request_futures.pop, msg_id, None)

            future.add_done_callback(forget)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        """Over TCP, `exit` ends this client's session, not the process that serves the
        others; over stdio it ends the process (pygls's own rule)."""
        server = self._server
        if isinstance(server, ChmoServer) and server.tcp_token is not None:
            if (handler := self.fm.features.get(types.EXIT)) is not None:
                yield handler, args, None
            server.end_connection()
            return
        yield from super().lsp_exit(*args)

    # The server keeps one copy of each open document (analysis.Document: bytes, tree, line
    # starts). pygls's built-in sync handlers would keep a second one in its workspace, as a
    # str rebuilt on every change; these replace them and only hand the notification on.

    def _hand_on(self, method: str, params: Any) -> Iterator[Any]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Iterator[Any]:
        yield from self._hand_on(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Iterator[Any]:
        yield from self._hand_on(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Iterator[Any]:
        yield from self._hand_on(types.TEXT_DOCUMENT_DID_CLOSE, params)


def _token_of(message: Any) -> str | None:
    options = getattr(getattr(message, "params", None), "initialization_options", None)
    token = options.get("token") if isinstance(options, dict) else None
    if isinstance(options, dict) and token is None and isinstance(options.get("chmocoder"), dict):
        token = options["chmocoder"].get("token")
    return token if isinstance(token, str) else None


class ChmoServer(LanguageServer):
    """Shared state of one editor connection: documents, settings, index, assistant."""

    def __init__(self) -> None:
        super().__init__(
            "chmocoder",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=ChmoProtocol,
        )

        self.registry = LanguageRegistry()
        self.documents: dict[str, Document] = {}
        self._relative_paths: dict[str, str] = {}
        """relative_path's answers by URI (the workspace root is set once, at initialize)."""
        self._settings: Settings | None = None
        self.initialization_options: Any = None
        """The client's options from `initialize`, read into the settings by `initialized`."""
        self.index: WorkspaceIndex | None = None
        self.on_stop: list[Callable[[], None]] = []
        """What features stop when the session ends (lsp/__init__.py adds them)."""
        self.work = DocumentWork(lambda: self.loop)
        """Work in flight per document, and the rule that stops it (lsp/work.py)."""
        self._parts: Parts | None = None
        """The assistant, the completer, their engine (the server loads, logs and closes
        it) and the statistics, built at first use (compose.build)."""
        self._parts_for: tuple[object, object] = (None, None)
        """The settings and the index the parts were last brought up to date with
        (settings are replaced, never changed in place)."""
        self._told: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.tcp_token: str | None = None
        """Set when serving TCP: clients must present it in `initialize`."""
        self.end_connection: Callable[[], None] = lambda: None
        """Closes this client's connection (set by lsp/tcp.py for a TCP session)."""
        self.log_handler: ClientLogHandler | None = None
        """The mirror of the log to this client (from `initialize` on)."""
        self.authenticated = False
        self.exit_code = 1
        """The process's status when the connection ends: 0 once `shutdown` was received (the
        spec's rule for the `exit` that follows it), else 1."""

    @property
    def settings(self) -> Settings:
        """The settings in force: the defaults until the client's are read (`initialized`;
        pydantic, which reads them, is not imported before the answer to `initialize`)."""
        if self._settings is None:
            from chmocoder.config import Settings

            self._settings = Settings()
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the server runs on (captured the first time it is asked for)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    # --- documents and positions ----------------------------------------------------

    @property
    def encoding(self) -> str:
        """The position encoding negotiated with the client."""
        return str(self.workspace.position_encoding or types.PositionEncodingKind.Utf16)

    def document(self, uri: str) -> Document | None:
        return self.documents.get(uri)

    def forget(self, uri: str) -> Document | None:
        """The document was closed: drop what is kept for it; returns it if it was open."""
        self._relative_paths.pop(uri, None)
        if self._parts is not None:
            self._parts.completer.forget(uri)
        return self.documents.pop(uri, None)

    def workspace_root(self) -> Path | None:
        root = self.workspace.root_path
        return Path(root) if root else None

    def relative_path(self, uri: str) -> str:
        """A workspace-relative path for prompts (never the user's home layout); worked out
        once per document (resolving asks the file system, and every hover needs it)."""
        known = self._relative_paths.get(uri)
        if known is None:
            known = self._relative_paths[uri] = self._relative_path(uri)
        return known

    def _relative_path(self, uri: str) -> str:
        from pygls.uris import to_fs_path

        path = to_fs_path(uri) if uri.startswith("file:") else None
        root = self.workspace_root()
        if path and root:
            with contextlib.suppress(ValueError):
                return Path(path).resolve().relative_to(root.resolve()).as_posix()
        return Path(path).name if path else uri

    # --- the assistant -------------------------------------------------------------------

    def assistant(self) -> Assistant:
        """The assistant for the current settings; a new engine when engine settings changed."""
        return self._current().assistant

    def completer(self) -> Completer:
        """The inline completer for the current settings (on the assistant's engine)."""
        return self._current().completer

    def _current(self) -> Parts:
        s = self.settings
        parts = self._parts
        if parts is not None and self._parts_for[0] is s and self._parts_for[1] is self.index:
            return parts  # the same settings object and index: nothing to redo
        from chmocoder import compose  # the model's side, at first use (see the imports)

        parts, retired = compose.refresh(
            parts,
            s,
            workspace=self.index.lookup if self.index else None,
            on_record=self._log_call,
            on_progress=lambda: AssemblyProgress(self),
            on_wait=self._waiting,
        )
        for engine in retired:
            self.loop.create_task(engine.close())
        self._parts = parts
        self._parts_for = (s, self.index)
        return parts

    def _waiting(self, what: str) -> None:
        """A request waits (a busy model server, asked again): the status bar says so."""
        self.loop.call_soon_threadsafe(notify_status, self, "waiting", what)

    @property
    def model_started(self) -> bool:
        """Whether the model is loaded (or its server reached); asks nothing, builds nothing."""
        return self._parts is not None and self._parts.engine.info is not None

    @staticmethod
    def _log_call(record: CallRecord) -> None:
        log.log(
            logging.DEBUG if record.cache_hit else logging.INFO,

            "model call task=%s model=%s runtime=%s prompt_tokens=%d completion_tokens=%d queue_ms=%.0f "
            "first_token_ms=%.0f total_ms=%.0f tokens_per_s=%.1f cache_hit=%s cancelled=%s error=%s%s",
            record.task, record.model, record.runtime, record.prompt_tokens, record.completion_tokens,
            record.queue_ms, record.first_token_ms, record.total_ms, record.tokens_per_second,
            record.cache_hit, record.cancelled, record.error,
            f" prompt={record.prompt!r}" if record.prompt else "",
        )  # fmt: skip

    def flush_statistics(self, timeout: float = 1.0) -> None:
        """Write what statistics are queued (the process is about to end)."""
        if self._parts is not None:
            self._parts.stats.flush(timeout)

    async def end_session(self) -> None:
        """A TCP session ended: let go of what it held (its index, log mirror, model
        client, threads) and write its statistics; the process serves the other sessions."""
        if self.log_handler is not None:
            logging.getLogger("chmocoder").removeHandler(self.log_handler)
        if self.index is not None:
            self.index.stop()
        for stop in self.on_stop:
            stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.shutdown_engine(), 2.0)
        await asyncio.to_thread(self.flush_statistics)
        if self._thread_pool is not None:
            self._thread_pool.shutdown(wait=False, cancel_futures=True)

    async def shutdown_engine(self) -> None:
        """Let go of the model (its daemon goes on serving other windows); the statistics
        stay to be flushed."""
        if self._parts is not None:
            for engine in self._parts.engines():
                await engine.close()

    # --- talking to the user ------------------------------------------------------------

    def tell_failure(self, what: str, error: Failure) -> None:
        """The one rule for showing the model's failures. A stale answer (the document
        changed) is information; a problem with the set-up (the model, its runtime or
        server, missing, broken or unreachable) is an error, shown once a session, since
        every request would repeat it until it is mended; the rest are warnings."""
        message = f"{what} failed: {error.message}"
        if error.kind is ErrorKind.STALE:
            self.tell(message, types.MessageType.Info)
        elif error.kind is ErrorKind.SETUP:
            self.tell(error.message, types.MessageType.Error, once=True)
        else:
            self.tell(message)

    def tell(
        self,
        message: str,
        kind: types.MessageType = types.MessageType.Warning,
        *,
        once: bool = False,
    ) -> None:
        """Show a message to the user and log it (`once`: not again this session)."""
        if once:
            if message in self._told:
                return
            self._told.add(message)
        log.log(logging.ERROR if kind == types.MessageType.Error else logging.WARNING, message)
        self.window_show_message(
            types.ShowMessageParams(type=kind, message=f"ChMOCoder: {message}")
        )


class ClientLogHandler(logging.Handler):
    """Mirrors the log to the client's `window/logMessage` (thread-safe)."""

    LEVELS: ClassVar[dict[int, types.MessageType]] = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
        logging.DEBUG: types.MessageType.Log,
    }

    def __init__(self, server: ChmoServer) -> None:
        super().__init__()
        self.server = server
        self.loop = server.loop  # created on the loop's thread; records may come from others

    def emit(self, record: logging.LogRecord) -> None:
        if self.server.tcp_token is not None and CONNECTION.get(None) is not self.server:
            return  # over TCP a client sees its own session's records, never another's
        try:
            message = self.format(record)
            kind = self.LEVELS.get(record.levelno, types.MessageType.Log)
            params = types.LogMessageParams(type=kind, message=message)
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self.server.window_log_message, params)

        except Exception:
            self.handleError(record)
