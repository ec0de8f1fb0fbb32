"""The client side of the model daemon: find or start it, then stream generations.

The socket lives in the user's runtime directory (created 0700) and is named
after the runtime, the model's content fingerprint and the load settings, so
every editor window that asks for the same model shares one daemon. The first
client starts it under a file lock; a stale socket (nobody listening) is
removed first. If the daemon dies, the requests in flight fail with a clear
error and the next request starts a new daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from filelock import FileLock, Timeout

from chmocoder.engine.protocol import (
    PROTOCOL_VERSION,
    Cancel,
    Count,
    CountResult,
    Done,
    Error,
    Generate,
    Hello,
    ProtocolError,
    Shutdown,
    Stats,
    StatsRequest,
    Token,
    encode,
    read_frame,
)
from chmocoder.engine.scheduler import MAX_QUEUE
from chmocoder.engine.types import (
    EngineError,
    GenerationParams,
    GenerationResult,
    ModelInfo,
    Priority,
    Prompt,
    TokenCallback,
    Usage,
)

log = logging.getLogger(__name__)

START_TIMEOUT_S = 300.0
"""Loading a multi-GB model from a cold disk can take minutes."""


@dataclass(frozen=True)
class DaemonSpec:
    runtime: str
    model: Path
    fingerprint: str
    n_ctx: int
    n_threads: int
    idle_s: float
    max_queue: int = MAX_QUEUE
    prompt_cache_mib: int = 512
    reuse_prompts: bool = True

    def socket_path(self) -> Path:
        load = f"{self.n_ctx}:{self.n_threads}:{self.prompt_cache_mib}"
        if not self.reuse_prompts:
            load += ":fresh"
        settings = hashlib.sha256(load.encode()).hexdigest()[:6]
        # the protocol's version in the name: after an upgrade that changed it, the new
        # version starts its own daemon rather than being refused by the old one (which
        # serves the editors still running the old version until it idles out)
        name = f"{self.runtime}-{self.fingerprint[:12]}-{settings}-p{PROTOCOL_VERSION}.sock"
        return runtime_dir() / name

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "chmocoder.engine.daemon",
            "--socket",
            str(self.socket_path()),
            "--runtime",
            self.runtime,
            "--model",
            str(self.model),
            "--n-ctx",
            str(self.n_ctx),
            "--n-threads",
            str(self.n_threads),
            "--idle",
            str(self.idle_s),
            "--max-queue",
            str(self.max_queue),
            "--prompt-cache-mib",
            str(self.prompt_cache_mib),
            *(() if self.reuse_prompts else ("--no-reuse",)),
        ]


_fallback: Path | None = None

HANDSHAKE_TIMEOUT_S = 5.0
"""A daemon that accepts a connection but does not answer hello in this time is stopped or
stuck: reported, never mistaken for a stale socket."""


def peer_credentials(writer: asyncio.StreamWriter) -> tuple[int | None, int | None]:
    """(uid, pid) of the process serving a Unix socket (SO_PEERCRED); None where unknown."""
    sock = writer.get_extra_info("socket")
    option = getattr(socket, "SO_PEERCRED", None)
    if sock is None or option is None:
        return None, None
    try:
        data = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return None, None
    pid, uid, _gid = struct.unpack("3i", data)
    return uid, pid


def _private_folder(path: Path) -> bool:
    """Make or accept `path` as our own folder: a real directory (not a link), ours, 0700."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        if info.st_mode & 0o077:
            os.chmod(path, 0o700, follow_symlinks=False)
        return True
    except OSError:
        return False


def runtime_dir() -> Path:
    """The user's runtime directory for sockets, mode 0700. A folder there that is not ours
    (made by another user, or a link) is never used: then a private temporary folder is, and
    the log says so once."""
    global _fallback
    candidates: list[Path] = []
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        with contextlib.suppress(OSError):  # its fallback is another user's folder, or a link
            candidates.append(Path(platformdirs.user_runtime_dir("chmocoder", appauthor=False)))
    candidates.append(Path(tempfile.gettempdir()) / f"chmocoder-{os.getuid()}")
    for path in candidates:
        if len(str(path)) > 70:  # socket paths are limited to about 107 bytes
            continue
        if _private_folder(path):
            return path
    if _fallback is None or not _private_folder(_fallback):
        _fallback = Path(tempfile.mkdtemp(prefix="chmocoder-"))
        log.warning(
            "the runtime folders %s are not ours (another user's, or a link): using %s; "
            "model daemons are not shared with other processes meanwhile",
            ", ".join(str(c) for c in candidates),
            _fallback,
        )
    return _fallback


