"""Initialization: settings from initializationOptions and didChangeConfiguration, the index."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from chmocoder.lsp.server import ChmoServer, ClientLogHandler

if TYPE_CHECKING:
    from chmocoder.config import Settings

log = logging.getLogger(__name__)


def apply_settings(ls: ChmoServer, data: Any) -> None:
    """Take new settings; each rejected value is shown, with the default used. A new model
    or runtime takes effect on the next request (the assistant is rebuilt)."""
    from chmocoder.config import Settings  # pydantic: after the answer to `initialize`

    if isinstance(data, dict) and isinstance(data.get("chmocoder"), dict):
        data = data["chmocoder"]
    settings, problems = Settings.from_wire(data)
    if ls.tcp_token is not None:
        settings = _user_owned(ls, settings, data if isinstance(data, dict) else {})
    ls.settings = settings
    for problem in problems:
        ls.tell(problem)
    level = settings.log_level.upper()
    if ls.tcp_token is None:  # over TCP the log's level is the server's (--log-level)
        logging.getLogger("chmocoder").setLevel(level)
    if ls.log_handler is not None:
        ls.log_handler.setLevel(level)


USER_OWNED = (
    "model", "runtime", "endpoint", "cache_dir", "api_key_env", "completion.model", "fix.check"
)  # fmt: skip
"""Settings that decide what runs, where code goes or where files are written: over TCP
they come from where the server was started (CHMOCODER_* variables), never from a
connected client (a model path from a client would make the server load its file, a check
command run it).
A dotted name is a setting inside another (completion.model)."""


def _user_owned(ls: ChmoServer, settings: Settings, sent: dict[str, Any]) -> Settings:
    from pydantic.alias_generators import to_camel

    own, _ = settings.from_env()
    for dotted in USER_OWNED:
        path = dotted.split(".")
        theirs = _at(own, path)
        if _at(settings, path) == theirs:
            continue
        asked: Any = sent
        for name in path:
            asked = asked.get(name, asked.get(to_camel(name))) if isinstance(asked, dict) else None
        if asked is not None:
            variable = "CHMOCODER_" + "__".join(path).upper()
            ls.tell(
                f"setting {dotted} ignored: over TCP it is taken from where the server started "
                f"({variable})",
                once=True,
            )
        settings = _with(settings, path, theirs)
    return settings


def _at(settings: Any, path: list[str]) -> Any:
    for name in path:
        settings = getattr(settings, name)
    return settings


def _with(settings: Any, path: list[str], value: Any) -> Any:
    """`settings` (a pydantic model) with the setting at `path` replaced by `value`."""
    name = path[0]
    if len(path) > 1:
        value = _with(getattr(settings, name), path[1:], value)
    return settings.model_copy(update={name: value})


async def start_index(ls: ChmoServer) -> None:
    """Index the workspace in the background, reporting `$/progress` if the client can show it."""
    from chmocoder.analysis.index import WorkspaceIndex  # pathspec: after start-up

    root = ls.workspace_root()
    if root is None or not root.is_dir():
        return
    index = WorkspaceIndex(root, ls.registry)
    ls.index = index
    window = ls.client_capabilities.window
    token: str | None = None
    if window is not None and window.work_done_progress:
        token = f"chmocoder-index-{uuid.uuid4().hex[:8]}"
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(
                token, types.WorkDoneProgressBegin(title="ChMOCoder: indexing", percentage=0)
            )
        except Exception as exc:  # the client refused the token: index without progress
            log.info("no progress for indexing: %s", exc)
            token = None
    loop = asyncio.get_running_loop()

    def on_progress(done: int, found: int) -> None:
        if token is not None:
            report = types.WorkDoneProgressReport(message=f"{done} files")
            loop.call_soon_threadsafe(ls.work_done_progress.report, token, report)

    index.start(on_progress)
    while not index.ready:
        await asyncio.sleep(0.2)
    if token is not None:
        end = types.WorkDoneProgressEnd(message=f"{index.file_count()} files indexed")
        ls.work_done_progress.end(token, end)


def register(server: ChmoServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: ChmoServer, params: types.InitializeParams) -> None:
        handler = ClientLogHandler(ls)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.getLogger("chmocoder").addHandler(handler)
        ls.log_handler = handler
        ls.initialization_options = params.initialization_options
        inline = params.capabilities.text_document
        if inline is None or inline.inline_completion is None:
            # advertised only to clients that declare it (the request is still served)
            ls.protocol.fm.feature_options.pop(types.TEXT_DOCUMENT_INLINE_COMPLETION, None)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: ChmoServer, params: None) -> None:
        ls.exit_code = 0  # an `exit` from now on is the orderly one, even while we close
        if ls.index is not None:
            ls.index.stop()
        with contextlib.suppress(TimeoutError):  # a stuck model server must not hold it up
            await asyncio.wait_for(ls.shutdown_engine(), 2.0)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: ChmoServer, params: types.InitializedParams) -> None:
        # The client's settings are read here, not in `initialize`: its answer then needs
        # neither pydantic nor our settings model (start-up: bench/bench_startup.py). The
        # client sends `initialized` before anything else, so no request sees the defaults.
        apply_settings(ls, ls.initialization_options)
        await start_index(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: ChmoServer, params: types.DidChangeConfigurationParams
    ) -> None:
        apply_settings(ls, params.settings)
