"""The daemon's scheduler: one model, many clients.

- Interactive work runs before background work; within a priority, clients
  take turns (round-robin), each client's requests in order.
- A request identical to one queued or running (same prompt and parameters)
  joins it: it gets the text so far, then the rest, from one generation.
- Interactive work arriving while background work generates preempts it: the
  background job stops after its current token and goes back to the front of
  its queue; when it runs again it continues from the text it had (the prompt
  plus that text, which the KV cache mostly still holds).
- Cancelling the last subscriber of a job stops it within a token.
- Deadlines are checked in the queue and after every token.
- The queue is bounded: past `max_queue` waiting jobs a request gets "busy".
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pydantic import BaseModel

from chmocoder.engine.protocol import Done, Error, Token
from chmocoder.engine.runtimes import Runtime
from chmocoder.engine.types import (
    EngineError,
    FinishReason,
    GenerationParams,
    GenerationResult,
    Priority,
    Prompt,
    Timings,
    Usage,
    request_key,
)

log = logging.getLogger(__name__)

Sink = Callable[[BaseModel], None]
"""Sends a frame to one client without blocking."""

MAX_QUEUE = 64


@dataclass(eq=False)
class Subscription:
    client: int
    request: int
    sink: Sink


@dataclass(eq=False)
class Job:
    key: str
    prompt: Prompt
    params: GenerationParams
    priority: Priority
    client: int
    deadline: float | None
    subscriptions: list[Subscription]
    enqueued: float = field(default_factory=time.monotonic)
    pieces: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    stop_reason: FinishReason | None = None
    started: float | None = None
    prompt_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def text(self) -> str:
        return "".join(self.pieces)


class Scheduler:
    def __init__(self, runtime: Runtime, max_queue: int = MAX_QUEUE) -> None:
        self.runtime = runtime
        self.max_queue = max_queue
        self._queues: dict[Priority, OrderedDict[int, deque[Job]]] = {
            p: OrderedDict() for p in Priority
        }
        self._jobs: dict[str, Job] = {}
        self._by_request: dict[tuple[int, int], Job] = {}
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chmocoder-generate")
        self.running: Job | None = None
        self.completed = 0
        self.joined = 0
        self.preempted = 0
        self.cancelled = 0
        self.last_activity = time.monotonic()

    # --- requests -------------------------------------------------------------------

    def queued(self) -> int:
        return sum(len(d) for queue in self._queues.values() for d in queue.values())

    @property
    def idle(self) -> bool:
        return self.running is None and self.queued() == 0

    def submit(
        self,
        client: int,
        request: int,
        prompt: Prompt,
        params: GenerationParams,
        priority: Priority,
        timeout_ms: int | None,
        sink: Sink,
    ) -> None:
        """Queue a request or join an identical one; raises EngineError("busy") when full."""
        self.last_activity = time.monotonic()
        deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms else None
        subscription = Subscription(client, request, sink)
        key = request_key(prompt, params)  # identical requests share one job
        job = self._jobs.get(key)
        if job is not None:
            job.subscriptions.append(subscription)
            self._by_request[(client, request)] = job
            self.joined += 1
            for piece in job.pieces:
                sink(Token(id=request, text=piece))
            job.deadline = (
                None if deadline is None or job.deadline is None else max(job.deadline, deadline)
            )
            if priority < job.priority:
                self._promote(job, priority)
            return
        if self.queued() >= self.max_queue:
            raise EngineError(
                "busy", f"the model is busy ({self.max_queue} requests waiting); try again shortly"
            )
        job = Job(key, prompt, params, priority, client, deadline, [subscription])
        self._jobs[key] = job
        self._by_request[(client, request)] = job
        self._enqueue(job)
        self._preempt_for(priority)
        self._wakeup.set()

    def cancel(self, client: int, request: int) -> None:
        job = self._by_request.pop((client, request), None)
        if job is None:
            return
        job.subscriptions = [
            s for s in job.subscriptions if (s.client, s.request) != (client, request)
        ]
        if job.subscriptions:
            return
        self._forget(job)  # an identical request from now on is a new job, not this one
        if job is self.running:
            job.stop_reason = "cancelled"
            job.stop.set()
        else:
            self._remove_queued(job)

    def drop_client(self, client: int) -> None:
        """A client disconnected: cancel everything it asked for."""
        for c, request in [key for key in self._by_request if key[0] == client]:
            self.cancel(c, request)

    # --- queues ---------------------------------------------------------------------

    def _enqueue(self, job: Job, *, front: bool = False) -> None:
        waiting = self._queues[job.priority].setdefault(job.client, deque())
        if front:
            waiting.appendleft(job)
        else:
            waiting.append(job)

    def _remove_queued(self, job: Job) -> None:
        queue = self._queues[job.priority]
        waiting = queue.get(job.client)
        if waiting is not None and job in waiting:
            waiting.remove(job)
            if not waiting:
                del queue[job.client]

    def _promote(self, job: Job, priority: Priority) -> None:
        if job is not self.running:
            self._remove_queued(job)
            job.priority = priority
            self._enqueue(job)
            self._preempt_for(priority)
        else:
            job.priority = priority

    def _preempt_for(self, priority: Priority) -> None:
        running = self.running
        if (
            priority == Priority.INTERACTIVE
            and running is not None
            and running.priority == Priority.BACKGROUND
        ):
            running.stop_reason = "preempted"
            running.stop.set()

    def _next(self) -> Job | None:
        for priority in sorted(self._queues):
            queue = self._queues[priority]
            for client in list(queue):
                waiting = queue[client]
                job = waiting.popleft()
                if waiting:
                    queue.move_to_end(client)  # the next turn is another client's
                else:
                    del queue[client]
                return job
        return None

    # --- the worker -----------------------------------------------------------------

    async def run(self) -> None:
        """Take jobs off the queues for ever; generation runs in one worker thread."""
        loop = asyncio.get_running_loop()
        while True:
            job = self._next()
            if job is None:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if job.deadline is not None and time.monotonic() > job.deadline:
                self._fail(
                    job,
                    EngineError("deadline", "the request's deadline passed while it was queued"),
                )
                continue
            self.running = job
            job.stop.clear()
            job.stop_reason = None
            if job.started is None:
                job.started = time.monotonic()
            resume = job.text
            try:
                result = await loop.run_in_executor(
                    self._executor, self._generate, job, resume, loop
                )
            except EngineError as exc:
                self.running = None
                self._fail(job, exc)
                continue
            except Exception as exc:
                log.exception("generation failed")
                self.running = None
                self._fail(job, EngineError("generation", f"{type(exc).__name__}: {exc}"))
                continue
            self.running = None
            self.last_activity = time.monotonic()
            if job.prompt_ms is None and job.stop_reason != "preempted":
                job.prompt_ms = result.timings.prompt_ms
                job.prompt_tokens = result.usage.prompt_tokens
            job.completion_tokens += result.usage.completion_tokens
            if not job.subscriptions:  # everyone cancelled: nothing to deliver
                self._release(job)
                self.cancelled += 1
                continue
            if job.stop_reason == "preempted":
                self.preempted += 1
                self._enqueue(job, front=True)
                continue
            self._finish(job, result)

    def _generate(self, job: Job, resume: str, loop: asyncio.AbstractEventLoop) -> GenerationResult:
        # Tokens wait in `ready` until the event loop flushes them; at most one flush is
        # scheduled at a time, so a busy loop gets tokens in batches instead of one
        # wake-up per token (on a small machine those wake-ups slow generation itself).
        ready: list[str] = []
        lock = threading.Lock()
        scheduled = False

        def flush() -> None:
            nonlocal scheduled
            with lock:
                pieces = ready[:]
                ready.clear()
                scheduled = False
            if pieces:
                self._deliver(job, "".join(pieces))

        def on_token(text: str) -> bool:
            nonlocal scheduled
            if job.stop.is_set():
                return False
            if job.deadline is not None and time.monotonic() > job.deadline:
                job.stop_reason = "deadline"
                return False
            if not text:  # asked between chunks of the prompt: go on, deliver nothing
                return True
            with lock:
                ready.append(text)
                wake = not scheduled
                scheduled = True
            if wake:
                loop.call_soon_threadsafe(flush)
            return True

        remaining = max(1, job.params.max_tokens - job.completion_tokens)
        params = job.params.model_copy(update={"max_tokens": remaining})
        interactive = job.priority == Priority.INTERACTIVE
        return self.runtime.generate(job.prompt, params, on_token, resume, interactive=interactive)

    def _deliver(self, job: Job, text: str) -> None:
        job.pieces.append(text)
        for subscription in job.subscriptions:
            subscription.sink(Token(id=subscription.request, text=text))

    def _forget(self, job: Job) -> None:
        if self._jobs.get(job.key) is job:
            del self._jobs[job.key]

    def _release(self, job: Job) -> list[Subscription]:
        self._forget(job)
        for s in job.subscriptions:
            self._by_request.pop((s.client, s.request), None)
        return job.subscriptions

    def _finish(self, job: Job, result: GenerationResult) -> None:
        subscriptions = self._release(job)
        if job.stop_reason == "deadline":
            for s in subscriptions:
                s.sink(
                    Error(
                        id=s.request,
                        code="deadline",
                        message="the request's deadline passed while generating",
                    )
                )
            return
        now = time.monotonic()
        started = job.started if job.started is not None else now
        final = GenerationResult(
            text=job.text,
            finish_reason=job.stop_reason or result.finish_reason,
            usage=Usage(prompt_tokens=job.prompt_tokens, completion_tokens=job.completion_tokens),
            timings=Timings(
                queue_ms=(started - job.enqueued) * 1000,
                prompt_ms=job.prompt_ms or 0.0,
                total_ms=(now - job.enqueued) * 1000,
                tokens_per_second=result.timings.tokens_per_second,
            ),
            scores=result.scores,
        )
        self.completed += 1
        for s in subscriptions:
            s.sink(Done(id=s.request, result=final))

    def _fail(self, job: Job, error: EngineError) -> None:
        for s in self._release(job):
            s.sink(Error(id=s.request, code=error.code, message=error.message))

    def shutdown(self) -> None:
        if self.running is not None:
            self.running.stop_reason = "cancelled"
            self.running.stop.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
