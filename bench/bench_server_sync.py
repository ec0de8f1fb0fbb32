"""didChange -> publishDiagnostics round trip through `chmocoder serve`, 5,000-line file.

Baselines measured in the same run: raw tree-sitter incremental reparse of the
same edit, and the same round trip through a no-op pygls server.
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
from common import median_ms, p95_ms, python_source, report
from lsp_driver import PYTHON, Driver

EDITS = 300


def edit_line(source: bytes) -> tuple[int, int]:
    """(line, column) of an identifier in the middle of the file."""
    lines = source.split(b"\n")
    row = len(lines) // 2
    while b"helper_" not in lines[row]:
        row += 1
    return row, lines[row].index(b"helper_") + 3


async def round_trips(command: list[str], text: str, row: int, column: int) -> list[float]:
    driver = Driver(*command)
    await driver.start()
    uri = "file:///bench/big.py"
    driver.open(uri, text)
    samples = []
    for version in range(2, EDITS + 2):
        inserting = version % 2 == 0
        started = time.perf_counter()
        if inserting:
            await driver.change(uri, version, row, column, column, "x")
        else:
            await driver.change(uri, version, row, column, column + 1, "")
        samples.append(time.perf_counter() - started)
    await driver.stop()
    return samples[10:]


def raw_reparse(source: bytes, row: int, column: int) -> list[float]:
    parser = Parser(LanguageRegistry().support("python").language)
    lines = source.split(b"\n")
    offset = sum(len(ln) + 1 for ln in lines[:row]) + column
    tree = parser.parse(source)
    current = source
    samples = []
    for i in range(EDITS):
        started = time.perf_counter()
        if i % 2 == 0:
            new = current[:offset] + b"x" + current[offset:]
            tree.edit(offset, offset, offset + 1, (row, column), (row, column), (row, column + 1))
        else:
            new = current[:offset] + current[offset + 1 :]
            tree.edit(offset, offset + 1, offset, (row, column), (row, column + 1), (row, column))
        tree = parser.parse(new, tree)
        current = new
        samples.append(time.perf_counter() - started)
    return samples[10:]


async def main() -> None:
    source = python_source(5000)
    row, column = edit_line(source)
    text = source.decode()
    raw = raw_reparse(source, row, column)
    noop = await round_trips(
        [PYTHON, str(Path(__file__).parent / "noop_server.py")], text, row, column
    )
    ours = await round_trips([PYTHON, "-m", "chmocoder", "serve"], text, row, column)
    rows = [
        {
            "metric": "didChange round trip through chmocoder / raw tree-sitter incremental reparse",
            "ratio": median_ms(ours) / median_ms(raw),
            "detail": f"p50 {median_ms(ours):.3f} ms, p95 {p95_ms(ours):.3f} ms vs raw reparse "
            f"p50 {median_ms(raw):.3f} ms ({EDITS} edits, 5,000 lines)",
        },
        {
            "metric": "didChange round trip through chmocoder / through a no-op pygls server",
            "ratio": median_ms(ours) / median_ms(noop),
            "detail": f"p50 {median_ms(ours):.3f} ms vs no-op p50 {median_ms(noop):.3f} ms, "
            f"p95 {p95_ms(noop):.3f} ms",
        },
    ]
    report("server_sync", rows)


if __name__ == "__main__":
    asyncio.run(main())
