"""The engine against raw llama-cpp-python, same model (default Gemma 3 270M), prompt, params, threads.

1. decode tokens/s through the daemon / raw Llama.create_completion (target >= 0.95)
2. time to first token of a request sharing >= 80% of its prompt with the last one / a cold one
   (target <= 0.3)
3. result-cache hit latency / a cold generation (target <= 0.05)
4. daemon resident memory with three clients generating / with one (target <= 1.2)
Run: .venv/bin/python bench/bench_engine.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from chmocoder.engine.engine import Engine
from chmocoder.engine.models import resolve_model
from chmocoder.engine.types import GenerationParams
from common import engine_config, report

THREADS = 2
N_CTX = 2048
TOKENS = 128
PARAMS = GenerationParams(max_tokens=TOKENS, temperature=0.0, repeat_penalty=1.0)
CODE = "\n".join(
    f"def helper_{i}(value, scale=1.0):\n    '''Scale value number {i}.'''\n    return value * scale + {i}\n"
    for i in range(24)
)


def prompt(question: str) -> str:
    return f"Python code:\n```python\n{CODE}\n```\n\n{question}\nExplanation:"


def raw_decode_rate(model: Path) -> list[float]:
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(model),
        n_ctx=N_CTX,
        n_threads=THREADS,
        n_threads_batch=THREADS,
        verbose=False,
    )
    rates = []
    for i in range(3):
        stamps: list[float] = []
        for chunk in llm.create_completion(
            prompt(f"Question {i}: what does helper_{i} do?"),
            max_tokens=TOKENS,
            temperature=0.0,
            repeat_penalty=1.0,
            stream=True,
        ):
            if chunk["choices"][0]["text"]:
                stamps.append(time.perf_counter())
        rates.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
    llm.close()
    return rates


async def through_daemon(model: Path, cache_dir: Path) -> dict[str, object]:
    engine = Engine(
        engine_config(
            model=str(model), n_ctx=N_CTX, n_threads=THREADS, cache_dir=cache_dir, idle_s=60
        )
    )
    await engine.start()
    assert engine.daemon is not None

    async def timed(text: str, use_cache: bool = False) -> tuple[float, float, int, float]:
        stamps: list[float] = []
        start = time.perf_counter()
        result = await engine.generate(
            "bench",
            text,
            PARAMS,
            on_token=lambda _t: stamps.append(time.perf_counter()),
            use_cache=use_cache,
        )
        end = time.perf_counter()
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
        return (
            stamps[0] - start if stamps else end - start,
            end - start,
            result.usage.completion_tokens,
            rate,
        )

    rates = []
    for i in range(3):
        rates.append((await timed(prompt(f"Question {i}: what does helper_{i} do?")))[3])

    cold_ttft, warm_ttft = [], []
    for i in range(3):
        unrelated = (
            f"Notes {i}:\n" + "\n".join(f"item {j * 7 + i}" for j in range(200)) + "\nSummary:"
        )
        cold_ttft.append((await timed(unrelated))[0])
        warm_ttft.append((await timed(unrelated + f" (version {i})"))[0])

    misses, hits = [], []
    for i in range(3):
        text = prompt(f"Cache question {i}?")
        misses.append((await timed(text, use_cache=True))[1])
        hits.append((await timed(text, use_cache=True))[1])

    single_rss = (await engine.daemon.stats()).rss_bytes
    others = [Engine(engine.config) for _ in range(2)]
    await asyncio.gather(*(o.start() for o in others))
    await asyncio.gather(
        *(
            e.generate("bench", prompt(f"client {k}"), PARAMS, use_cache=False)
            for k, e in enumerate([engine, *others])
        )
    )
    stats = await engine.daemon.stats()
    three_rss, clients = stats.rss_bytes, stats.clients
    await engine.daemon.shutdown_daemon()
    for e in [engine, *others]:
        await e.close()
    return {
        "rates": rates,
        "cold_ttft": cold_ttft,
        "warm_ttft": warm_ttft,
        "misses": misses,
        "hits": hits,
        "single_rss": single_rss,
        "three_rss": three_rss,
        "clients": clients,
    }


def main() -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="chmo-bench-run-"))
    cache_dir = Path(tempfile.mkdtemp(prefix="chmo-bench-cache-"))
    model = resolve_model("gemma3-270m", Path.home() / ".cache" / "chmocoder")
    raw = raw_decode_rate(model)
    ours = asyncio.run(through_daemon(model, cache_dir))
    med = statistics.median
    rate_ratio = med(ours["rates"]) / med(raw)  # type: ignore[arg-type]
    ttft_ratio = med(ours["warm_ttft"]) / med(ours["cold_ttft"])  # type: ignore[arg-type]
    hit_ratio = med(ours["hits"]) / med(ours["misses"])  # type: ignore[arg-type]
    rss_ratio = ours["three_rss"] / ours["single_rss"]  # type: ignore[operator]
    rows = [
        {
            "metric": "decode tokens/s through the daemon / raw llama-cpp-python create_completion",
            "ratio": rate_ratio,
            "target": ">= 0.95",
            "met": rate_ratio >= 0.95,
            "detail": f"{med(ours['rates']):.1f} vs {med(raw):.1f} tokens/s (gemma3 270M Q4_K_M, "  # type: ignore[arg-type]
            f"{THREADS} threads, {TOKENS} tokens, greedy)",
        },
        {
            "metric": "time to first token, prompt sharing >= 80% prefix / cold prompt",
            "ratio": ttft_ratio,
            "target": "<= 0.3",
            "met": ttft_ratio <= 0.3,
            "detail": f"{med(ours['warm_ttft']) * 1000:.1f} ms vs {med(ours['cold_ttft']) * 1000:.1f} ms",  # type: ignore[arg-type]
        },
        {
            "metric": "result-cache hit latency / cold generation",
            "ratio": hit_ratio,
            "target": "<= 0.05",
            "met": hit_ratio <= 0.05,
            "detail": f"{med(ours['hits']) * 1000:.2f} ms vs {med(ours['misses']) * 1000:.0f} ms",  # type: ignore[arg-type]
        },
        {
            "metric": "daemon resident memory, three clients generating / one client",
            "ratio": rss_ratio,
            "target": "<= 1.2",
            "met": rss_ratio <= 1.2,
            "detail": f"{ours['three_rss'] / 2**20:.0f} MiB with {ours['clients']} clients vs "  # type: ignore[operator]
            f"{ours['single_rss'] / 2**20:.0f} MiB with one",  # type: ignore[operator]
        },
    ]
    report("engine", rows)


if __name__ == "__main__":
    main()
