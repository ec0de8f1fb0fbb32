"""Typing: didChange -> publishDiagnostics round trips through `chmocoder serve`.

Two files: the benchmarks' 5,000-line module, and a 5,100-line module of 850
small functions. Baselines measured in the same run: one raw tree-sitter full
parse of the same text, and the same round trip through a no-op pygls server.
Run: .venv/bin/python bench/bench_server_sync.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from tree_sitter import Parser

from chmocoder.analysis.languages import LanguageRegistry
from common import median_ms, p95_ms, python_source, report, small_functions_source, timed
from lsp_driver import PYTHON, Driver

EDITS = 300
NOOP = [PYTHON, str(Path(__file__).parent / "noop_server.py")]
OURS = [PYTHON, "-m", "chmocoder", "serve"]


def edit_point(source: bytes, marker: bytes) -> tuple[int, int]:
    """(line, column) inside an identifier in the middle of the file."""
    lines = source.split(b"\n")
    row = len(lines) // 2
    while marker not in lines[row]:
        row += 1
    return row, lines[row].index(marker) + 3


async def round_trips(command: list[str], text: str, row: int, column: int) -> list[float]:
    """One-character edits (insert, then delete it again), each awaited until its
    version's diagnostics arrive."""
    driver = Driver(*command)
    await driver.start(options={"warm": False})  # warming ahead would load the model meanwhile
    uri = "file:///bench/big.py"
    driver.open(uri, text)
    samples = []
    for version in range(2, EDITS + 2):
        started = time.perf_counter()
        if version % 2 == 0:
            await driver.change(uri, version, row, column, column, "x")
        else:
            await driver.change(uri, version, row, column, column + 1, "")
        samples.append(time.perf_counter() - started)
    await driver.stop()
    return samples[10:]


def raw_full_parse(source: bytes) -> list[float]:
    parser = Parser(LanguageRegistry().support("python").language)
    return timed(lambda: parser.parse(source), 30)


async def main() -> None:
    rows = []
    files = [
        ("5,000-line module", python_source(5000), b"helper_"),
        ("5,100 lines, 850 small functions", small_functions_source(850), b"step_helper"),
    ]
    for name, source, marker in files:
        row, column = edit_point(source, marker)
        text = source.decode()
        full = raw_full_parse(source)
        noop = await round_trips(NOOP, text, row, column)
        ours = await round_trips(OURS, text, row, column)
        for baseline, samples, limit in (("one raw full parse", full, 0.3), ("no-op pygls server", noop, 2.0)):  # fmt: skip
            ratio = median_ms(ours) / median_ms(samples)
            rows.append({
                "metric": f"didChange round trip, {name} / {baseline}",
                "ratio": ratio,
                "target": f"<= {limit:g}",
                "met": ratio <= limit,
                "detail": f"p50 {median_ms(ours):.2f} ms, p95 {p95_ms(ours):.2f} ms vs p50 "
                f"{median_ms(samples):.2f} ms, p95 {p95_ms(samples):.2f} ms ({EDITS} edits)",
            })  # fmt: skip
    report("server_sync", rows)


if __name__ == "__main__":
    asyncio.run(main())
