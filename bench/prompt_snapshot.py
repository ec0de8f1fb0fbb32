"""Every prompt and sampling the tasks send for bench/quality's cases, with answers replayed
(no model): a refactor of assist/ that must not change what the model is asked is shown
by two snapshots that are the same (run on each checkout, compare the files).

    .venv/bin/python bench/prompt_snapshot.py OUT.json
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "quality"))
sys.path.insert(0, str(HERE.parent))

from run import load_cases  # noqa: E402
from tests.support.recorded import RecordedEngine  # noqa: E402

from chmocoder.analysis.context import Focus  # noqa: E402
from chmocoder.analysis.document import Document  # noqa: E402
from chmocoder.analysis.languages import LanguageRegistry  # noqa: E402
from chmocoder.assist.assistant import Assistant, AssistSettings  # noqa: E402
from chmocoder.assist.review import ReviewState  # noqa: E402

ANSWERS = ["The bug is here.\n```\nx = 1\n```", "No bug.", "It adds numbers."]


async def snapshot() -> list[dict[str, object]]:
    registry = LanguageRegistry()
    out: list[dict[str, object]] = []
    for case in load_cases():
        text = case.file_text()
        language = registry.lookup(language_id=case.language)
        doc = Document(f"file:///{case.name}", text.encode(), language=language)
        engine = RecordedEngine(ANSWERS * 20)
        assistant = Assistant(engine, AssistSettings())
        line = case.bug_line + case.offset - 1
        offset = sum(len(row) + 1 for row in text.encode().split(b"\n")[:line])
        await assistant.edit(doc, "fix", offset, offset, path=f"{case.name}.x")
        await assistant.review(doc, ReviewState(), path=f"{case.name}.x")
        await assistant.explain(Focus.at(doc, offset), path=f"{case.name}.x")
        out.append(
            {
                "case": f"{case.language}/{case.name}",
                "prompts": engine.prompts,
                "params": [p.model_dump(mode="json") for p in engine.params],
            }
        )
    return out


if __name__ == "__main__":
    result = asyncio.run(snapshot())
    Path(sys.argv[1]).write_text(json.dumps(result, indent=1) + "\n")
    calls = sum(len(r["prompts"]) for r in result)  # type: ignore[arg-type]
    print(f"{len(result)} cases, {calls} model calls")
