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
import time
from typing import Any
from urllib.parse import urlsplit

from chmocoder.engine.runtimes.base import Collector, OpenAISettings, TokenSink, no_infill
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
        self.model = settings.model_name or self._first_model()
        self.info = ModelInfo(
            path=settings.endpoint,
            name=self.model,
            architecture="remote",
            context_length=settings.n_ctx,
            size_bytes=0,
            runtime="openai",
            fingerprint=f"{settings.endpoint}#{self.model}",
        )

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
                self.base + path,
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
        if isinstance(prompt, Infill):
            raise no_infill(
                "runtime openai has no common way to ask a server to fill in the middle; use runtime llama-cpp"
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
        if isinstance(prompt, str):
            path, body["prompt"] = "/completions", prompt + resume
        else:
            messages = [m.model_dump() for m in prompt]
            if resume:  # servers continue a trailing assistant message (llama-server, vLLM)
                messages.append({"role": "assistant", "content": resume})
            path, body["messages"] = "/chat/completions", messages
        collected = Collector(on_token)
        usage = Usage(prompt_tokens=self.count_tokens(prompt_text(prompt)))
        deadline = _Deadline(self.request_timeout)
        connection, response, sock = self._request("POST", path, body)
        state = _Stream(collected, params.max_tokens + TOKEN_SLACK)
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
        return collected.result(state.finish, usage.prompt_tokens, completion)

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


def _choice(event: dict[str, Any]) -> tuple[str, str]:
    """(text, finish reason) of the event's first choice; empty where missing or malformed."""
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "", ""
    choice = choices[0]
    text = choice.get("text")
    if text is None:
        delta = choice.get("delta")
        text = delta.get("content") if isinstance(delta, dict) else None
    reason = choice.get("finish_reason")
    return (text if isinstance(text, str) else ""), (reason if isinstance(reason, str) else "")


class _Stream:
    """Reads one SSE stream's lines: text to the collector, usage, the finish reason; stops at
    [DONE], when the sink asks, or past the token limit; counts malformed lines."""

    def __init__(self, collected: Collector, limit: int) -> None:
        self.collected = collected
        self.limit = limit
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
        text, reason = _choice(event)
        if not self.collected.add(text):
            self.finished = True
        if reason:
            self.finish = reason
        if len(self.collected.pieces) > self.limit:  # it ignores max_tokens: we do not
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
