"""What a person waits for, over LSP, on the default model at the default settings (one
model thread): a hover's explanation in a file that has been open for a while, and a short
request made while background work evaluates a long prompt.

Hover: for definitions of Python's own standard library (code the project never tuned
for), a fresh server (its model daemon already running, as it is once any window has used
it) opens the file (a copy, alone in a workspace folder; the model assembled once per
set-up in its cache folder), is asked for code actions where the definition is (as
VS Code asks when the cursor lands), waits OPEN_S, then hovers on the definition's name.
Measured from the server's own call records: the explanation's time to first token and
total. The baseline, in the same run: the same with `warm: false`, `promptCacheMib: 0` and
`nThreads: 1` (every prompt evaluated from scratch on one thread: the behaviour before
these changes on two cores); the floor: the model's time to write the explanation's tokens
once its prompt is evaluated (total minus first token of the warm hover).

    .venv/bin/python bench/bench_latency.py [--definitions N] [--model NAME]

Writes bench/results/latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lsprotocol import types

from common import RESULTS, report
from lsp_driver import PYTHON, Driver

OPEN_S = 10.0
SOURCES = ("textwrap.py", "shlex.py", "fnmatch.py", "bisect.py", "colorsys.py", "glob.py")


def definitions(limit: int) -> list[tuple[Path, int, int, str]]:
    """(file, line, column, name) of top-level functions of a few standard-library files
    that are 6 to 40 lines long (one per file first, then more)."""
    import ast
    import sysconfig

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found: list[list[tuple[Path, int, int, str]]] = []
    for name in SOURCES:
        path = stdlib / name
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        here = [
            (path, node.lineno - 1, 4, node.name)
            for node in tree.body
            if isinstance(node, ast.FunctionDef)
            and 6 <= (node.end_lineno or node.lineno) - node.lineno <= 40
            and not node.name.startswith("_")
        ]
        found.append(here)
    picked: list[tuple[Path, int, int, str]] = []
    while len(picked) < limit and any(found):
        for here in found:
            if here and len(picked) < limit:
                picked.append(here.pop(0))
    return picked


async def hover_once(
    definition: tuple[Path, int, int, str],
    model: str,
    warm: bool,
    cache_mib: int,
    threads: int,
    home: str,
) -> dict[str, float]:
    source, line, column, _name = definition
    folder = Path(tempfile.mkdtemp(prefix="chmo-latency-file-"))  # a workspace of this file
    path = folder / source.name
    path.write_text(source.read_text())
    cache = Path(home) / "cache"  # the model assembled once per set-up, not per run
    driver = Driver(PYTHON, "-m", "chmocoder", "serve")
    options: dict[str, Any] = {
        "model": model,
        "cacheDir": str(cache),
        "review": {"mode": "off"},
        "hover": {"timeoutMs": 600_000},
        "warm": warm,
        "promptCacheMib": cache_mib,
        "nThreads": threads,
    }
    await driver.start(root=path.parent.as_uri(), options=options, home=home)
    uri = path.as_uri()
    opened = time.time()
    driver.open(uri, path.read_text())
    where = types.Range(types.Position(line, column), types.Position(line, column))
    await driver.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=where,
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    await asyncio.sleep(OPEN_S)
    started = time.perf_counter()
    hover = await driver.hover(uri, line, column)
    waited = time.perf_counter() - started
    await driver.stop()
    assert hover is not None
    with sqlite3.connect(cache / "stats.sqlite3") as db:
        rows = db.execute(
            "SELECT first_token_ms, total_ms, prompt_tokens, completion_tokens FROM calls "
            "WHERE task = 'explain' AND at > ? ORDER BY at",
            (opened,),
        ).fetchall()
        warms = db.execute(
            "SELECT COUNT(*) FROM calls WHERE task = 'warm' AND at > ?", (opened,)
        ).fetchone()[0]
    first_ms, total_ms, prompt_tokens, completion_tokens = rows[-1]
    return {
        "first_token_s": first_ms / 1000,
        "total_s": total_ms / 1000,
        "hover_s": waited,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "warm_calls": warms,
    }


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--definitions", type=int, default=6)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    *chosen, warm_up = definitions(args.definitions + 1)
    runs: dict[str, list[dict[str, float]]] = {"warm": [], "cold": []}
    setups = (("cold", False, 0, 1), ("warm", True, 512, 0))
    homes = {label: tempfile.mkdtemp(prefix=f"chmo-latency-{label}-") for label, *_ in setups}
    for label, warm, mib, threads in setups:  # each set-up's daemon loads its model once
        await hover_once(warm_up, args.model, warm, mib, threads, homes[label])
    for definition in chosen:
        print(f"{definition[0].name}:{definition[1] + 1} {definition[3]}", flush=True)
        for label, warm, mib, threads in setups:
            measured = await hover_once(definition, args.model, warm, mib, threads, homes[label])
            runs[label].append(measured)
            print(f"  {label}: {json.dumps(measured)}", flush=True)
    first = {k: [r["first_token_s"] for r in v] for k, v in runs.items()}
    total = {k: [r["total_s"] for r in v] for k, v in runs.items()}
    writing = [r["total_s"] - r["first_token_s"] for r in runs["warm"]]
    rows = [
        {
            "metric": "hover, first token of the explanation, file open 10 s / cold",
            "ratio": statistics.median(first["warm"]) / statistics.median(first["cold"]),
            "detail": f"p50 {statistics.median(first['warm']):.2f} s, p90 {p(first['warm'], 0.9):.2f} s "
            f"vs cold p50 {statistics.median(first['cold']):.2f} s, p90 {p(first['cold'], 0.9):.2f} s "
            f"({len(chosen)} stdlib definitions, default settings)",
            "target": "first token <= 1.5 s p50",
            "met": statistics.median(first["warm"]) <= 1.5,
        },
        {
            "metric": "hover, explanation complete, file open 10 s / cold",
            "ratio": statistics.median(total["warm"]) / statistics.median(total["cold"]),
            "detail": f"p50 {statistics.median(total['warm']):.2f} s vs cold p50 "
            f"{statistics.median(total['cold']):.2f} s; floor (writing the answer once the prompt "
            f"is in) p50 {statistics.median(writing):.2f} s",
        },
    ]
    report("latency", rows)
    (RESULTS / "latency-runs.json").write_text(json.dumps(runs, indent=1) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
