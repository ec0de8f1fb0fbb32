"""Fill in the middle on a model server (runtime "openai"): three ways, as peers do.

- `infill`: llama-server's own POST /infill (input_prefix, input_suffix, input_extra for
  other files, cache_prompt): the server lays out the model's FIM tokens itself
  (llama.vscode's way).
- `prompt`: POST /v1/completions with the model's FIM layout written out as the raw prompt
  (Tabby's and Zed's way; vLLM, llama-server, llama-cpp-python's server). The layout is the
  one whose marker strings the server's tokenizer reads as single tokens (/tokenize,
  /extras/tokenize), else the one the model's name suggests.
- `suffix`: POST /v1/completions with `suffix` (Ollama's way; the server lays it out).

`auto` (the default) finds out once per endpoint and model, in that order, and the log says
which it uses. Request shapes were written against the docs of llama.cpp's server
(tools/server/README.md: /infill, /tokenize), vLLM's OpenAI-compatible server (0.6+:
/v1/completions, /tokenize) and Ollama's OpenAI compatibility (/v1/completions `suffix`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from chmocoder.engine.types import Infill

log = logging.getLogger(__name__)

FimMode = Literal["auto", "infill", "prompt", "suffix", "off"]


@dataclass(frozen=True)
class Layout:
    """A model family's fill-in-the-middle markers (prefix, suffix, middle order)."""

    name: str
    prefix: str
    suffix: str
    middle: str
    file_sep: str | None = None
    spaced: bool = False
    """CodeLlama's layout puts a space after <PRE> and before <MID>."""

    @property
    def markers(self) -> tuple[str, ...]:
        return tuple(m for m in (self.prefix, self.suffix, self.middle, self.file_sep) if m)

    def render(self, infill: Infill) -> str:
        """The raw prompt, with the markers taken out of the user's text (a file that spells
        one would otherwise be read as the token)."""

        def clean(text: str) -> str:
            for marker in self.markers:
                text = text.replace(marker, "")
            return text

        files = ""
        if self.file_sep and infill.files:
            for path, content in infill.files:
                files += f"{self.file_sep}{clean(path)}\n{clean(content)}\n"
            files += f"{self.file_sep}{clean(infill.path)}\n"
        space = " " if self.spaced else ""
        return (
            f"{files}{self.prefix}{space}{clean(infill.prefix)}{space}{self.suffix}"
            f"{clean(infill.suffix)}{space}{self.middle}"
        )