class _Pending:
    def __init__(self, on_token: TokenCallback | None) -> None:
        self.on_token = on_token
        self.text: list[str] = []
        self.future: asyncio.Future[object] = asyncio.get_running_loop().create_future()


class DaemonClient:
    """One connection to the daemon for `spec`, shared by all requests of this process."""

    def __init__(self, spec: DaemonSpec, name: str = "chmocoder") -> None:
        self.spec = spec
        self.name = name
        self.model: ModelInfo | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._dispatch: asyncio.Task[None] | None = None
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._connect_lock = asyncio.Lock()
        self.daemon_pid: int | None = None

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    async def connect(self) -> ModelInfo:
        async with self._connect_lock:
            if self.connected and self.model is not None:
                return self.model
            if await self._try_connect() != "connected":
                await self._start_daemon()
            assert self.model is not None
            return self.model

    async def _try_connect(self) -> str:
        """ "connected", "absent" (nobody listens: a stale socket or none) or "starting" (a
        daemon answered but has no model yet). A daemon that does not answer the handshake,
        or a socket served by another user, raises EngineError and is left alone."""
        path = self.spec.socket_path()
        try:
            reader, writer = await asyncio.open_unix_connection(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return "absent"
        except OSError as exc:
            log.debug("cannot connect to %s: %s", path, exc)
            return "absent"
        uid, pid = peer_credentials(writer)
        if uid is not None and uid != os.getuid():
            writer.close()
            raise EngineError(
                "daemon-untrusted",
                f"the model daemon socket {path} is served by another user (uid {uid}, pid "
                f"{pid}): not used; remove it if you did not expect it",
            )
        try:
            writer.write(encode(Hello(protocol=PROTOCOL_VERSION, client=self.name)))
            await writer.drain()
            hello = await asyncio.wait_for(read_frame(reader), HANDSHAKE_TIMEOUT_S)
        except TimeoutError:
            writer.close()
            raise EngineError(
                "daemon-unresponsive",
                f"the model daemon at {path} (pid {pid}) is not responding; it was left alone: "
                f"stop it (kill {pid}) or wait for it",
            ) from None
        except (EOFError, ConnectionError, ProtocolError) as exc:
            writer.close()
            log.warning("daemon at %s did not answer the handshake: %s", path, exc)
            return "absent"
        if isinstance(hello, Error):
            writer.close()
            raise EngineError(hello.code, hello.message)
        if not isinstance(hello, Hello) or hello.model is None:
            writer.close()
            return "starting"
        self._writer = writer
        self.model, self.daemon_pid = hello.model, hello.pid
        self._dispatch = asyncio.create_task(self._read_loop(reader))
        return "connected"

    async def _start_daemon(self) -> None:
        path = self.spec.socket_path()
        lock = FileLock(str(path) + ".lock", thread_local=False)
        try:
            await asyncio.to_thread(lock.acquire, timeout=START_TIMEOUT_S)
        except Timeout:
            raise EngineError(
                "daemon-start", f"timed out waiting for another client to start {path}"
            ) from None
        try:
            state = await self._try_connect()
            if state == "connected":
                return  # another client started it while we waited for the lock
            if state == "absent" and path.exists():
                log.info("removing stale daemon socket %s (nobody listens)", path)
                path.unlink(missing_ok=True)
            error_file = path.with_name(path.name + ".error")
            error_file.unlink(missing_ok=True)
            log_path = runtime_dir() / "daemon-start.log"
            with log_path.open("ab") as log_file:
                process = subprocess.Popen(
                    self.spec.command(),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=log_file,
                    start_new_session=True,
                )
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    if error_file.is_file():
                        code, _, message = error_file.read_text().partition("\n")
                        raise EngineError(code.strip() or "model-load", message.strip())
                    raise EngineError(
                        "daemon-start",
                        f"the model daemon exited with code {process.returncode}; see {log_path}",
                    )
                if path.exists() and await self._try_connect() == "connected":
                    return
                await asyncio.sleep(0.05)
            process.kill()
            raise EngineError(
                "daemon-start", f"the model daemon did not start within {START_TIMEOUT_S:.0f} s"
            )
        finally:
            lock.release()

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        reason = "the model daemon closed the connection"
        try:
            while True:
                frame = await read_frame(reader)
                self._on_frame(frame)
        except (EOFError, ConnectionError):
            pass
        except ProtocolError as exc:
            reason = f"the model daemon sent a bad frame: {exc}"
        finally:
            self._lost(reason)

    def _on_frame(self, frame: object) -> None:
        if isinstance(frame, Token):
            pending = self._pending.get(frame.id)
            if pending is None:
                return
            pending.text.append(frame.text)
            if pending.on_token is not None and pending.on_token(frame.text) is False:
                # the caller has what it wants: stop the daemon, answer with the text so far
                del self._pending[frame.id]
                if self._writer is not None and not self._writer.is_closing():
                    self._writer.write(encode(Cancel(id=frame.id)))
                partial = GenerationResult(
                    text="".join(pending.text),
                    finish_reason="stop",
                    # a piece is a token, unless the daemon sent several at once (it was
                    # ahead of this loop): the statistics' count of what was generated
                    usage=Usage(completion_tokens=len(pending.text)),
                )
                pending.future.set_result(Done(id=frame.id, result=partial))
            return
        request = getattr(frame, "id", None)
        if isinstance(frame, Stats):
            request = 0
        pending = self._pending.pop(request, None) if request is not None else None
        if pending is None:
            if isinstance(frame, Error):
                log.warning("daemon error: %s: %s", frame.code, frame.message)
            return
        if isinstance(frame, Error):
            pending.future.set_exception(EngineError(frame.code, frame.message))
        elif not pending.future.done():
            pending.future.set_result(frame)

    def _lost(self, reason: str) -> None:
        """The connection is gone: fail what was in flight; the next request reconnects."""
        if self._writer is not None:
            self._writer.close()
        self._writer = None
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(
                    EngineError(
                        "daemon-died", f"{reason} during the request; the next request restarts it"
                    )
                )

    async def _request(
        self, request_id: int, frame: object, on_token: TokenCallback | None = None
    ) -> object:
        await self.connect()
        pending = _Pending(on_token)
        self._pending[request_id] = pending
        assert self._writer is not None
        try:
            self._writer.write(encode(frame))  # type: ignore[arg-type]
            await self._writer.drain()
        except ConnectionError:
            self._lost("the model daemon went away")
        return await pending.future

    async def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        *,
        priority: Priority = Priority.INTERACTIVE,
        timeout_ms: int | None = None,
        on_token: TokenCallback | None = None,
    ) -> GenerationResult:
        """Generate through the daemon. Cancelling the awaiting task cancels the request."""
        request_id = next(self._ids)
        frame = Generate(
            id=request_id, prompt=prompt, params=params, priority=priority, timeout_ms=timeout_ms
        )
        try:
            done = await self._request(request_id, frame, on_token)
        except asyncio.CancelledError:
            self._pending.pop(request_id, None)
            if self.connected and self._writer is not None:
                with contextlib.suppress(ConnectionError):
                    self._writer.write(encode(Cancel(id=request_id)))
            raise
        assert isinstance(done, Done)
        return done.result

    async def count_tokens(self, text: str) -> int:
        request_id = next(self._ids)
        result = await self._request(request_id, Count(id=request_id, text=text))
        assert isinstance(result, CountResult)
        return result.tokens

    async def stats(self) -> Stats:
        result = await self._request(0, StatsRequest())
        assert isinstance(result, Stats)
        return result

    async def shutdown_daemon(self) -> None:
        if not self.connected:
            return
        assert self._writer is not None
        self._writer.write(encode(Shutdown()))
        await self._writer.drain()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._dispatch is not None:
            self._dispatch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._dispatch
        self._writer = None
