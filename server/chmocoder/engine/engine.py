"""The engine: what the rest of ChMOCoder calls to turn a prompt into text.

Local runtimes (llama-cpp, ctransformers) run in the shared model daemon; the
openai runtime talks to its server from this process. Finished generations
are cached on disk. Every call is reported to `on_record` (task, model,
tokens, timings, cache hit, cancelled) for the log and `chmocoder stats`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from chmocoder.engine.cache import ResultCache, cache_key
from chmocoder.engine.catalogue import Progress, catalogue
from chmocoder.engine.client import DaemonClient, DaemonSpec
from chmocoder.engine.models import check_model, fingerprint, resolve_model
from chmocoder.engine.runtimes import LOCAL_RUNTIMES, OpenAISettings, Runtime
from chmocoder.engine.types import (
    EngineError,
    GenerationParams,
    GenerationResult,
    ModelInfo,
    Priority,
    Prompt,
    TokenCallback,
    prompt_text,
)

log = logging.getLogger(__name__)

LOAD_FAILURES = ("model-invalid", "model-load", "daemon-start")
"""Errors that a damaged model file would give: a catalogue model is checked again on them."""

T_co = TypeVar("T_co")


@dataclass(frozen=True)
class EngineConfig:
    """What the engine needs, built from Settings by compose.engine_config (the defaults are
    Settings'); two equal configs mean the same engine can go on serving."""

    model: str
    runtime: str
    endpoint: str
    api_key_env: str
    n_ctx: int
    n_threads: int
    cache_dir: Path
    idle_s: float
    connect_timeout_s: float
    first_byte_timeout_s: float
    request_timeout_s: float
    prompt_cache_mib: int = 512
    reuse_prompts: bool = True
    endpoint_fim: str = "auto"
    endpoint_max_in_flight: int = 4
    use_cache: bool = True
    """False: no result cache (benchmarks of cold generations)."""


@dataclass(frozen=True)
class CallRecord:
    task: str
    model: str
    runtime: str
    prompt_tokens: int
    completion_tokens: int
    queue_ms: float
    first_token_ms: float
    total_ms: float
    tokens_per_second: float
    cache_hit: bool
    cancelled: bool
    error: str | None = None
    prompt: str | None = None
    """Only when the user turned logPrompts on."""


def _in_daemon_thread(function: Callable[..., T_co], *args: object) -> asyncio.Future[T_co]:
    """Run a blocking call in a daemon thread: unlike the default executor's threads, a call
    stuck on a server that never answers cannot keep the process from exiting."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T_co] = loop.create_future()

    def deliver(ok: bool, value: object) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)  # type: ignore[arg-type]
        else:
            future.set_exception(value)  # type: ignore[arg-type]

    def run() -> None:
        try:
            value: object = function(*args)
            ok = True
        except BaseException as exc:  # handed to the awaiting task
            value, ok = exc, False
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(deliver, ok, value)

    threading.Thread(target=run, name="chmocoder-model-call", daemon=True).start()
    return future


class _InProcess:
    """Runs a runtime in a worker thread of this process (the openai runtime)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.model = runtime.info

    async def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        *,
        priority: Priority = Priority.INTERACTIVE,
        timeout_ms: int | None = None,
        on_token: TokenCallback | None = None,
    ) -> GenerationResult:
        loop = asyncio.get_running_loop()
        stopped = False

        def deliver(text: str) -> None:
            nonlocal stopped
            if on_token is not None and on_token(text) is False:
                stopped = True

        def sink(text: str) -> bool:
            if text:  # "" only asks whether to go on (runtimes/base.py)
                loop.call_soon_threadsafe(deliver, text)
            return not stopped

        interactive = priority == Priority.INTERACTIVE

        def generate() -> GenerationResult:
            return self.runtime.generate(prompt, params, sink, interactive=interactive)

        work = _in_daemon_thread(generate)
        try:
            return await asyncio.wait_for(
                asyncio.shield(work), timeout_ms / 1000 if timeout_ms else None
            )
        except TimeoutError:
            stopped = True
            raise EngineError(
                "deadline", "the request's deadline passed while generating"
            ) from None
        except asyncio.CancelledError:
            stopped = True
            raise

    async def count_tokens(self, text: str) -> int:
        return self.runtime.count_tokens(text)

    async def close(self) -> None:
        self.runtime.close()


