"""Inline completion through a model server (runtime openai) against the local runtime, on
the same model and machine: what the HTTP hop costs, and whether the suggestions are the same.

The server is llama-cpp-python's own OpenAI-compatible server (`python -m llama_cpp.server`)
on the default model, with the threads the local runtime gives work a person waits for
(every physical core) and the product's context size. The openai runtime finds its way to
fill in the middle itself (`endpointFim: auto`: the Qwen layout as a raw prompt on
/v1/completions, llama_cpp.server having no /infill). Python's own shlex.py is typed
through at 12 lines spread over it, as in bench_completion.py: at each the line is blanked
after its indentation and a new completer asked, cold (another prompt ran just before, on
the same runtime) and with the file's prefix cached (the line's first character typed).
Each position runs on the server, then locally, so both see the same order of prompts.
Completion decodes greedily, so the two suggestions should be the same text.

Printed: p50 and p95 of request to suggestion on each, the server's p50 over local's
(target <= 1.3), and in how many of the requests the two suggestions are equal.

Run: .venv/bin/python bench/bench_server_completion.py [--model NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import shlex as shlex_module
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from tests.support.openai_server import llama_cpp_server

from bench_completion import POSITIONS, blanked, code_lines, typed
from chmocoder import compose
from chmocoder.assist.completion import Completer
from chmocoder.config import Settings
from chmocoder.engine.engine import Engine
from chmocoder.engine.models import resolve_model
from chmocoder.engine.runtimes import LoadSettings
from chmocoder.engine.runtimes.base import interactive_threads
from chmocoder.engine.types import GenerationParams, Infill
from common import engine_config, median_ms, p95_ms, report

SETTINGS = Settings()
OTHER = Infill(prefix="# another file\nimport os\n", suffix="\n")


async def measure(engines: dict[str, Engine]) -> dict[str, dict[str, list]]:
    """Per engine: cold and prefix-cached seconds, and the suggestions in order."""
    path = Path(shlex_module.__file__)  # type: ignore[arg-type]
    text = path.read_text()
    out: dict[str, dict[str, list]] = {
        name: {"cold": [], "warm": [], "texts": []} for name in engines
    }
    for engine in engines.values():
        await engine.start()
    for row in code_lines(text, POSITIONS):
        doc, offset, line = blanked(path, text, row)
        doc2, offset2 = typed(doc, offset, line[:1])
        for name, engine in engines.items():
            await engine.generate("other", OTHER, GenerationParams(max_tokens=1), use_cache=False)
            for kind, (d, o) in (("cold", (doc, offset)), ("warm", (doc2, offset2))):
                completer = Completer(engine, compose.completer_settings(SETTINGS))
                started = time.perf_counter()
                result = await completer.complete(d, o, path.name)
                out[name][kind].append(time.perf_counter() - started)
                out[name]["texts"].append(result.text)
    return out


async def run(model: str, cache: Path) -> list[dict[str, object]]:
    path = resolve_model(model, cache)
    threads = interactive_threads(LoadSettings(n_ctx=SETTINGS.n_ctx, n_threads=SETTINGS.n_threads))
    with llama_cpp_server(path, n_ctx=SETTINGS.n_ctx, threads=threads, alias=model) as url:
        engines = {
            "server": Engine(engine_config(runtime="openai", endpoint=url, use_cache=False,
                                           cache_dir=cache / "server")),
            "local": Engine(engine_config(model=model, use_cache=False, cache_dir=cache,
                                          idle_s=60)),
        }  # fmt: skip
        try:
            measured = await measure(engines)
        finally:
            for engine in engines.values():
                await engine.close()
    server, local = measured["server"], measured["local"]
    same = sum(a == b for a, b in zip(server["texts"], local["texts"], strict=True))
    rows: list[dict[str, object]] = []
    for kind, label in (("cold", "cold"), ("warm", "prefix cached")):
        ratio = median_ms(server[kind]) / median_ms(local[kind])
        rows.append({
            "metric": f"completion through a model server, {label} ({model})",
            "ratio": ratio, "target": "<= 1.3", "met": ratio <= 1.3,
            "detail": f"llama_cpp.server p50 {median_ms(server[kind]):.0f} ms / p95 "
                      f"{p95_ms(server[kind]):.0f} ms vs local p50 {median_ms(local[kind]):.0f}"
                      f" ms / p95 {p95_ms(local[kind]):.0f} ms; {len(server[kind])} requests "
                      f"in shlex.py, {threads} threads each",
        })  # fmt: skip
    rows.append({
        "metric": "the same suggestion through the server as locally (greedy)",
        "ratio": same / len(server["texts"]),
        "detail": f"{same} of {len(server['texts'])} requests",
    })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(run(args.model, Path(tmp)))
    report("server_completion", rows)


if __name__ == "__main__":
    main()
