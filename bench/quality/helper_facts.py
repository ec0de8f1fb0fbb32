"""Where the explanation rubrics' helper facts live (no model): for each split, how many of
them a referenced definition's signature or doc states (what the explanation's context
shows of a helper), and how many the helpers' whole text holds. Totals only, so the test
split can be counted without reading its rubrics' answers.

    .venv/bin/python bench/quality/helper_facts.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mutants import load_programs, load_rubrics  # noqa: E402

from chmocoder.analysis.context import referenced  # noqa: E402
from chmocoder.analysis.symbols import definitions  # noqa: E402


def count(split: str) -> tuple[int, int, int]:
    """(helper facts, stated by a referenced signature or doc, found in a helper's text)."""
    programs = {p.key: p for p in load_programs()}
    facts = in_doc = in_text = 0
    for rubric in load_rubrics(split):
        doc = programs[rubric["program"]].document()
        found = definitions(doc)
        inner = next(d for d in found if d.name == rubric["function"])
        refs = referenced(doc, inner.span, None, None, skip=inner.span)
        shown = " ".join(f"{r.signature} {r.doc or ''}" for r in refs)
        names = {r.name for r in refs}
        text = " ".join(
            doc.text(d.span.start_byte, d.span.end_byte) for d in found if d.name in names
        )
        for fact in rubric.get("helper", []):
            facts += 1
            in_doc += any(re.search(rx, shown, re.IGNORECASE) for rx in fact)
            in_text += any(re.search(rx, text, re.IGNORECASE) for rx in fact)
    return facts, in_doc, in_text


if __name__ == "__main__":
    for split in ("dev", "test"):
        facts, in_doc, in_text = count(split)
        print(f"{split}: {facts} helper facts, {in_doc} in a referenced signature or doc, "
              f"{in_text} in a helper's text")  # fmt: skip
