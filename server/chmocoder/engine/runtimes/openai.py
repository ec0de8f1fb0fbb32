"""Any OpenAI-compatible server (llama-server, Ollama, vLLM, llama-cpp-python's server).

Streams over server-sent events with the standard library's HTTP client. Only
standard request fields are sent (strict servers reject unknown ones), so
repeat_penalty is not forwarded, and JSON output is validated by the engine
rather than constrained by the server.
"""

from __future__ import annotations

import http.client
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from chmocoder.engine.runtimes import Collector, LoadSettings, TokenSink
from chmocoder.engine.types import (
    EngineError,
    GenerationParams,
    GenerationResult,
    ModelInfo,
    Prompt,
    Usage,
    prompt_text,
)

log = logging.getLogger(__name__)

TIMEOUT_S = 120.0


class OpenAIRuntime:
    def __init__(self, settings: LoadSettings) -> None:
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
        return cls(self.host, self.port, timeout=TIMEOUT_S)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> http.client.HTTPResponse:
        connection = self._connection()
        try:
            connection.request(
                method,
                self.base + path,
                body=json.dumps(body) if body else None,
                headers=self._headers(),
            )
            response = connection.getresponse()
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            connection.close()
            raise EngineError(
                "server-unreachable",
                f"model server at {self.scheme}://{self.host}:{self.port} did not answer: {exc}",
            ) from None
        if response.status != 200:
            detail = response.read(2000).decode("utf-8", errors="replace")
            connection.close()
            code = "unauthorized" if response.status in (401, 403) else "server-error"
            raise EngineError(
                code, f"model server answered {response.status}: {detail.strip()[:300]}"
            )
        return response

    def _first_model(self) -> str:
        response = self._request("GET", "/models")
        try:
            data = json.loads(response.read())
            return str(data["data"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            return "default"
        finally:
            response.close()

    def count_tokens(self, text: str) -> int:
        """An estimate (one per three bytes): the API has no standard tokenizer endpoint."""
        return (len(text.encode("utf-8")) + 2) // 3

    def generate(
        self, prompt: Prompt, params: GenerationParams, on_token: TokenSink, resume: str = ""
    ) -> GenerationResult:
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
        finish = "length"
        usage = Usage(prompt_tokens=self.count_tokens(prompt_text(prompt)))
        response = self._request("POST", path, body)
        try:
            for raw in response:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    event = json.loads(data)
                except ValueError:
                    log.warning("model server sent a malformed event: %.200s", data)
                    continue
                if event.get("usage"):
                    usage = Usage(
                        prompt_tokens=event["usage"].get("prompt_tokens", usage.prompt_tokens),
                        completion_tokens=event["usage"].get("completion_tokens", 0),
                    )
                choices = event.get("choices") or []
                if not choices:
                    continue
                choice = choices[0]
                text = (
                    choice.get("text")
                    if "text" in choice
                    else (choice.get("delta") or {}).get("content")
                )
                if not collected.add(text or ""):
                    break
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError(
                "server-unreachable", f"the model server's stream broke: {exc}"
            ) from None
        finally:
            response.close()
        # servers that send no usage stream one event per token
        completion = usage.completion_tokens or len(collected.pieces)
        return collected.result(finish, usage.prompt_tokens, completion)

    def close(self) -> None:
        pass
