"""Incremental reparse and context extraction against a raw tree-sitter full parse.

Run: .venv/bin/python bench/bench_analysis.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from tree_sitter import Parser

from chmocoder.analysis.context import extract_context
from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from common import median_ms, python_source, report, timed


def main() -> None:
    registry = LanguageRegistry()
    support = registry.support("python")
    source = python_source(5000)
    raw_parser = Parser(support.language)
    raw_full = timed(lambda: raw_parser.parse(source), 30)

    doc = Document("file:///bench.py", source, language=support)
    middle = source.index(b"helper_", len(source) // 2) + 3
    state = {"inserted": False}

    def one_char_edit() -> None:
        if state["inserted"]:
            doc.apply_edit(middle, middle + 1, b"")
        else:
            doc.apply_edit(middle, middle, b"x")
        state["inserted"] = not state["inserted"]
        doc.reparse()

    incremental = timed(one_char_edit, 200)
    cursor = source.index(b"total += helper_", len(source) // 2)

    def fresh_context() -> None:
        doc.cache.clear()  # as after an edit: definitions and imports are recomputed
        extract_context(doc, cursor)

    context = timed(fresh_context, 50)
    cached_context = timed(lambda: extract_context(doc, cursor), 50)
    bounded_full = timed(lambda: Document("file:///b.py", source, language=support), 30)

    base = median_ms(raw_full)
    rows = [
        {
            "metric": "incremental reparse after a one-character edit / raw full parse (5,000 lines)",
            "ratio": median_ms(incremental) / base,
            "target": "<= 0.1",
            "met": median_ms(incremental) / base <= 0.1,
            "detail": f"{median_ms(incremental):.3f} ms vs {base:.3f} ms (medians)",
        },
        {
            "metric": "context extraction after an edit (definitions recomputed) / raw full parse",
            "ratio": median_ms(context) / base,
            "target": "<= 0.5",
            "met": median_ms(context) / base <= 0.5,
            "detail": f"{median_ms(context):.3f} ms vs {base:.3f} ms",
        },
        {
            "metric": "context extraction, same version again / raw full parse",
            "ratio": median_ms(cached_context) / base,
            "detail": f"{median_ms(cached_context):.3f} ms vs {base:.3f} ms",
        },
        {
            "metric": "our bounded full parse (time-limit callback) / raw full parse",
            "ratio": median_ms(bounded_full) / base,
            "detail": f"{median_ms(bounded_full):.3f} ms vs {base:.3f} ms",
        },
    ]
    report("analysis", rows)


if __name__ == "__main__":
    main()
