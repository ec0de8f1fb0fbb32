"""The model daemon over its real socket, with the real llama-cpp runtime on the tiny model."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import msgpack
import pytest

from chmocoder.engine.client import DaemonClient, DaemonSpec
from chmocoder.engine.models import fingerprint
from chmocoder.engine.protocol import MAX_FRAME, PROTOCOL_VERSION, Hello, encode
from chmocoder.engine.types import EngineError, GenerationParams, Priority

LONG = GenerationParams(max_tokens=6000, temperature=0.8)
"""Long enough (seconds on the tiny model) to cancel, preempt or kill in the middle."""


@pytest.fixture
def spec(tiny_model: Path) -> DaemonSpec:
    return DaemonSpec(
        runtime="llama-cpp",
        model=tiny_model,
        fingerprint=fingerprint(tiny_model),
        n_ctx=8192,
        n_threads=1,
        idle_s=30,
    )


@pytest.fixture
async def clients(spec: DaemonSpec) -> AsyncIterator[list[DaemonClient]]:
    made: list[DaemonClient] = []
    yield made
    if made:
        await made[0].connect()
        await made[0].shutdown_daemon()
    for client in made:
        await client.close()


async def connect(
    spec: DaemonSpec, clients: list[DaemonClient], name: str = "test"
) -> DaemonClient:
    client = DaemonClient(spec, name)
    await client.connect()
    clients.append(client)
    return client


async def wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.02)):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_two_clients_share_one_daemon_and_one_model(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    a = await connect(spec, clients, "a")
    b = await connect(spec, clients, "b")
    assert a.daemon_pid == b.daemon_pid
    ra = await a.generate("hello", GenerationParams(max_tokens=5, seed=1))
    rb = await b.generate("world", GenerationParams(max_tokens=5, seed=1))
    assert ra.usage.completion_tokens and rb.usage.completion_tokens
    stats = await a.stats()
    assert stats.clients == 2 and stats.completed == 2
    socket_path = spec.socket_path()
    assert (socket_path.parent.stat().st_mode & 0o777) == 0o700
    assert (socket_path.stat().st_mode & 0o777) == 0o600


async def test_cancel_stops_generation_within_tokens(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    client = await connect(spec, clients)
    pieces: list[str] = []
    task = asyncio.create_task(client.generate("story:", LONG, on_token=pieces.append))
    await wait_until(lambda: _true(len(pieces) >= 5))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    at_cancel = len(pieces)
    await wait_until(lambda: _not_running(client))
    await asyncio.sleep(0.2)
    assert len(pieces) <= at_cancel + 2  # nothing streamed after the cancel but a token in flight
    stats = await client.stats()
    assert (stats.completed, stats.cancelled) == (0, 1)
    quick = await client.generate("next", GenerationParams(max_tokens=3))  # the daemon serves on
    assert quick.finish_reason == "length"


async def test_killed_daemon_errors_then_next_request_restarts(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    client = await connect(spec, clients)
    first_pid = client.daemon_pid
    assert first_pid is not None
    pieces: list[str] = []
    task = asyncio.create_task(client.generate("story:", LONG, on_token=pieces.append))
    await wait_until(lambda: _true(len(pieces) >= 3))
    os.kill(first_pid, signal.SIGKILL)
    with pytest.raises(EngineError) as error:
        await task
    assert error.value.code == "daemon-died" and "next request" in error.value.message
    again = await client.generate("hello", GenerationParams(max_tokens=4))
    assert again.usage.completion_tokens > 0
    assert client.daemon_pid not in (None, first_pid)


async def test_garbage_on_the_socket_does_not_stop_others(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    good = await connect(spec, clients)
    path = str(spec.socket_path())
    for garbage in (
        b"\xff" * 64,
        struct.pack(">I", 20) + b"\xc1" * 20,
        struct.pack(">I", MAX_FRAME + 1),
    ):
        answer = await _raw_exchange(path, garbage)
        assert answer.get("type") == "error" and answer.get("code") == "protocol", answer
    result = await good.generate("still here", GenerationParams(max_tokens=3))
    assert result.usage.completion_tokens > 0


async def test_wrong_protocol_version_is_refused(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    await connect(spec, clients)
    answer = await _raw_exchange(
        str(spec.socket_path()), encode(Hello(protocol=PROTOCOL_VERSION + 1))
    )
    assert answer["code"] == "protocol" and "version" in answer["message"]
    # a client of another version never meets it: its daemon has its own socket
    assert spec.socket_path().name.endswith(f"-p{PROTOCOL_VERSION}.sock")


async def test_invalid_frame_fields_are_refused(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    await connect(spec, clients)
    hello = encode(Hello(protocol=PROTOCOL_VERSION))
    bad = msgpack.packb({"type": "generate", "id": "one", "prompt": 5})
    answer = await _raw_exchange(
        str(spec.socket_path()), hello + struct.pack(">I", len(bad)) + bad, skip=1
    )
    assert answer["code"] == "protocol" and "generate" in answer["message"]


async def test_stale_socket_file_is_cleaned_up(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    path = spec.socket_path()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # a socket file nobody listens on, as a crashed daemon leaves
    stale.close()
    client = await connect(spec, clients)
    assert (await client.generate("x", GenerationParams(max_tokens=2))).usage.completion_tokens > 0


async def test_identical_requests_are_joined(spec: DaemonSpec, clients: list[DaemonClient]) -> None:
    a = await connect(spec, clients, "a")
    b = await connect(spec, clients, "b")
    # the second asks once the first is generating, with most of its 1,000 tokens to go
    # (a fixed pause raced the tiny model, which can write 300 tokens in under 50 ms)
    params = GenerationParams(max_tokens=1000, temperature=0.9)
    started = asyncio.Event()
    first = asyncio.create_task(a.generate("same prompt", params, on_token=lambda _: started.set()))
    await started.wait()
    second = asyncio.create_task(b.generate("same prompt", params))
    ra, rb = await asyncio.gather(first, second)
    assert ra.text == rb.text  # one generation (temperature 0.9, no seed: two would differ)
    assert (await a.stats()).joined == 1


async def test_interactive_preempts_background_which_then_finishes(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    review = await connect(spec, clients, "review")
    hover = await connect(spec, clients, "hover")
    pieces: list[str] = []
    background = asyncio.create_task(
        review.generate(
            "background:",
            GenerationParams(max_tokens=400, seed=9),
            priority=Priority.BACKGROUND,
            on_token=pieces.append,
        )
    )
    await wait_until(lambda: _true(len(pieces) >= 10))
    interactive = await hover.generate(
        "hover:", GenerationParams(max_tokens=5), priority=Priority.INTERACTIVE
    )
    assert interactive.usage.completion_tokens > 0
    assert not background.done()  # the hover finished first
    result = await background
    assert (await review.stats()).preempted >= 1
    assert result.text == "".join(pieces)
    assert result.usage.completion_tokens >= 390  # it resumed and completed its budget


async def test_priorities_and_round_robin_order(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    a = await connect(spec, clients, "a")
    b = await connect(spec, clients, "b")
    order: list[str] = []

    async def run(client: DaemonClient, name: str, priority: Priority) -> None:
        await client.generate(name, GenerationParams(max_tokens=2), priority=priority)
        order.append(name)

    # a blocker that runs until it is cancelled, so all four wait in the queue whatever the
    # machine's speed (a short one could finish before they are queued on a fast machine)
    blocker = asyncio.create_task(a.generate("blocker", LONG))
    await asyncio.sleep(0.3)
    tasks = [
        asyncio.create_task(run(a, "a-bg", Priority.BACKGROUND)),
        asyncio.create_task(run(a, "a1", Priority.INTERACTIVE)),
        asyncio.create_task(run(a, "a2", Priority.INTERACTIVE)),
        asyncio.create_task(run(b, "b1", Priority.INTERACTIVE)),
    ]
    await asyncio.sleep(0.5)
    assert not blocker.done()
    blocker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await blocker
    await asyncio.gather(*tasks)
    assert order == ["a1", "b1", "a2", "a-bg"]


async def test_full_queue_answers_busy(spec: DaemonSpec, clients: list[DaemonClient]) -> None:
    small = DaemonSpec(**{**spec.__dict__, "max_queue": 2, "n_threads": 2})
    client = await connect(small, clients)
    running = asyncio.create_task(client.generate("long", LONG))
    await asyncio.sleep(0.3)
    waiting = [
        asyncio.create_task(client.generate(f"q{i}", GenerationParams(max_tokens=1)))
        for i in range(2)
    ]
    await asyncio.sleep(0.1)
    with pytest.raises(EngineError) as error:
        await client.generate("one too many", GenerationParams(max_tokens=1))
    assert error.value.code == "busy"
    running.cancel()
    for task in waiting:
        await task


async def test_deadline(spec: DaemonSpec, clients: list[DaemonClient]) -> None:
    client = await connect(spec, clients)
    pieces: list[str] = []
    with pytest.raises(EngineError) as error:
        await client.generate("slow", LONG, timeout_ms=300, on_token=pieces.append)
    assert error.value.code == "deadline"
    assert pieces  # it had started
    assert (
        await client.generate("after", GenerationParams(max_tokens=2))
    ).usage.completion_tokens > 0


async def test_count_tokens_uses_the_model_tokenizer(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    client = await connect(spec, clients)
    assert await client.count_tokens("hello world") == 12  # the tiny vocabulary: bytes + "▁"


async def test_daemon_exits_when_idle_and_removes_its_socket(spec: DaemonSpec) -> None:
    quick = DaemonSpec(**{**spec.__dict__, "idle_s": 0.5})
    client = DaemonClient(quick)
    await client.connect()
    await client.close()
    await wait_until(lambda: _true(not quick.socket_path().exists()), timeout=15)


async def test_load_failure_is_reported(tmp_path: Path, tiny_model: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(tiny_model.read_bytes()[:300_000])
    client = DaemonClient(
        DaemonSpec(
            runtime="llama-cpp", model=bad, fingerprint="bad" * 5, n_ctx=2048, n_threads=1, idle_s=5
        )
    )
    with pytest.raises(EngineError) as error:
        await client.connect()
    assert error.value.code in ("model-invalid", "model-load")
    assert "bad.gguf" in error.value.message


async def _true(value: bool) -> bool:
    return value


async def _not_running(client: DaemonClient) -> bool:
    return not (await client.stats()).running


async def _raw_exchange(path: str, payload: bytes, skip: int = 0) -> dict:
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(payload)
    await writer.drain()
    try:
        for _ in range(skip + 1):
            length = struct.unpack(">I", await asyncio.wait_for(reader.readexactly(4), 5))[0]
            frame = msgpack.unpackb(await reader.readexactly(length))
        rest = await asyncio.wait_for(reader.read(), 5)
        assert rest == b""  # and the daemon closed the connection
        return frame
    finally:
        writer.close()


async def test_a_stopped_daemon_is_reported_not_replaced(
    spec: DaemonSpec, clients: list[DaemonClient]
) -> None:
    """SIGSTOP: the socket accepts but nobody answers. Not "stale": the socket stays, no
    second daemon is started, and the error says which process and what to do."""
    first = await connect(spec, clients)
    pid = first.daemon_pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(EngineError) as error:
            await DaemonClient(spec, "second").connect()
        assert error.value.code == "daemon-unresponsive"
        assert f"pid {pid}" in error.value.message and "not responding" in error.value.message
        assert asyncio.get_running_loop().time() - started < 15
        assert spec.socket_path().exists()
    finally:
        os.kill(pid, signal.SIGCONT)
    again = await connect(spec, clients, "third")
    assert again.daemon_pid == pid  # the same daemon, resumed


async def test_a_socket_served_by_another_user_is_not_trusted(
    spec: DaemonSpec, tmp_path: Path
) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to serve a socket as another user")
    import subprocess
    import sys
    import tempfile

    elsewhere = Path(tempfile.mkdtemp(prefix="chmo-planted-"))
    elsewhere.chmod(0o777)
    planted_path = elsewhere / "daemon.sock"
    server = (
        "import os, socket, sys, time\n"
        "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)\n"
        "s.listen(); print('ready', flush=True)\n"
        "while True:\n    c, _ = s.accept(); time.sleep(30)\n"
    )
    planted = subprocess.Popen(
        ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
         sys.executable, "-c", server, str(planted_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert planted.stdout is not None and planted.stdout.readline().strip() == "ready"
        path = spec.socket_path()
        path.unlink(missing_ok=True)
        path.symlink_to(planted_path)  # the socket path leads to the other user's daemon
        with pytest.raises(EngineError) as error:
            await DaemonClient(spec, "victim").connect()
        assert error.value.code == "daemon-untrusted" and "uid 65534" in error.value.message
    finally:
        planted.kill()
        planted.wait()
        spec.socket_path().unlink(missing_ok=True)
        import shutil

        shutil.rmtree(elsewhere, ignore_errors=True)


def test_a_runtime_folder_made_by_another_user_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The XDG folder is unset and the temporary fallbacks are another user's, or a link:
    a private folder of our own is used and the log says so, no traceback."""
    import tempfile

    from chmocoder.engine import client

    if os.getuid() != 0:
        pytest.skip("needs root to make folders of another user")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(client, "_fallback", None)
    theirs = tmp_path / f"runtime-{os.getuid()}"
    theirs.mkdir(mode=0o777)
    os.chown(theirs, 65534, 65534)
    (tmp_path / f"chmocoder-{os.getuid()}").symlink_to(theirs)
    with caplog.at_level("WARNING", logger="chmocoder.engine.client"):
        folder = client.runtime_dir()
        again = client.runtime_dir()
    assert folder == again and folder.parent == tmp_path and folder.is_dir()
    assert not folder.is_symlink() and folder.stat().st_uid == os.getuid()
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert sum("not ours" in r.message for r in caplog.records) == 1