class Engine:
    def __init__(
        self, config: EngineConfig, on_record: Callable[[CallRecord], None] | None = None
    ) -> None:
        self.config = config
        self.cache = ResultCache(config.cache_dir / "results")
        self.on_record = on_record
        self.on_progress: Progress | None = None
        """Called (from a worker thread) with bytes done / in all while a model is assembled."""
        self.on_wait: Callable[[str], None] | None = None
        """Called (from a worker thread) with what a request waits for (a busy model server
        it asks again), for the status bar."""
        self.log_prompts = False
        self._backend: DaemonClient | _InProcess | None = None
        self._start_lock = asyncio.Lock()
        self.info: ModelInfo | None = None

    def _waiting(self, what: str) -> None:
        if self.on_wait is not None:
            self.on_wait(what)

    async def start(self) -> ModelInfo:
        """Resolve and check the model, then connect to (or start) its daemon."""
        async with self._start_lock:
            if self.info is not None and self._backend is not None:
                return self.info
            c = self.config
            if c.runtime == "openai":
                from chmocoder.engine.runtimes.openai import OpenAIRuntime

                settings = OpenAISettings(
                    n_ctx=c.n_ctx,
                    endpoint=c.endpoint,
                    api_key=os.environ.get(c.api_key_env) or None,
                    model_name="" if c.model == "default" else c.model,
                    connect_timeout_s=c.connect_timeout_s,
                    first_byte_timeout_s=c.first_byte_timeout_s,
                    request_timeout_s=c.request_timeout_s,
                    fim=c.endpoint_fim,
                    max_in_flight=c.endpoint_max_in_flight,
                )
                runtime = await asyncio.to_thread(OpenAIRuntime, settings)
                runtime.on_wait = self._waiting
                self._backend = _InProcess(runtime)
                self.info = runtime.info
                return self.info
            if c.runtime not in LOCAL_RUNTIMES:
                raise EngineError("runtime-unknown", f"unknown runtime {c.runtime!r}")
            try:
                client = await self._connect_local(recheck=False)
            except EngineError as exc:
                if exc.code not in LOAD_FAILURES or catalogue().get(c.model) is None:
                    raise
                # A catalogue model that fails to load may be damaged in a way its recorded
                # size and time did not show: hash it again; a damaged one is assembled anew.
                log.warning("%s; checking the model file again", exc.message)
                client = await self._connect_local(recheck=True)
            self.info = await client.connect()
            self._backend = client
            return self.info

    async def _connect_local(self, *, recheck: bool) -> DaemonClient:
        """A client of the model's daemon, connected (the daemon started if need be)."""
        c = self.config
        path = await asyncio.to_thread(
            resolve_model, c.model, c.cache_dir, self.on_progress, recheck=recheck
        )
        await asyncio.to_thread(check_model, path)
        spec = DaemonSpec(
            runtime=c.runtime,
            model=path.resolve(),
            fingerprint=await asyncio.to_thread(fingerprint, path),
            n_ctx=c.n_ctx,
            n_threads=c.n_threads,
            idle_s=c.idle_s,
            prompt_cache_mib=c.prompt_cache_mib,
            reuse_prompts=c.reuse_prompts,
        )
        client = DaemonClient(spec)
        await client.connect()
        return client

    @property
    def daemon(self) -> DaemonClient | None:
        return self._backend if isinstance(self._backend, DaemonClient) else None

    async def generate(
        self,
        task: str,
        prompt: Prompt,
        params: GenerationParams | None = None,
        *,
        priority: Priority = Priority.INTERACTIVE,
        timeout_ms: int | None = None,
        on_token: TokenCallback | None = None,
        use_cache: bool = True,
        keep_stopped: bool = True,
    ) -> GenerationResult:
        """Generate text for a task; a cached answer is returned (and streamed) at once.
        An answer `on_token` stopped is the answer (and cached), unless `keep_stopped` is
        False: then the caller stopped it because it was of no use, and it is not kept."""
        params = params or GenerationParams()
        info = await self.start()
        assert self._backend is not None
        key = cache_key(info.fingerprint, info.runtime, task, prompt, params)
        caching = use_cache and self.config.use_cache
        started = time.perf_counter()
        if caching:
            hit = self._cached(key, task, info, prompt)
            if hit is not None:
                if on_token is not None and hit.text:
                    on_token(hit.text)
                return hit
        if timeout_ms is None:  # every request has a deadline, on every runtime
            timeout_ms = int(self.config.request_timeout_s * 1000)
        stopped = False
        if on_token is not None and not keep_stopped:
            told = on_token

            def on_token(text: str) -> bool | None:
                nonlocal stopped
                said = told(text)
                stopped = stopped or said is False
                return said

        try:
            result = await self._backend.generate(
                prompt, params, priority=priority, timeout_ms=timeout_ms, on_token=on_token
            )
        except asyncio.CancelledError:
            self._record(task, info, None, started, cancelled=True, prompt=prompt)
            raise
        except EngineError as exc:
            self._record(task, info, None, started, error=exc.code, prompt=prompt)
            raise
        answered = result.text.strip() or result.scores
        if caching and result.finish_reason in ("stop", "length") and answered and not stopped:
            await asyncio.to_thread(self.cache.put, key, result)
        self._record(
            task,
            info,
            result,
            started,
            cancelled=result.finish_reason == "cancelled",
            prompt=prompt,
        )
        return result

    def cached(
        self, task: str, prompt: Prompt, params: GenerationParams
    ) -> GenerationResult | None:
        """The result cache's answer to this request, at once (no await, no model); None if
        it has none, or before the model has started (its fingerprint is in the key)."""
        info = self.info
        if info is None or not self.config.use_cache:
            return None
        key = cache_key(info.fingerprint, info.runtime, task, prompt, params)
        return self._cached(key, task, info, prompt)

    def _cached(
        self, key: str, task: str, info: ModelInfo, prompt: Prompt
    ) -> GenerationResult | None:
        started = time.perf_counter()
        hit = self.cache.get(key)  # memory, else one small file: cheaper than a thread hop
        if hit is not None:
            self._record(task, info, hit, started, cache_hit=True, prompt=prompt)
        return hit

    async def count_tokens(self, text: str) -> int:
        await self.start()
        assert self._backend is not None
        return await self._backend.count_tokens(text)

    async def close(self) -> None:
        if self._backend is not None:
            with contextlib.suppress(Exception):
                await self._backend.close()
        self._backend = None
        self.info = None

    def _record(
        self,
        task: str,
        info: ModelInfo,
        result: GenerationResult | None,
        started: float,
        *,
        cache_hit: bool = False,
        cancelled: bool = False,
        error: str | None = None,
        prompt: Prompt | None = None,
    ) -> None:
        if self.on_record is None:
            return
        t = result.timings if result else None
        record = CallRecord(
            task=task,
            model=info.name,
            runtime=info.runtime,
            prompt_tokens=result.usage.prompt_tokens if result else 0,
            completion_tokens=result.usage.completion_tokens if result else 0,
            queue_ms=t.queue_ms if t and not cache_hit else 0.0,
            first_token_ms=(t.queue_ms + t.prompt_ms) if t and not cache_hit else 0.0,
            total_ms=(time.perf_counter() - started) * 1000,
            tokens_per_second=t.tokens_per_second if t and not cache_hit else 0.0,
            cache_hit=cache_hit,
            cancelled=cancelled,
            error=error,
            prompt=prompt_text(prompt) if self.log_prompts and prompt is not None else None,
        )
        try:
            self.on_record(record)
        except Exception:
            log.exception("recording a model call failed")
