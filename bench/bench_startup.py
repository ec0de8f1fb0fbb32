"""Start-up: from starting `chmocoder serve` to its answer to `initialize`, and on to the
diagnostics of the first file opened (what the rest of start-up costs).

Baseline in the same run: the no-op pygls server, started the same way (the same
Python, a fresh process each time, the two alternating).
Run: .venv/bin/python bench/bench_startup.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from common import median_ms, p95_ms, report
from lsp_driver import PYTHON

RUNS = 15
NOOP = [PYTHON, str(Path(__file__).parent / "noop_server.py")]
OURS = [PYTHON, "-m", "chmocoder", "serve"]
SOURCE = "def area(r):\n    return 3.14159 * r * r\n"


async def start_to_initialize(command: list[str]) -> tuple[float, float]:
    """Seconds from the start to the `initialize` answer, and to the first diagnostics."""
    client = LanguageClient("bench", "1")
    published = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(ls: Any, params: types.PublishDiagnosticsParams) -> None:
        published.set()

    home = tempfile.mkdtemp(prefix="chmo-bench-")
    env = {
        "XDG_CACHE_HOME": f"{home}/c",
        "XDG_STATE_HOME": f"{home}/s",
        "XDG_RUNTIME_DIR": f"{home}/r",
    }
    started = time.perf_counter()
    await client.start_io(*command, env={**os.environ, **env})
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=None)
    )
    answered = time.perf_counter() - started
    client.initialized(types.InitializedParams())
    item = types.TextDocumentItem(
        uri="file:///b/a.py", language_id="python", version=1, text=SOURCE
    )
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
    await asyncio.wait_for(published.wait(), 30)
    diagnosed = time.perf_counter() - started
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return answered, diagnosed


async def main() -> None:
    noop: list[tuple[float, float]] = []
    ours: list[tuple[float, float]] = []
    await start_to_initialize(OURS)  # warm the disk cache and the bytecode
    for _ in range(RUNS):
        noop.append(await start_to_initialize(NOOP))
        ours.append(await start_to_initialize(OURS))
    rows = []
    for index, what, target in (
        (0, "the initialize answer", 1.3),
        (1, "the first file's diagnostics", None),
    ):
        mine = [sample[index] for sample in ours]
        base = [sample[index] for sample in noop]
        ratio = median_ms(mine) / median_ms(base)
        row = {
            "metric": f"start to {what}, chmocoder serve / no-op pygls server",
            "ratio": ratio,
            "detail": f"p50 {median_ms(mine):.0f} ms, p95 {p95_ms(mine):.0f} ms vs no-op "
            f"p50 {median_ms(base):.0f} ms, p95 {p95_ms(base):.0f} ms ({RUNS} starts each)",
        }
        if target is not None:
            row.update(target=f"<= {target}", met=ratio <= target)
        rows.append(row)
    report("startup", rows)


if __name__ == "__main__":
    asyncio.run(main())
