"""Any OpenAI-compatible server (llama-server, Ollama, vLLM, llama-cpp-python's server).

Streams over server-sent events with the standard library's HTTP client. Only
standard request fields are sent (strict servers reject unknown ones), so
repeat_penalty is not forwarded, and JSON output is validated by the engine
rather than constrained by the server.

The server is not trusted to behave: every read is bounded (line, event and body
size), the connection and the first byte have short timeouts, the whole request
has a deadline, and our own count of tokens ends a stream that ignores
max_tokens. A malformed answer is an error with a message, never an empty answer.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from chmocoder.engine.runtimes import openai_fim
from chmocoder.engine.runtimes.base import (
    Collector,
    OpenAISettings,
    TokenSink,
    no_infill,
    no_scores,
)
from chmocoder.engine.types import (
    EngineError,
    GenerationParams,
    GenerationResult,
    Infill,
    ModelInfo,
    Prompt,
    Usage,
    prompt_text,
)
from chmocoder.tokens import estimate_tokens

log = logging.getLogger(__name__)

MAX_LINE = 1 << 20
"""An SSE line (one event's data) longer than this is refused."""
MAX_BODY = 32 << 20
"""A response (stream or JSON) larger than this is refused."""
MAX_MALFORMED = 20
TOKEN_SLACK = 8
"""Pieces beyond max_tokens tolerated (servers count tokens their own way) before we stop."""
BUSY = (429, 503)
"""Answers that mean "later": asked again, backing off, within the request's deadline."""
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0

_in_flight: dict[str, threading.BoundedSemaphore] = {}
_in_flight_lock = threading.Lock()
_ways: dict[tuple[str, str, str], openai_fim.FimWay | None] = {}
"""How each endpoint fills in the middle, found once per process (endpoint, model, mode)."""
_one_sample: set[tuple[str, str]] = set()
"""(endpoint, model)s that refused `n` or ignored it: asked for one sample at a time."""


def _limit(endpoint: str, count: int) -> threading.BoundedSemaphore:
    with _in_flight_lock:
        if endpoint not in _in_flight:
            _in_flight[endpoint] = threading.BoundedSemaphore(count)
        return _in_flight[endpoint]


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise EngineError("deadline", "the model server did not finish in time")
        return left


class OpenAIRuntime:
    def __init__(self, settings: OpenAISettings) -> None:
        parts = urlsplit(settings.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EngineError(
                "endpoint-invalid", f"endpoint {settings.endpoint!r} is not an http(s) URL"
            )
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base = parts.path.rstrip("/")
        self.api_key = settings.api_key
        self.connect_timeout = settings.connect_timeout_s
        self.first_byte_timeout = settings.first_byte_timeout_s
        self.request_timeout = settings.request_timeout_s
        self.root = openai_fim.root_of(self.base)
        self.in_flight = _limit(settings.endpoint, settings.max_in_flight)
        self.model = settings.model_name or self._first_model()
        self.fim_mode = cast(openai_fim.FimMode, settings.fim)
        self.info = ModelInfo(
            path=settings.endpoint,
            name=self.model,
            architecture="remote",
            context_length=settings.n_ctx,
            size_bytes=0,
            runtime="openai",
            fingerprint=f"{settings.endpoint}#{self.model}",
            infill=self.fim_mode != "off",
        )
        self.endpoint = settings.endpoint
        self.on_wait: Callable[[str], None] | None = None
        """Told (from the request's thread) what a request waits for: a busy server."""

    def fim_way(self) -> openai_fim.FimWay | None:
        """How the server fills in the middle: found at the first fill-in-the-middle request
        (not at start: a slow or stuck server must not hold up the rest), then remembered
        for the endpoint and model."""
        mode = self.fim_mode
        key = (self.endpoint, self.model, mode)
        if key not in _ways:
            try:
                way = openai_fim.find_way(self.probe, self.model, mode)
            except openai_fim.Unanswered:  # not remembered: the next completion asks again
                raise EngineError(
                    "server-timeout",
                    f"model server at {self._where} did not answer whether it can fill in "
                    "the middle",
                ) from None
            _ways[key] = way
            if way is None:
                log.info("model server at %s: no way to fill in the middle (fim %s): "
                         "no inline completion", self._where, mode)  # fmt: skip
            else:
                log.info("model server at %s fills in the middle by %s", self._where,
                         way.describe())  # fmt: skip
        return _ways[key]

    def _path(self, path: str) -> str:
        """The server's own endpoints (/infill, /tokenize: openai_fim.ROOT_PATHS) are under
        its root; the OpenAI ones (/completions, /models) under the endpoint's base."""
        return (self.root if path in openai_fim.ROOT_PATHS else self.base) + path

    def probe(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """One short request (POST with `body`, else GET): (status, its JSON or None);
        status 0 when the server cannot be reached or does not answer in time."""
        connection = self._connection()
        try:
            connection.connect()
            assert connection.sock is not None
            connection.sock.settimeout(self.first_byte_timeout)
            headers = {**self._headers(), "Accept": "application/json"}
            connection.request("POST" if body is not None else "GET", self._path(path),
                               body=json.dumps(body) if body is not None else None,
                               headers=headers)  # fmt: skip
            response = connection.getresponse()
            raw = response.read(MAX_BODY)
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = None
            return response.status, data
        except (OSError, http.client.HTTPException):
            return 0, None
        finally:
            connection.close()

    def _connection(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.connect_timeout)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    @property
    def _where(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        deadline: _Deadline | None = None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, socket.socket]:
        """The response to a request, once the server takes it: a busy answer (429, 503) is
        asked again after a pause that doubles (or the server's Retry-After), within
        `deadline`; the log says so."""
        wait = FIRST_BACKOFF_S
        while True:
            try:
                return self._request_once(method, path, body)
            except _Busy as busy:
                pause = min(busy.retry_after or wait, MAX_BACKOFF_S)
                if deadline is None or deadline.end - time.monotonic() < pause:
                    raise EngineError(
                        "busy", f"the model server is busy ({busy.status}); try again later"
                    ) from None
                log.warning("model server at %s is busy (%d): asking again in %.1f s",
                            self._where, busy.status, pause)  # fmt: skip
                if self.on_wait is not None:
                    self.on_wait(
                        f"model server busy ({busy.status}): asking again in {pause:.1f} s"
                    )
                time.sleep(pause)
                wait = min(wait * 2, MAX_BACKOFF_S)

    def _request_once(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, socket.socket]:
        connection = self._connection()
        try:
            connection.connect()
        except (TimeoutError, OSError) as exc:
            connection.close()
            raise EngineError(
                "server-unreachable",
                f"model server at {self._where} cannot be reached "
                f"({exc.strerror or type(exc).__name__})",
            ) from None
        sock = connection.sock  # the response may take it over: keep it for read timeouts
        assert sock is not None
        try:
            sock.settimeout(self.first_byte_timeout)
            connection.request(
                method,
                self._path(path),
                body=json.dumps(body) if body else None,
                headers=self._headers(),
            )
            response = connection.getresponse()
        except TimeoutError:
            connection.close()
            raise EngineError(
                "server-timeout",
                f"model server at {self._where} did not answer within "
                f"{self.first_byte_timeout:g} s",
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise EngineError(
                "server-unreachable", f"model server at {self._where} did not answer: {exc}"
            ) from None
        if response.status != 200:
            try:
                detail = response.read(2000).decode("utf-8", errors="replace")
            except (OSError, http.client.HTTPException):
                detail = ""
            connection.close()
            if response.status in BUSY:
                after = response.getheader("Retry-After") or ""
                raise _Busy(response.status, float(after) if after.isdigit() else None)
            code = "unauthorized" if response.status in (401, 403) else "server-error"
            raise EngineError(
                code, f"model server answered {response.status}: {detail.strip()[:300]}"
            )
        return connection, response, sock

    def _first_model(self) -> str:
        connection, response, _sock = self._request("GET", "/models")
        try:
            data = json.loads(response.read(MAX_BODY))
            return str(data["data"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError, OSError, http.client.HTTPException):
            return "default"
        finally:
            connection.close()

    def count_tokens(self, text: str) -> int:
        """An estimate (an over-count): the API has no standard tokenizer endpoint."""
        return estimate_tokens(text)

    def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        on_token: TokenSink,
        resume: str = "",
        *,
        interactive: bool = False,
    ) -> GenerationResult:
        if params.score_from is not None:  # few servers return a prompt's token probabilities
            raise no_scores("openai")
        fim = self.fim_way() if isinstance(prompt, Infill) else None
        if isinstance(prompt, Infill) and fim is None:
            raise no_infill(
                f"the model server at {self._where} offers no way to fill in the middle "
                "(see `chmocoder doctor --endpoint`)"
            )
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        several = params.n > 1 and (self.endpoint, self.model) not in _one_sample
        if several:
            body["n"] = params.n
        if isinstance(prompt, Infill):
            assert fim is not None
            path, body = openai_fim.request(fim, prompt, resume, body)
        elif isinstance(prompt, str):
            path, body["prompt"] = "/completions", prompt + resume
        else:
            messages = [m.model_dump() for m in prompt]
            if resume:  # servers continue a trailing assistant message (llama-server, vLLM)
                messages.append({"role": "assistant", "content": resume})
            path, body["messages"] = "/chat/completions", messages
        collected = Collector(on_token)
        usage = Usage(prompt_tokens=self.count_tokens(prompt_text(prompt)))
        deadline = _Deadline(self.request_timeout)
        if not self.in_flight.acquire(timeout=deadline.left()):
            raise EngineError("busy", "too many requests to the model server are in flight")
        try:
            try:
                result = self._stream(path, body, deadline, collected, usage, params)
            except EngineError as exc:
                if not several or exc.code != "server-error":
                    raise
                self._one_at_a_time(f"refused n ({exc.message[:120]})")
                del body["n"]
                return self._stream(path, body, deadline, collected, usage, params)
            if several and not result.others:
                self._one_at_a_time("answered one sample where n asked for several")
            return result
        finally:
            self.in_flight.release()

    def _one_at_a_time(self, why: str) -> None:
        _one_sample.add((self.endpoint, self.model))
        log.info("model server at %s %s: samples are asked for one at a time", self._where, why)

    def _stream(
        self,
        path: str,
        body: dict[str, Any],
        deadline: _Deadline,
        collected: Collector,
        usage: Usage,
        params: GenerationParams,
    ) -> GenerationResult:
        connection, response, sock = self._request("POST", path, body, deadline)
        state = _Stream(collected, params.max_tokens + TOKEN_SLACK, int(body.get("n", 1)))
        buffer = b""
        read = 0
        try:
            while not state.finished:
                sock.settimeout(deadline.left())
                chunk = response.read1(65536)
                if not chunk:
                    if buffer:
                        state.line(buffer)
                    break
                read += len(chunk)
                if read > MAX_BODY:
                    raise EngineError(
                        "invalid-response",
                        f"the model server sent a body over {MAX_BODY >> 20} MiB",
                    )
                buffer += chunk
                while b"\n" in buffer and not state.finished:
                    line, buffer = buffer.split(b"\n", 1)
                    state.line(line)
                if len(buffer) > MAX_LINE:
                    raise EngineError(
                        "invalid-response",
                        f"the model server sent a line over {MAX_LINE >> 20} MiB",
                    )
        except TimeoutError:
            raise EngineError(
                "deadline", f"the model server did not finish within {self.request_timeout:g} s"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(
                "server-unreachable", f"the model server's stream broke: {exc}"
            ) from None
        finally:
            connection.close()
        if state.events == 0:
            raise EngineError(
                "invalid-response",
                "the model server's answer had no events (not an OpenAI-compatible stream)",
            )
        # servers that send no usage stream one event per token
        usage = state.usage or usage
        completion = usage.completion_tokens or len(collected.pieces)
        result = collected.result(state.finish, usage.prompt_tokens, completion)
        others = ["".join(state.others[i]) for i in sorted(state.others)]
        return result.model_copy(update={"others": others}) if others else result

    def close(self) -> None:
        pass


def _event(data: str) -> dict[str, Any] | None:
    """One SSE event's JSON object, or None if it is not one."""
    try:
        event = json.loads(data)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _usage(event: dict[str, Any]) -> Usage | None:
    """The token counts the server reports, if it reports them sanely."""
    reported = event.get("usage")
    if not isinstance(reported, dict):
        return None
    prompt = reported.get("prompt_tokens", 0)
    completion = reported.get("completion_tokens", 0)
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(prompt_tokens=max(0, prompt), completion_tokens=max(0, completion))


def _choices(event: dict[str, Any]) -> list[tuple[int, str, str]]:
    """(index, text, finish reason) of each of the event's choices (a choice without an
    index is the one at its position); empty text and reason where malformed."""
    choices = event.get("choices")
    if not isinstance(choices, list):
        return []
    out: list[tuple[int, str, str]] = []
    for position, choice in enumerate(choices):
        if not isinstance(choice, dict):
            continue
        index = choice.get("index", position)
        text = choice.get("text")
        if text is None:
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
        reason = choice.get("finish_reason")
        out.append((
            index if isinstance(index, int) and not isinstance(index, bool) else position,
            text if isinstance(text, str) else "",
            reason if isinstance(reason, str) else "",
        ))  # fmt: skip
    return out


def _texts_and_reasons(event: dict[str, Any]) -> list[tuple[int, str, str]]:
    """An OpenAI event's choices, or llama-server's own (/infill: {content, stop}) as the
    first."""
    if "choices" not in event and isinstance(event.get("content"), str):
        return [(0, event["content"], "stop" if event.get("stop") is True else "")]
    return _choices(event)


class _Busy(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(status)
        self.status = status
        self.retry_after = retry_after


class _Stream:
    """Reads one SSE stream's lines: the first sample's text to the collector, the further
    samples' (with `n`) to `others`, usage, the finish reason; stops at [DONE], when the sink
    asks, or past the token limit; counts malformed lines."""

    def __init__(self, collected: Collector, limit: int, samples: int = 1) -> None:
        self.collected = collected
        self.limit = limit
        self.samples = samples
        self.others: dict[int, list[str]] = {}
        self.finish = "length"
        self.usage: Usage | None = None
        self.events = 0
        self.malformed = 0
        self.finished = False

    def line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").strip()
        if not line.startswith("data:"):
            if line and not line.startswith((":", "event:", "id:", "retry:")):
                self._bad(line)
            return
        data = line[5:].strip()
        if data == "[DONE]":
            self.finished = True
            return
        event = _event(data)
        if event is None:
            self._bad(data)
            return
        self.events += 1
        self.usage = _usage(event) or self.usage
        for index, text, reason in _texts_and_reasons(event):
            if index == 0:
                if not self.collected.add(text):
                    self.finished = True
                if reason:
                    self.finish = reason
            elif 0 < index < self.samples:
                pieces = self.others.setdefault(index, [])
                if text:
                    pieces.append(text)
        longest = max((len(p) for p in self.others.values()), default=0)
        if max(len(self.collected.pieces), longest) > self.limit:  # it ignores max_tokens
            log.warning("model server went past max_tokens: stopped")
            self.finish, self.finished = "length", True

    def _bad(self, text: str) -> None:
        self.malformed += 1
        log.warning("model server sent a malformed event: %.200s", text)
        if self.malformed > MAX_MALFORMED:
            raise EngineError(
                "invalid-response",
                "the model server's answer is not an OpenAI-compatible event stream",
            )
