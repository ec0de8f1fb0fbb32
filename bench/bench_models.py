"""One table per catalogue model: the daemon against raw llama-cpp-python, same machine, run.

Per model, raw llama-cpp-python in this process first (then closed), then the engine
(its model daemon), with the same plain prompts, threads (the product's default: physical
cores but one) and greedy decoding:
  load time; prompt tokens/s (a fresh ~600-token prompt); decode tokens/s (128 tokens);
  resident memory; and through the engine, the time to the first token of a hover
  explanation (the assistant's own prompt for `area` in examples/shapes.py) cold, and
  for `scaled` right after it (the file's part of the prompt already in the KV cache).
Each daemon figure is printed as a ratio of raw (target >= 0.95 for the speeds).
Run: .venv/bin/python bench/bench_models.py [--models a,b]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from chmocoder.analysis.context import extract_context
from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist import prompts
from chmocoder.engine.catalogue import catalogue
from chmocoder.engine.engine import Engine
from chmocoder.engine.models import resolve_model
from chmocoder.engine.runtimes import LoadSettings, threads_for
from chmocoder.engine.types import GenerationParams, Prompt
from common import engine_config, report, rss_kib

N_CTX = 4096
TOKENS = 128
RUNS = 3
EXAMPLE = Path(__file__).parent.parent / "examples" / "shapes.py"


def plain_prompt(i: int) -> str:
    """About 600 tokens of code and a question; the first line differs per run, so no
    run reuses another's KV cache."""
    body = "\n".join(
        f"def helper_{j}(value, scale=1.0):\n    '''Scale value number {j}.'''\n"
        f"    return value * scale + {j * (i + 3)}\n"
        for j in range(20)
    )
    return (
        f"# run {i}: {'abcdefgh'[i % 8] * 3}\n{body}\nQuestion: what does helper_{i} do?\nAnswer:"
    )


def hover_prompts(chat: bool) -> list[Prompt]:
    """The assistant's explain prompts for two methods of one file (a shared file part)."""
    source = EXAMPLE.read_bytes()
    doc = Document("file:///shapes.py", source, language=LanguageRegistry().support("python"))
    out = []
    for name in (b"def area", b"def scaled"):
        context = extract_context(doc, source.index(name) + 5, path="shapes.py", budget=1536)
        kind, ident = context.definition.kind, context.definition.name  # type: ignore[union-attr]
        spec = prompts.explain_prompt(context.render(), kind, ident, "intermediate", ident)
        out.append(spec.build(chat)[0])
    return out


def raw(path: Path, threads: int) -> dict[str, float]:
    from llama_cpp import Llama

    before = rss_kib(os.getpid())
    started = time.perf_counter()
    llm = Llama(model_path=str(path), n_ctx=N_CTX, n_threads=threads,
                n_threads_batch=threads, verbose=False)  # fmt: skip
    load = time.perf_counter() - started
    prompt_rates, decode_rates = [], []
    for i in range(RUNS):
        text = plain_prompt(i)
        n_prompt = len(llm.tokenize(text.encode()))
        stamps = []
        started = time.perf_counter()
        for chunk in llm.create_completion(
            text, max_tokens=TOKENS, temperature=0.0, repeat_penalty=1.0, stream=True
        ):
            if chunk["choices"][0]["text"]:
                stamps.append(time.perf_counter())
        prompt_rates.append(n_prompt / (stamps[0] - started))
        decode_rates.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
    rss = (rss_kib(os.getpid()) - before) / 1024
    llm.close()
    med = statistics.median
    return {"load": load, "prompt": med(prompt_rates), "decode": med(decode_rates), "rss": rss}


async def daemon(name: str, threads: int, cache: Path) -> dict[str, float]:
    engine = Engine(
        engine_config(model=name, n_ctx=N_CTX, n_threads=threads, cache_dir=cache, idle_s=30)
    )
    started = time.perf_counter()
    info = await engine.start()
    load = time.perf_counter() - started
    params = GenerationParams(max_tokens=TOKENS, temperature=0.0, repeat_penalty=1.0)

    async def first_token_and_rate(prompt: Prompt) -> tuple[float, float, int]:
        stamps: list[float] = []
        started = time.perf_counter()
        result = await engine.generate("bench", prompt, params, use_cache=False,
                                       on_token=lambda _t: stamps.append(time.perf_counter()))  # fmt: skip
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
        return stamps[0] - started, rate, result.usage.prompt_tokens

    prompt_rates, decode_rates = [], []
    for i in range(RUNS):
        first, rate, n_prompt = await first_token_and_rate(plain_prompt(i))
        prompt_rates.append(n_prompt / first)
        decode_rates.append(rate)
    area, scaled = hover_prompts(info.chat)
    cold, _, _ = await first_token_and_rate(area)
    warm, _, _ = await first_token_and_rate(scaled)
    assert engine.daemon is not None
    rss = (await engine.daemon.stats()).rss_bytes / 2**20
    await engine.daemon.shutdown_daemon()
    await engine.close()
    med = statistics.median
    return {"load": load, "prompt": med(prompt_rates), "decode": med(decode_rates), "rss": rss,
            "hover_cold": cold, "hover_warm": warm}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    names = catalogue().names
    parser.add_argument("--models", default=",".join(names))
    parser.add_argument("--threads", type=int, default=0, help="0: the product's default")
    args = parser.parse_args()
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="chmo-bench-run-"))
    threads = threads_for(LoadSettings(n_ctx=N_CTX, n_threads=args.threads))
    rows = []
    for name in args.models.split(","):
        path = resolve_model(name, Path.home() / ".cache" / "chmocoder")
        r = raw(path, threads)
        d = asyncio.run(daemon(name, threads, Path(tempfile.mkdtemp(prefix="chmo-bench-"))))
        where = f"{name}, {threads} thread{'s' if threads > 1 else ''}"
        for what, key in (("prompt tokens/s", "prompt"), ("decode tokens/s", "decode")):
            ratio = d[key] / r[key]
            rows.append({"metric": f"{where}: {what} through the daemon / raw", "ratio": ratio,
                         "target": ">= 0.95", "met": ratio >= 0.95,
                         "detail": f"{d[key]:.1f} vs {r[key]:.1f}"})  # fmt: skip
        rows.append({"metric": f"{where}: load time, daemon (a new process) / raw", "ratio": d["load"] / r["load"],
                     "detail": f"{d['load']:.2f} s vs {r['load']:.2f} s"})  # fmt: skip
        rows.append({"metric": f"{where}: resident memory, daemon / raw model", "ratio": d["rss"] / r["rss"],
                     "detail": f"{d['rss']:.0f} MiB (the daemon process) vs {r['rss']:.0f} MiB (what loading "
                     "and running it added to this process)"})  # fmt: skip
        rows.append({"metric": f"{where}: hover explanation, first token with the file's prefix cached / cold",
                     "ratio": d["hover_warm"] / d["hover_cold"],
                     "detail": f"{d['hover_warm'] * 1000:.0f} ms vs {d['hover_cold'] * 1000:.0f} ms"})  # fmt: skip
    report("models" if not args.threads else f"models-{threads}-threads", rows)


if __name__ == "__main__":
    main()