LAYOUTS = (
    Layout("qwen", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"),
    Layout("codegemma", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>"),
    Layout("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
    Layout("deepseek", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),
    Layout("codellama", "<PRE>", "<SUF>", "<MID>", spaced=True),
)
_BY_NAME = {"qwen": "qwen", "codegemma": "codegemma", "starcoder": "starcoder",
            "deepseek": "deepseek", "codellama": "codellama", "code-llama": "codellama"}  # fmt: skip


@dataclass(frozen=True)
class FimWay:
    mode: Literal["infill", "prompt", "suffix"]
    layout: Layout | None = None

    def describe(self) -> str:
        if self.mode == "infill":
            return "llama-server's /infill"
        if self.mode == "prompt":
            assert self.layout is not None
            return f"/v1/completions with the {self.layout.name} fill-in-the-middle layout"
        return "/v1/completions with suffix"


ROOT_PATHS = frozenset({"/infill", "/tokenize", "/extras/tokenize"})
"""The servers' own endpoints, under the server's root (the rest are under …/v1)."""

Probe = Callable[[str, dict[str, Any]], tuple[int, Any]]
"""POST a path (ROOT_PATHS under the server's root, the others under the endpoint's base)
with a JSON body: (status, decoded JSON or None); status 0 when unreachable."""


class Unanswered(Exception):
    """A probe got no answer (the server is down or stuck): nothing can be concluded."""


def _answered(probe: Probe) -> Probe:
    def asked(path: str, body: dict[str, Any]) -> tuple[int, Any]:
        status, data = probe(path, body)
        if status == 0:
            raise Unanswered(path)
        return status, data

    return asked


def layout_by_name(model: str) -> Layout | None:
    lowered = model.lower()
    for key, name in _BY_NAME.items():
        if key in lowered:
            return next(layout for layout in LAYOUTS if layout.name == name)
    return None


def token_count(probe: Probe, text: str, model: str) -> int | None:
    """How many tokens the server's tokenizer makes of `text` (None: it has no tokenizer
    endpoint we know)."""
    for path, body in (
        ("/tokenize", {"content": text, "prompt": text, "model": model}),
        ("/extras/tokenize", {"input": text}),
    ):
        status, data = probe(path, body)
        if status == 200 and isinstance(data, dict) and isinstance(data.get("tokens"), list):
            return len(data["tokens"])
    return None


def _prompt_layout(probe: Probe, model: str) -> Layout | None:
    """The layout whose markers the server's tokenizer reads as single tokens; without a
    tokenizer endpoint, the one the model's name suggests."""
    empty = token_count(probe, "", model)  # a BOS some tokenizers add
    if empty is None:
        return layout_by_name(model)

    def single(text: str) -> bool:
        return token_count(probe, text, model) == empty + 1

    for layout in LAYOUTS:
        if single(layout.prefix) and single(layout.middle):
            if layout.file_sep and not single(layout.file_sep):
                continue  # a sibling layout (same markers, another separator) may fit
            return layout
    for layout in LAYOUTS:  # the markers without a separator the tokenizer knows
        if single(layout.prefix) and single(layout.middle):
            return Layout(layout.name, layout.prefix, layout.suffix, layout.middle, None)
    return None


def find_way(probe: Probe, model: str, mode: FimMode) -> FimWay | None:
    """How this server fills in the middle, by `mode` (auto: the first that works of
    infill, prompt and suffix); None: it cannot. Raises Unanswered at the first probe the
    server does not answer (stop there: every further probe would wait as long)."""
    if mode == "off":
        return None
    probe = _answered(probe)
    if mode in ("auto", "infill"):
        status, _ = probe("/infill", {"input_prefix": "", "input_suffix": "", "n_predict": 0})
        if status == 200:
            return FimWay("infill")
        if mode == "infill":
            return None
    if mode in ("auto", "prompt"):
        layout = _prompt_layout(probe, model)
        if layout is not None:
            return FimWay("prompt", layout)
        if mode == "prompt":
            return None
    body = {"model": model, "prompt": "a", "suffix": "b", "max_tokens": 1}
    status, _ = probe("/completions", body)
    return FimWay("suffix") if status == 200 else None


def request(
    way: FimWay, infill: Infill, resume: str, common: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """(path, body) of a fill-in-the-middle request; `common` holds the sampling fields of an
    OpenAI /completions body (model, max_tokens, temperature, top_p, stop, seed, stream).
    The path is one of ROOT_PATHS or under the endpoint's base (Probe)."""
    if way.mode == "infill":
        body = {
            "input_prefix": infill.prefix,
            "input_suffix": infill.suffix,
            "input_extra": [{"filename": p, "text": t} for p, t in infill.files],
            "prompt": resume,
            "n_predict": common["max_tokens"],
            "temperature": common["temperature"],
            "top_p": common["top_p"],
            "stream": True,
            "cache_prompt": True,
        }
        for key in ("stop", "seed"):
            if key in common:
                body[key] = common[key]
        return "/infill", body
    if way.mode == "prompt":
        assert way.layout is not None
        return "/completions", {**common, "prompt": way.layout.render(infill) + resume}
    return "/completions", {**common, "prompt": infill.prefix + resume, "suffix": infill.suffix}


def root_of(base: str) -> str:
    """The server's root path from the endpoint's (…/v1 -> …)."""
    return re.sub(r"/v1/?$", "", base)
