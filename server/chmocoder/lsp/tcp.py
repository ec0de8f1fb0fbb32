"""`serve --tcp`: every connection is a session of its own.

Each connection gets its own server (documents, settings, answers, log mirror): one client
never sees another's code or answers. Each authenticates on its own, in `initialize`, with
the token of the token file; a connection that fails, or says nothing for AUTH_TIMEOUT_S, is
closed alone, and so is one that sends `exit`. The listener runs until SIGINT or SIGTERM.
The model is shared as always: every session talks to the same model daemon.

pygls's own `start_tcp` serves every connection with one protocol (the last to connect gets
every answer) and stops the whole server when any connection ends, hence this loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable

from pygls.io_ import run_async

from chmocoder.lsp.server import CONNECTION, ChmoServer

log = logging.getLogger(__name__)

AUTH_TIMEOUT_S = 10.0
"""A connection that has not authenticated by then is closed."""


def serve_tcp(host: str, port: int, token: str, make_server: Callable[[], ChmoServer]) -> None:
    """Listen on host:port until SIGINT or SIGTERM, one new server per connection."""

    async def listen() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        sessions: set[asyncio.Task[None]] = set()

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            sessions.add(task)
            try:
                server = make_server()
                server.tcp_token = token
                await serve_connection(server, reader, writer)
            finally:
                sessions.discard(task)

        listener = await asyncio.start_server(connected, host, port)
        log.info("serving TCP on %s:%d, a session per connection", host, port)
        async with listener:
            await stop.wait()
        for task in list(sessions):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.gather(*sessions, return_exceptions=True), 3.0)

    asyncio.run(listen())


async def serve_connection(
    server: ChmoServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """One client's session, from its first byte to its end (EOF, `exit`, a failed
    authentication, or the listener stopping)."""
    CONNECTION.set(server)  # this task's context: the log mirror sends only its own records
    stop = threading.Event()
    server.end_connection = lambda: _end(stop, writer)
    server.protocol.set_writer(writer)
    peer = writer.get_extra_info("peername")
    log.info("TCP connection from %s", peer)
    unauthenticated = asyncio.get_running_loop().call_later(
        AUTH_TIMEOUT_S, lambda: None if server.authenticated else server.end_connection()
    )
    try:
        await run_async(
            stop_event=stop,
            reader=reader,
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        log.info("TCP connection from %s lost: %s", peer, exc)
    finally:
        unauthenticated.cancel()
        _end(stop, writer)
        await server.end_session()
        log.info("TCP connection from %s closed", peer)


def _end(stop: threading.Event, writer: asyncio.StreamWriter) -> None:
    stop.set()
    if not writer.is_closing():
        writer.close()
