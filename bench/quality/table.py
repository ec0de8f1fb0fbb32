"""Prints the README's answer-quality table from bench/results/quality-MODEL.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"
MODELS = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "gemma3-270m")


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def main() -> int:
    print(
        '| model | fix rate (bug line / first line) | broke the build | "no change" | s / fix '
        "| review recall | false alarms / clean def. | s / review | explanation rubric "
        "| cut-off | s / explanation |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("| target (default model) | ≥ 50% | | | | ≥ 60% | ≤ 0.2 | | ≥ 0.9 | 0 | |")
    for model in sys.argv[1:] or MODELS:
        path = RESULTS / f"quality-{model}.json"
        if not path.exists():
            continue
        s = json.loads(path.read_text())["summary"]
        print(
            f"| `{model}` | {pct(s['fix_rate_at_bug_line'])} / {pct(s['fix_rate_at_definition'])} "
            f"| {pct(s['broke_build'])} | {pct(s['no_change'])} | {s['seconds_per_fix']} "
            f"| {pct(s['review_recall'])} | {s['false_alarms_per_clean_definition']:.2f} "
            f"| {s['seconds_per_review']} | {s['explain_rubric']:.2f} | {s['explain_cut_off']} "
            f"| {s['seconds_per_explain']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
