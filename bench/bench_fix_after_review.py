"""The fix of a definition after its review: what a person waits for when the review on
save has marked a definition and they ask for *Fix this function* (the cursor on its first
line), against the same fix with nothing asked before (the baseline, same run).

For bench/quality's mutant cases (dev split: a latency benchmark reads answers freely), each
buggy program is fixed from its definition's first line twice, each time in a fresh cache
folder (no cached answers; its own model daemon): alone, and after `chmocoder review` of
the file (alone: after the fix of an unrelated two-line definition, so the model is loaded
in both). The review and that first fix are not timed; the fix's whole command is. The calls the
fix found in the result cache (the odds of the definition the review asked for, since the
odds are keyed without the task) are counted from the cache folder's call records.

    .venv/bin/python bench/bench_fix_after_review.py [--cases N] [--model NAME]

Default model, default settings. Writes bench/results/fix-after-review.json.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "quality"))

from mutants import load_cases, load_programs  # noqa: E402
from run import Runner, case_folder, prepare_cache  # noqa: E402

from common import report  # noqa: E402

WARM = {
    ".py": "def add(a, b):\n    return a - b\n",
    ".js": "function add(a, b) {\n  return a - b;\n}\n",
    ".c": "int add(int a, int b) {\n    return a - b;\n}\n",
    ".rs": "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
}
"""An unrelated definition in the case's language, fixed first when the fix runs alone, so
both runs start with the model loaded and its daemon running."""


def fix_hits(cache: Path) -> int:
    """The fix's model calls the result cache answered (from the folder's call records)."""
    with sqlite3.connect(cache / "stats.sqlite3") as db:
        row = db.execute("SELECT COUNT(*) FROM calls WHERE task = 'fix' AND cache_hit = 1")
        return int(row.fetchone()[0])


def one(
    model: str, case: dict[str, Any], code: str, file_name: str, review: bool
) -> dict[str, Any]:
    with prepare_cache() as cache, case_folder() as folder:
        runner = Runner(model, cache, [])
        path = folder / file_name
        path.write_text(code)
        if review:
            runner.cli("review", str(path))
        else:  # the model loaded and its daemon running, as the review leaves them
            warm = folder / f"warm{path.suffix}"
            warm.write_text(WARM[path.suffix])
            runner.cli("fix", f"{warm}:1")
        r, seconds = runner.cli("fix", f"{path}:{case['def_line']}")
        return {"seconds": round(seconds, 2), "hits": fix_hits(cache), "diff": r.stdout}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", type=int, default=8, help="the first N dev cases, one per program"
    )
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    programs = {p.key: p for p in load_programs()}
    seen: set[str] = set()
    picked = []
    for case in load_cases("dev"):
        key = f"{case['language']}/{case['program']}"
        if key not in seen:
            seen.add(key)
            picked.append((case, programs[key]))
    rows = []
    for case, program in picked[: args.cases]:
        alone = one(args.model, case, case["buggy"], program.file_name, review=False)
        after = one(args.model, case, case["buggy"], program.file_name, review=True)
        rows.append({"case": case["id"], "alone": alone, "after_review": after})
        print(f"{case['id']:<28} alone {alone['seconds']:>5.1f} s  after its review "
              f"{after['seconds']:>5.1f} s ({after['hits']} cached calls; "
              f"same fix: {alone['diff'] == after['diff']})", flush=True)  # fmt: skip
    alone_s = statistics.median(r["alone"]["seconds"] for r in rows)
    after_s = statistics.median(r["after_review"]["seconds"] for r in rows)
    hits = sum(1 for r in rows if r["after_review"]["hits"])
    report(
        "fix-after-review",
        [
            {
                "metric": "fix from the definition's first line after its review / alone (median)",
                "ratio": round(after_s / alone_s, 3),
                "detail": f"{after_s:.1f} s vs {alone_s:.1f} s, {args.model}, {len(rows)} dev "
                f"cases; the fix found a call in the result cache in {hits}",
                "cases": rows,
            }
        ],
    )


if __name__ == "__main__":
    main()
