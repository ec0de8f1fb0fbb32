"""Memory while typing: the server's resident memory over 21,000 one-character edits.

After a warm-up of 1,000 edits, 20,000 more must grow RSS by less than 5 MiB.
Three documents: the 5,000-line module with incremental sync, the same with a
full-text change, and a plain-text file (no parser). The no-op pygls server,
fed the same incremental edits in the same run, is the baseline.
Run: .venv/bin/python bench/bench_typing_memory.py [--edits N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lsprotocol import types

from common import python_source, report, rss_kib
from lsp_driver import PYTHON, Driver

WARM_UP = 1000
TARGET_MIB = 5.0
NOOP = [PYTHON, str(Path(__file__).parent / "noop_server.py")]
OURS = [PYTHON, "-m", "chmocoder", "serve"]


async def growth(command: list[str], kind: str, edits: int) -> tuple[float, float]:
    """(RSS after the warm-up, RSS after `edits` more) in MiB."""
    driver = Driver(*command)
    await driver.start(options={"warm": False})  # warming ahead would load the model meanwhile
    source = python_source(5000).decode()
    uri, language = (
        ("file:///bench/notes.txt", "plaintext")
        if kind == "plain"
        else (
            "file:///bench/big.py",
            "python",
        )
    )
    driver.open(uri, source, language)
    lines = source.split("\n")
    row = len(lines) // 2
    column = lines[row].index("helper_") + 3 if "helper_" in lines[row] else 0
    pid = driver.client._server.pid  # type: ignore[union-attr]
    warm = 0.0
    for version in range(2, WARM_UP + edits + 2):
        inserting = version % 2 == 0
        if kind == "full":
            line = lines[row]
            changed = line[:column] + "x" + line[column:] if inserting else line
            text = "\n".join([*lines[:row], changed, *lines[row + 1 :]])
            event = driver.versions.setdefault(f"{uri}@{version}", asyncio.Event())
            driver.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                    [types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
            await asyncio.wait_for(event.wait(), 30)
        elif inserting:
            await driver.change(uri, version, row, column, column, "x")
        else:
            await driver.change(uri, version, row, column, column + 1, "")
        if version == WARM_UP + 1:
            warm = rss_kib(pid) / 1024
    end = rss_kib(pid) / 1024
    await driver.stop()
    return warm, end


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=20_000)
    edits = parser.parse_args().edits
    base_warm, base_end = await growth(NOOP, "incremental", edits)
    rows = []
    for kind, name in (
        ("incremental", "incremental edits, Python"),
        ("full", "full-text changes, Python"),
        ("plain", "incremental edits, plain text"),
    ):
        warm, end = await growth(OURS, kind, edits)
        rows.append(
            {
                "metric": f"RSS after {edits:,} more edits / after {WARM_UP:,} ({name})",
                "ratio": end / warm,
                "target": f"growth < {TARGET_MIB:g} MiB",
                "met": end - warm < TARGET_MIB,
                "detail": f"{warm:.1f} -> {end:.1f} MiB (+{end - warm:.2f}); no-op pygls server "
                f"{base_warm:.1f} -> {base_end:.1f} MiB (+{base_end - base_warm:.2f})",
            }
        )
    report("typing_memory", rows)


if __name__ == "__main__":
    asyncio.run(main())
