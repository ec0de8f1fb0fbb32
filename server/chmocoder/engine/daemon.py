"""The model daemon: one process owns the model and serves every client on a Unix socket.

Started by the first client that needs it (see client.py), it loads the model,
listens on a socket in the user's runtime directory (mode 0700), and exits
after `idle_s` seconds with no client and no work, removing its socket. A load
failure is written to SOCKET.error for the starting client to report.
Run: python -m chmocoder.engine.daemon --socket PATH --runtime NAME --model PATH
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import resource
import signal
import sys
import time
from pathlib import Path

from pydantic import BaseModel

from chmocoder.engine.protocol import (
    PROTOCOL_VERSION,
    Cancel,
    Count,
    CountResult,
    Error,
    Generate,
    Hello,
    ProtocolError,
    Shutdown,
    Stats,
    StatsRequest,
    encode,
    read_frame,
)
from chmocoder.engine.runtimes import LoadSettings, Runtime, load_runtime
from chmocoder.engine.scheduler import MAX_QUEUE, Scheduler
from chmocoder.engine.types import EngineError

log = logging.getLogger("chmocoder.daemon")

HANDSHAKE_TIMEOUT_S = 10.0


def rss_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Daemon:
    def __init__(
        self, socket_path: Path, runtime: Runtime, idle_s: float, max_queue: int = MAX_QUEUE
    ) -> None:
        self.socket_path = socket_path
        self.runtime = runtime
        self.idle_s = idle_s
        self.scheduler = Scheduler(runtime, max_queue)
        self.clients = 0
        self.started = time.monotonic()
        self._ids = itertools.count(1)
        self._stop = asyncio.Event()
        self._last_client = time.monotonic()

    async def serve(self) -> None:
        server = await asyncio.start_unix_server(self._connection, path=str(self.socket_path))
        os.chmod(self.socket_path, 0o600)
        worker = asyncio.create_task(self.scheduler.run())
        watcher = asyncio.create_task(self._idle_watch())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        log.info("serving %s on %s (pid %d)", self.runtime.info.name, self.socket_path, os.getpid())
        try:
            await self._stop.wait()
        finally:
            server.close()
            self.socket_path.unlink(missing_ok=True)
            worker.cancel()
            watcher.cancel()
            self.scheduler.shutdown()
            log.info("daemon stopped")

    async def _idle_watch(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_s / 4))
            quiet = time.monotonic() - max(self.scheduler.last_activity, self._last_client)
            if self.clients == 0 and self.scheduler.idle and quiet >= self.idle_s:
                log.info("idle for %.0f s: exiting", quiet)
                self._stop.set()
                return

    def stats(self) -> Stats:
        s = self.scheduler
        return Stats(
            model=self.runtime.info,
            pid=os.getpid(),
            clients=self.clients,
            queued=s.queued(),
            running=s.running is not None,
            completed=s.completed,
            joined=s.joined,
            preempted=s.preempted,
            cancelled=s.cancelled,
            rss_bytes=rss_bytes(),
            uptime_s=time.monotonic() - self.started,
        )

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = next(self._ids)
        outbox: asyncio.Queue[BaseModel | None] = asyncio.Queue()
        sender = asyncio.create_task(self._send(writer, outbox))
        self.clients += 1
        try:
            hello = await asyncio.wait_for(read_frame(reader), HANDSHAKE_TIMEOUT_S)
            if not isinstance(hello, Hello):
                raise ProtocolError(f"expected hello, got {hello.type}")
            if hello.protocol != PROTOCOL_VERSION:
                raise ProtocolError(
                    f"protocol version {hello.protocol} is not {PROTOCOL_VERSION}: "
                    "restart the editor so client and daemon match"
                )
            outbox.put_nowait(
                Hello(protocol=PROTOCOL_VERSION, model=self.runtime.info, pid=os.getpid())
            )
            while True:
                frame = await read_frame(reader)
                self._handle(client, frame, outbox)
        except (TimeoutError, EOFError, ConnectionError):
            pass
        except ProtocolError as exc:
            log.warning("client %d: %s; closing its connection", client, exc)
            outbox.put_nowait(Error(code="protocol", message=str(exc)))
        finally:
            self.clients -= 1
            self._last_client = time.monotonic()
            self.scheduler.drop_client(client)
            outbox.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sender, 5)
            writer.close()

    def _handle(
        self, client: int, frame: BaseModel, outbox: asyncio.Queue[BaseModel | None]
    ) -> None:
        if isinstance(frame, Generate):
            try:
                self.scheduler.submit(
                    client,
                    frame.id,
                    frame.prompt,
                    frame.params,
                    frame.priority,
                    frame.timeout_ms,
                    outbox.put_nowait,
                )
            except EngineError as exc:
                outbox.put_nowait(Error(id=frame.id, code=exc.code, message=exc.message))
        elif isinstance(frame, Cancel):
            self.scheduler.cancel(client, frame.id)
        elif isinstance(frame, Count):
            outbox.put_nowait(
                CountResult(id=frame.id, tokens=self.runtime.count_tokens(frame.text))
            )
        elif isinstance(frame, StatsRequest):
            outbox.put_nowait(self.stats())
        elif isinstance(frame, Shutdown):
            self._stop.set()
        else:
            raise ProtocolError(f"unexpected {getattr(frame, 'type', '?')!r} frame from a client")

    async def _send(
        self, writer: asyncio.StreamWriter, outbox: asyncio.Queue[BaseModel | None]
    ) -> None:
        while True:
            frames = [await outbox.get()]
            while not outbox.empty():  # whatever else is ready goes in the same write
                frames.append(outbox.get_nowait())
            try:
                writer.write(b"".join(encode(f) for f in frames if f is not None))
                await writer.drain()
            except (ConnectionError, ProtocolError):
                return
            if frames[-1] is None or None in frames:
                return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chmocoder-daemon")
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--n-ctx", type=int, required=True)
    parser.add_argument("--n-threads", type=int, required=True)
    parser.add_argument("--prompt-cache-mib", type=int, default=512)
    parser.add_argument(
        "--no-reuse", action="store_true", help="evaluate every prompt from its first token"
    )
    parser.add_argument(
        "--idle", type=float, required=True, help="exit after this many idle seconds"
    )
    parser.add_argument("--max-queue", type=int, default=MAX_QUEUE)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--nice", type=int, default=10, help="CPU priority offset (default 10)")

    args = parser.parse_args(argv)
    from chmocoder.logs import setup_logging

    setup_logging(args.log_level)
    # The model is background compute: editors' requests (a server's parsing, the UI) go first.
    # llama.cpp's threads inherit this; with nothing else running they still get every core.
    with contextlib.suppress(OSError):
        os.nice(args.nice)
    error_file = args.socket.with_name(args.socket.name + ".error")

    error_file.unlink(missing_ok=True)
    try:
        runtime = load_runtime(
            args.runtime,
            args.model,
            LoadSettings(
                n_ctx=args.n_ctx,
                n_threads=args.n_threads,
                prompt_cache_mib=args.prompt_cache_mib,
                reuse_prompts=not args.no_reuse,
            ),
        )
    except EngineError as exc:
        error_file.write_text(f"{exc.code}\n{exc.message}\n")
        log.error("cannot load the model: %s", exc.message)
        return 1
    except Exception as exc:
        error_file.write_text(f"model-load\n{type(exc).__name__}: {exc}\n")
        log.exception("cannot load the model")
        return 1
    args.socket.unlink(missing_ok=True)  # the starting client holds the lock and found it stale
    asyncio.run(Daemon(args.socket, runtime, args.idle, args.max_queue).serve())
    runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
