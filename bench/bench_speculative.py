"""Prompt-lookup (n-gram) speculative decoding on edit prompts, default model, greedy.

Edits (fix, docstring, simplify) repeat most of their input, so drafting the next tokens
from the prompt's own n-grams should let the model accept several per step. This runs
the product's own edit prompts (bench/quality's Python cases; prompts.edit_prompt with
the context the assistant builds, in the model's chat template) through raw
llama-cpp-python twice in the same run: plain decoding, and with
`LlamaPromptLookupDecoding` (the runtime's own drafter). Same text is required.
Run: .venv/bin/python bench/bench_speculative.py [--cases N] [--model NAME]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from chmocoder.analysis.context import extract_context
from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist import prompts
from chmocoder.engine.models import resolve_model
from chmocoder.engine.runtimes import LoadSettings, threads_for
from chmocoder.engine.runtimes.llama_cpp import LlamaCppRuntime
from common import report, rss_kib

CASES = Path(__file__).parent / "quality" / "cases" / "python.toml"
TASKS: tuple[prompts.EditTask, ...] = ("fix", "docstring", "simplify")


def edit_prompts(runtime: LlamaCppRuntime, count: int) -> list[tuple[str, list[int]]]:
    """(name, prompt tokens) for the first `count` cases, the three edit tasks in turn."""
    registry = LanguageRegistry()
    cases = tomllib.loads(CASES.read_text())["case"][:count]
    out = []
    for i, case in enumerate(cases):
        source = case["buggy"].lstrip("\n").encode()
        doc = Document("file:///case.py", source, language=registry.support("python"))
        offset = source.index(b"def ") + 4
        context = extract_context(doc, offset, path="case.py", budget=1536)
        task = TASKS[i % len(TASKS)]
        spec = prompts.edit_prompt(
            context.render(), "python", source.decode(), task, "intermediate"
        )
        prompt, _lead, _stop = spec.build(runtime.info.chat)
        tokens, _stops = runtime.render(prompt)
        out.append((f"{case['name']}:{task}", tokens))
    return out


def run(llm: object, tokens: list[int], max_tokens: int) -> tuple[str, float, float, int]:
    """(text, seconds to the first token, decode tokens/s after it, tokens)."""
    started = time.perf_counter()
    first = 0.0
    pieces = []
    for chunk in llm.create_completion(  # type: ignore[attr-defined]
        tokens, max_tokens=max_tokens, temperature=0.0, stream=True
    ):
        if not first:
            first = time.perf_counter()
        pieces.append(chunk["choices"][0]["text"])
    end = time.perf_counter()
    count = len(pieces)
    return "".join(pieces), first - started, (count - 1) / max(end - first, 1e-9), count


def main() -> None:
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--model", default="default")
    parser.add_argument("--draft", type=int, default=4, help="tokens drafted per step")
    parser.add_argument("--threads", type=int, default=0, help="0: the product's default")
    args = parser.parse_args()
    path = resolve_model(args.model, Path.home() / ".cache" / "chmocoder")
    settings = LoadSettings(n_ctx=4096, n_threads=args.threads)
    threads = threads_for(settings)
    runtime = LlamaCppRuntime(path, settings)
    plain = runtime.llm
    cases = edit_prompts(runtime, args.cases)
    speculative = Llama(
        model_path=str(path), n_ctx=4096, n_threads=threads, n_threads_batch=threads,
        verbose=False, draft_model=LlamaPromptLookupDecoding(num_pred_tokens=args.draft),
    )  # fmt: skip
    base_rss = rss_kib_self()  # both models loaded: what grows now is the drafting's logits
    rows_plain, rows_spec, same = [], [], 0
    for name, tokens in cases:
        a = run(plain, tokens, 400)
        b = run(speculative, tokens, 400)
        same += a[0] == b[0]
        rows_plain.append(a)
        rows_spec.append(b)
        print(f"  {name}: {a[3]} tokens; decode {a[2]:.1f} -> {b[2]:.1f} tokens/s; first token "
              f"{a[1]:.2f} -> {b[1]:.2f} s; same text: {a[0] == b[0]}")  # fmt: skip
    decode = statistics.median(b[2] / a[2] for a, b in zip(rows_plain, rows_spec, strict=True))
    whole = statistics.median(
        (a[1] + a[3] / a[2]) / (b[1] + b[3] / b[2])
        for a, b in zip(rows_plain, rows_spec, strict=True)
    )
    extra = (rss_kib_self() - base_rss) / 1024
    report(
        f"speculative-{threads}-threads",
        [
            {
                "metric": "decode tokens/s on edit prompts, prompt lookup / plain (greedy)",
                "ratio": decode,
                "target": ">= 1.5, same text",
                "met": decode >= 1.5 and same == len(cases),
                "detail": f"median of {len(cases)} edit prompts ({path.name}, {threads} threads, "
                f"{args.draft} drafted per step); same text in {same} of {len(cases)}",
            },
            {
                "metric": "whole answer (prompt and decode) speed, prompt lookup / plain",
                "ratio": whole,
                "detail": "llama-cpp-python keeps every position's logits when drafting "
                f"(logits_all): the prompt is slower, and {extra:.0f} MiB of logits stay resident "
                f"after {len(cases)} prompts (rows of a {4096} x vocabulary array)",
            },
        ],
    )


def rss_kib_self() -> int:
    import os

    return rss_kib(os.getpid())


if __name__ == "__main__":
    main()
