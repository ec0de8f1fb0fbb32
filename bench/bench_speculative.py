"""Predicted output (engine/runtimes/predicted.py): a fix's candidates drafted from the
definition they rewrite, against plain decoding, on the product's own fix prompts.

The prompts are the fix's (prompts.edit_prompt with the context the assistant builds, in the
model's chat template) for the first bench/quality *dev* case of each program, the cursor on
the bug's line; each is answered with the fix's three candidate settings
(edit.EDIT_CANDIDATES: temperatures 0.1, 0.6, 0.9, seeded) by the product's runtime in the
same run: plain, then with `prediction` = the definition. The prompt is evaluated once before
both (a one-token answer), so both measure the answer alone, at the threads a fix gets
(interactive: every physical core). Reported: the answer's seconds with prediction / plain
(median over answers), decode tokens/s, and how many answers came out the same (the
drafted path samples the same way; a batch's arithmetic may still tip a choice).
Run: .venv/bin/python bench/bench_speculative.py [--cases N] [--model NAME]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "quality"))

from mutants import load_cases, load_programs

from chmocoder.analysis.context import Focus, extract_context
from chmocoder.assist import prompts
from chmocoder.assist.edit import EDIT_CANDIDATES, edit_target
from chmocoder.cli_files import offset_of
from chmocoder.engine.models import resolve_model
from chmocoder.engine.runtimes.base import LoadSettings, interactive_threads
from chmocoder.engine.runtimes.llama_cpp import LlamaCppRuntime
from chmocoder.engine.types import GenerationParams
from chmocoder.paths import default_cache_dir
from common import report


def fix_prompts(
    runtime: LlamaCppRuntime, per_program: int
) -> list[tuple[str, object, str, tuple[str, ...]]]:
    """(case, the fix's prompt, the definition it rewrites) for the first dev cases."""
    programs = {p.key: p for p in load_programs()}
    taken: dict[str, int] = {}
    out = []
    for case in load_cases("dev"):
        key = f"{case['language']}/{case['program']}"
        if taken.get(key, 0) >= per_program:
            continue
        taken[key] = taken.get(key, 0) + 1
        program = programs[key]
        doc = program.document(case["buggy"])
        offset = offset_of(doc.source, case["bug_line"], None)
        focus = Focus.at(doc, offset)
        start, end = edit_target(focus, offset)
        target = doc.text(start, end)
        context = extract_context(doc, offset, path=program.file_name, budget=1536)
        cursor_start = doc.source.rfind(b"\n", 0, offset) + 1
        cursor_end = doc.source.find(b"\n", offset)
        spec = prompts.edit_prompt(
            context.render(), doc.language_name or "", target, "fix", "intermediate",
            cursor=doc.text(cursor_start, cursor_end),
        )  # fmt: skip
        prompt, _lead, stop = spec.build(runtime.info.chat)
        out.append((case["id"], prompt, target, stop))
    return out


def answer(
    runtime: LlamaCppRuntime, prompt: object, params: GenerationParams
) -> tuple[str, float, int, float]:
    """(text, seconds, tokens, decode tokens/s)."""
    started = time.perf_counter()
    result = runtime.generate(prompt, params, lambda _piece: True, interactive=True)  # type: ignore[arg-type]
    return (
        result.text,
        time.perf_counter() - started,
        result.usage.completion_tokens,
        result.timings.tokens_per_second,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-program", type=int, default=1)
    parser.add_argument("--model", default="default")
    parser.add_argument("--limit", type=int, default=0, help="the first N prompts only")
    args = parser.parse_args()
    path = resolve_model(args.model, default_cache_dir())
    settings = LoadSettings(n_ctx=4096, n_threads=0)
    runtime = LlamaCppRuntime(path, settings)
    rows = []
    chosen = fix_prompts(runtime, args.per_program)
    for name, prompt, target, stop in chosen[: args.limit or len(chosen)]:
        runtime.generate(prompt, GenerationParams(max_tokens=1), lambda _p: True, interactive=True)  # type: ignore[arg-type]
        for params in EDIT_CANDIDATES:
            params = params.model_copy(update={"max_tokens": 1024, "stop": stop})
            a = answer(runtime, prompt, params)
            b = answer(runtime, prompt, params.model_copy(update={"prediction": target}))
            rows.append((a, b))
            print(
                f"  {name} T={params.temperature}: {a[2]} -> {b[2]} tokens, {a[1]:.1f} -> "
                f"{b[1]:.1f} s ({b[1] / a[1]:.2f}x), decode {a[3]:.1f} -> {b[3]:.1f} tokens/s, "
                f"same text: {a[0] == b[0]}",
                flush=True,
            )
    same = sum(a[0] == b[0] for a, b in rows)
    seconds = statistics.median(b[1] / a[1] for a, b in rows)
    total = sum(b[1] for _, b in rows) / sum(a[1] for a, _ in rows)
    decode = statistics.median(b[3] / a[3] for a, b in rows if a[3] > 0)
    threads = interactive_threads(settings)
    report(
        "predicted-output",
        [
            {
                "metric": "a fix's candidate answer with the definition as its prediction / plain, seconds",
                "ratio": seconds,
                "target": "<= 0.7, same text",
                "met": seconds <= 0.7,
                "detail": f"median of {len(rows)} answers ({len(rows) // 3} dev fix prompts x 3 "
                f"candidate settings; {path.name}, {threads} threads); all answers together "
                f"{total:.2f}x; the same text in {same} of {len(rows)}",
            },
            {
                "metric": "decode tokens/s with the prediction / plain",
                "ratio": decode,
                "detail": "median over the same answers",
            },
        ],
    )


if __name__ == "__main__":
    main()
