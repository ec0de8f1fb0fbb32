"""ctransformers: loads Llama-family GGUF of its era (2023); newer architectures are refused."""

from __future__ import annotations

import codecs
import logging
from pathlib import Path
from typing import Any

from chmocoder.engine.models import check_model
from chmocoder.engine.runtimes.base import (
    Collector,
    LoadSettings,
    TokenSink,
    local_model_info,
    no_infill,
    no_scores,
    room_for,
    threads_for,
)
from chmocoder.engine.templates import is_chat_tuned
from chmocoder.engine.types import (
    ChatMessage,
    EngineError,
    GenerationParams,
    GenerationResult,
    Infill,
    Prompt,
)

log = logging.getLogger(__name__)

SUPPORTED = {"llama"}
"""GGUF architectures ctransformers' bundled ggml can run."""


def chat_prompt(prompt: str | list[ChatMessage], chat: bool = True) -> str:
    """Llama-2 chat formatting (what chat models of ctransformers' era expect), or plain text."""
    if isinstance(prompt, str):
        return prompt
    if not chat:
        return "".join(m.content + "\n\n" for m in prompt)
    system = "\n".join(m.content for m in prompt if m.role == "system")
    turns: list[str] = []
    for message in prompt:
        if message.role == "user":
            content = (
                f"<<SYS>>\n{system}\n<</SYS>>\n\n{message.content}"
                if system and not turns
                else message.content
            )
            turns.append(f"[INST] {content} [/INST]")
        elif message.role == "assistant":
            turns.append(f" {message.content} ")
    return "".join(turns)


def _stop_position(text: str, stops: tuple[str, ...]) -> int | None:
    positions = [text.find(s) for s in stops if s and s in text]
    return min(positions) if positions else None


class CTransformersRuntime:
    def __init__(self, path: Path, settings: LoadSettings) -> None:
        header = check_model(path)
        tokenizer = str(header.metadata.get("tokenizer.ggml.model", "llama"))
        if header.architecture not in SUPPORTED:
            raise EngineError(
                "unsupported-architecture",
                f"ctransformers cannot load {header.architecture} models (it supports "
                f"{', '.join(sorted(SUPPORTED))} GGUF from 2023); use runtime llama-cpp",
            )
        if tokenizer != "llama":
            raise EngineError(
                "unsupported-architecture",
                f"ctransformers cannot load {path.name}: its {tokenizer!r} tokenizer (Llama 3 style) "
                "is newer than ctransformers; use runtime llama-cpp",
            )
        try:
            from ctransformers import AutoModelForCausalLM
        except ImportError:
            raise EngineError(
                "runtime-missing",
                "ctransformers is not installed: pip install 'chmocoder[ctransformers]'",
            ) from None
        chat = is_chat_tuned([str(header.metadata.get("general.name", "")), path.stem])
        self.info = local_model_info(path, header, settings, "ctransformers", chat)
        n_ctx = self.info.context_length
        try:
            self.llm: Any = AutoModelForCausalLM.from_pretrained(
                str(path), model_type="llama", context_length=n_ctx, threads=threads_for(settings)
            )
        except Exception as exc:  # ctransformers raises bare exceptions from C
            raise EngineError(
                "model-load",
                f"ctransformers could not load {path.name} ({header.architecture}): {exc}; "
                "try runtime llama-cpp",
            ) from None

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text, add_bos_token=False))

    def generate(
        self,
        prompt: Prompt,
        params: GenerationParams,
        on_token: TokenSink,
        resume: str = "",
        *,
        interactive: bool = False,
    ) -> GenerationResult:
        if params.score_from is not None:
            raise no_scores("ctransformers")
        if isinstance(prompt, Infill):
            raise no_infill(
                "runtime ctransformers cannot look up fill-in-the-middle tokens; use runtime llama-cpp"
            )
        text_prompt = chat_prompt(prompt, self.info.chat) + resume
        prompt_tokens = self.count_tokens(text_prompt) + 1
        room = room_for(self.info, prompt_tokens)
        collected = Collector(on_token)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        limit = min(params.max_tokens, room)
        text = ""
        finish = "length"
        count = 0
        tokens = self.llm.tokenize(text_prompt)
        for token in self.llm.generate(
            tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            repetition_penalty=params.repeat_penalty,
            seed=params.seed if params.seed is not None else -1,
            reset=True,
        ):
            if token == self.llm.eos_token_id:
                finish = "stop"
                break
            count += 1
            piece = decoder.decode(self.llm.detokenize([token], decode=False))
            stop_at = _stop_position(text + piece, params.stop)
            if stop_at is not None:
                piece = (text + piece)[len(text) : stop_at] if stop_at > len(text) else ""
                text = text[: min(stop_at, len(text))]
                finish = "stop"
            if piece:
                text += piece
                if not collected.add(piece):
                    break
            if finish == "stop" or count >= limit:
                break
        return collected.result(finish, len(tokens), count, text=text)

    def close(self) -> None:
        self.llm = None
