"""Inline completion: latency against raw llama-cpp-python, answers from memory while typing
through a suggestion, and next-line exact match per catalogue model.

Latency (the default model, or --latency-model): Python's own shlex.py (about 340
lines) is typed through at 12 lines spread over it; at each, the line is blanked after its
indentation and the completer asked (the product's pipeline: gap, Infill through the
model daemon, stop rules, trim, guards), once cold (another prompt ran just before) and
once with the file's prefix in the KV cache (the first character of the line typed, a new
completer so nothing is answered from memory). Raw llama-cpp-python then runs the very
same prompt tokens in the same order and generates as many tokens as the pipeline did,
greedily, with the same threads. Printed: p50 and p95 of each, and the pipeline's p50 over
raw's (target <= 1.2).

Typing through: at each position the suggestion is typed character by character (up to
40) and the completer asked after each: the share answered without the model (target
>= 0.8).

Quality, per model: in four files of bench/completion/ (Python, JavaScript, Rust, C),
up to 30 code lines each (at least 10 characters, not comments) are blanked after their
indentation, one at a time; a hit is a suggestion whose first line is the line (trailing
spaces aside). With the product's settings (completion.budgetMs 500 and the rest).

Run: .venv/bin/python bench/bench_completion.py [--models a,b] [--skip-latency]
"""

from __future__ import annotations

import argparse
import asyncio
import shlex as shlex_module
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from chmocoder import compose
from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist.completion import Completer
from chmocoder.config import Settings
from chmocoder.engine.engine import Engine
from chmocoder.engine.models import resolve_model
from chmocoder.engine.runtimes import LoadSettings
from chmocoder.engine.runtimes.llama_cpp import LlamaCppRuntime
from chmocoder.engine.types import GenerationParams, GenerationResult, Infill, Prompt
from common import engine_config, median_ms, p95_ms, report

CORPUS = Path(__file__).parent / "completion"
PER_FILE = 30
POSITIONS = 12
TYPED = 40
REGISTRY = LanguageRegistry()
COMMENTS = ("#", "//", "/*", "*", '"""')


SETTINGS = Settings()


def code_lines(text: str, limit: int) -> list[int]:
    """Rows of up to `limit` code lines spread over the text."""
    rows = [
        i
        for i, line in enumerate(text.split("\n"))
        if len(line.strip()) >= 10 and not line.strip().startswith(COMMENTS)
    ]
    if len(rows) <= limit:
        return rows
    step = len(rows) / limit
    return [rows[int(i * step)] for i in range(limit)]


def blanked(path: Path, text: str, row: int) -> tuple[Document, int, str]:
    """The document with line `row` emptied after its indentation, the cursor there, and
    the line as written."""
    lines = text.split("\n")
    line = lines[row]
    indentation = line[: len(line) - len(line.lstrip())]
    lines[row] = indentation
    source = "\n".join(lines)
    offset = len("\n".join(lines[:row]).encode()) + (1 if row else 0) + len(indentation.encode())
    doc = Document(path.as_uri(), source.encode(), language=REGISTRY.lookup(path=path.name))
    return doc, offset, line.strip()


def typed(doc: Document, offset: int, text: str) -> tuple[Document, int]:
    data = text.encode()
    source = doc.source[:offset] + data + doc.source[offset:]
    return Document(doc.uri, source, language=doc.language), offset + len(data)


