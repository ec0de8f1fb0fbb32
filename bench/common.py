"""Helpers shared by the benchmarks: a generated source file, timing, and result files."""

from __future__ import annotations

import dataclasses
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def python_source(lines: int = 5000) -> bytes:
    """A deterministic Python module of about `lines` lines: classes, methods, calls."""
    out: list[str] = ["import os", "import sys", "from typing import Any", ""]
    i = 0
    while len(out) < lines:
        out += [
            f"def helper_{i}(value: int, scale: float = 1.0) -> float:",
            f'    """Scale value number {i}."""',
            f"    return value * scale + {i}",
            "",
            f"class Worker{i}:",
            f'    """Worker number {i}."""',
            "",
            "    def __init__(self, name: str) -> None:",
            "        self.name = name",
            "        self.count = 0",
            "",
            "    def run(self, items: list[int]) -> float:",
            "        total = 0.0",
            "        for item in items:",
            f"            total += helper_{i}(item, 2.0)",
            "            self.count += 1",
            "        return total",
            "",
        ]
        i += 1
    return ("\n".join(out[:lines]) + "\n").encode()


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock seconds of `repeat` calls (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def report(name: str, rows: list[dict[str, Any]]) -> None:
    """Print the rows and write them to bench/results/NAME.json."""
    for row in rows:
        target = f"  (target {row['target']})" if row.get("target") else ""
        verdict = ""
        if "met" in row:
            verdict = "  ok" if row["met"] else "  MISSED"
        print(f"{row['metric']}: {row['ratio']:.3f}x{target}{verdict}")
        print(f"    {row['detail']}")
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "benchmark": name,
        "machine": platform.platform(),
        "python": platform.python_version(),
        "rows": rows,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")


def small_functions_source(functions: int = 850) -> bytes:
    """A module of many small functions (six lines each): many definitions per line of text."""
    out: list[str] = ["import math", ""]
    for i in range(functions):
        out += [
            f"def step_{i}(value, scale=1.0):",
            f'    """Step number {i}."""',
            f"    offset = math.sqrt(abs(value)) + {i}",
            "    if offset > scale:",
            "        return offset * scale",
            "    return step_helper(offset)",
        ]
    return ("\n".join(out) + "\n").encode()


def rss_kib(pid: int) -> int:
    """Resident memory of a process in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def engine_config(**fields: Any) -> Any:
    """The engine's config as the product builds it from the default Settings, with `fields`
    (EngineConfig's own names) changed."""
    from chmocoder import compose
    from chmocoder.config import Settings

    return dataclasses.replace(compose.engine_config(Settings()), **fields)