class Recording(Engine):
    """The engine, keeping each fill-in-the-middle prompt it was asked and how many tokens
    it generated for it (for raw to repeat)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.asked: list[tuple[Infill, int]] = []

    async def generate(self, task: str, prompt: Prompt, *args: Any, **kw: Any) -> GenerationResult:
        result = await super().generate(task, prompt, *args, **kw)
        if task == "complete" and isinstance(prompt, Infill):
            self.asked.append((prompt, result.usage.completion_tokens))
        return result


async def pipeline(model: str, cache: Path) -> tuple[dict[str, object], list[tuple[Infill, int]]]:
    """The product's side: latencies, the typed-through share, and the (prompt, tokens)
    of every timed model call in order, for raw to repeat."""
    engine = Recording(engine_config(model=model, cache_dir=cache, idle_s=60))
    s = SETTINGS
    path = Path(shlex_module.__file__)  # type: ignore[arg-type]
    text = path.read_text()
    asked: list[tuple[Infill, int]] = []
    cold: list[float] = []
    warm: list[float] = []
    answered = requests = 0

    try:
        await engine.start()
        other = Infill(prefix="# another file\nimport os\n", suffix="\n")
        for row in code_lines(text, POSITIONS):
            doc, offset, line = blanked(path, text, row)
            # cold: another prompt just ran, so the KV cache holds nothing of this file
            await engine.generate("other", other, GenerationParams(max_tokens=1), use_cache=False)
            completer = Completer(engine, compose.completer_settings(s))
            started = time.perf_counter()
            first = await completer.complete(doc, offset, path.name)
            cold.append(time.perf_counter() - started)
            asked.append(engine.asked[-1])
            # the prefix cached: the line's first character typed, nothing from memory
            doc2, offset2 = typed(doc, offset, line[:1])
            started = time.perf_counter()
            await Completer(engine, compose.completer_settings(s)).complete(
                doc2, offset2, path.name
            )
            warm.append(time.perf_counter() - started)
            asked.append(engine.asked[-1])
            # typing through the suggestion
            suggestion = first.text
            for i in range(1, min(len(suggestion), TYPED) + 1):
                doc3, offset3 = typed(doc, offset, suggestion[:i])
                result = await completer.complete(doc3, offset3, path.name)
                requests += 1
                answered += result.source != "model"
    finally:
        await engine.close()
    return {
        "cold": cold,
        "warm": warm,
        "answered": answered,
        "requests": requests,
        "lines": len(text.split("\n")),
    }, asked


def raw(
    model: str, cache: Path, asked: list[tuple[Infill, int]]
) -> tuple[list[float], list[float]]:
    """Raw llama-cpp-python: the same prompt tokens, in the same order, after the same other
    prompt, generating as many tokens greedily."""
    path = resolve_model(model, cache)
    # the product's runtime only builds the prompt tokens; its Llama is timed raw
    runtime = LlamaCppRuntime(
        path, LoadSettings(n_ctx=SETTINGS.n_ctx, n_threads=SETTINGS.n_threads)
    )
    llm = runtime.llm

    def tokens(prompt: Infill) -> list[int]:
        return runtime.render(prompt)[0]

    other = tokens(Infill(prefix="# another file\nimport os\n", suffix="\n"))
    cold: list[float] = []
    warm: list[float] = []
    try:
        for i, (prompt, count) in enumerate(asked):
            if i % 2 == 0:
                llm.create_completion(other, max_tokens=1, temperature=0.0)
            started = time.perf_counter()
            llm.create_completion(tokens(prompt), max_tokens=max(1, count), temperature=0.0,
                                  repeat_penalty=1.0)  # fmt: skip
            (cold if i % 2 == 0 else warm).append(time.perf_counter() - started)
    finally:
        runtime.close()
    return cold, warm


async def quality(model: str, cache: Path) -> dict[str, object]:
    engine = Engine(engine_config(model=model, cache_dir=cache, idle_s=60))
    per_language: dict[str, tuple[int, int]] = {}
    samples: list[tuple[str, str, str]] = []
    try:
        info = await engine.start()
        if not info.infill:
            return {"infill": False, "hits": 0, "lines": 0, "per_language": {}}
        for path in sorted(CORPUS.iterdir()):
            text = path.read_text()
            hits = total = 0
            for row in code_lines(text, PER_FILE):
                doc, offset, line = blanked(path, text, row)
                completer = Completer(engine, compose.completer_settings(SETTINGS))
                result = await completer.complete(doc, offset, path.name)
                guess = result.text.split("\n")[0].rstrip()
                hits += guess.strip() == line
                total += 1
                if len(samples) < 6 and guess.strip() != line:
                    samples.append((path.name, line, guess.strip()))
            per_language[path.suffix.lstrip(".")] = (hits, total)
    finally:
        await engine.close()
    hits = sum(h for h, _ in per_language.values())
    lines = sum(t for _, t in per_language.values())
    return {
        "infill": True,
        "hits": hits,
        "lines": lines,
        "per_language": per_language,
        "misses": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="qwen2.5-coder-1.5b,qwen2.5-coder-0.5b,gemma3-270m")
    parser.add_argument("--latency-model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        if not args.skip_latency:
            measured, asked = asyncio.run(pipeline(args.latency_model, cache))
            raw_cold, raw_warm = raw(args.latency_model, cache, asked)
            for name, ours, theirs in (
                ("cold", measured["cold"], raw_cold),
                ("prefix cached", measured["warm"], raw_warm),
            ):
                assert isinstance(ours, list)
                tokens = [count for _, count in asked[(0 if name == "cold" else 1) :: 2]]
                ratio = median_ms(ours) / median_ms(theirs)
                rows.append({
                    "metric": f"completion latency, {name} ({args.latency_model})",
                    "ratio": ratio, "target": "<= 1.2", "met": ratio <= 1.2,
                    "detail": f"p50 {median_ms(ours):.0f} ms / p95 {p95_ms(ours):.0f} ms vs raw "
                              f"p50 {median_ms(theirs):.0f} ms / p95 {p95_ms(theirs):.0f} ms; "
                              f"{len(ours)} requests in shlex.py ({measured['lines']} lines), "
                              f"{sum(tokens) / len(tokens):.1f} tokens generated on average",
                })  # fmt: skip
            share = int(measured["answered"]) / max(1, int(measured["requests"]))  # type: ignore[call-overload]
            rows.append({
                "metric": "answered from memory while typing through a suggestion",
                "ratio": share, "target": ">= 0.8", "met": share >= 0.8,
                "detail": f"{measured['answered']} of {measured['requests']} requests",
            })  # fmt: skip
        for model in args.models.split(","):
            started = time.perf_counter()
            q = asyncio.run(quality(model, cache))
            if not q["infill"]:
                rows.append({"metric": f"next-line exact match ({model})", "ratio": 0.0,
                             "detail": "no fill-in-the-middle tokens: no completion"})  # fmt: skip
                continue
            languages = ", ".join(
                f"{name} {h}/{t}"
                for name, (h, t) in q["per_language"].items()  # type: ignore[attr-defined]
            )
            rows.append({
                "metric": f"next-line exact match ({model})",
                "ratio": int(q["hits"]) / int(q["lines"]),  # type: ignore[call-overload]
                "detail": f"{q['hits']} of {q['lines']} lines ({languages}); "
                          f"{time.perf_counter() - started:.0f} s; misses e.g. {q['misses'][:3]}",
            })  # fmt: skip
    report("completion", rows)


if __name__ == "__main__":
    main()
