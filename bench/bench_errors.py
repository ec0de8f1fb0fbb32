"""Fixing real checker errors: `chmocoder fix --errors - --apply` on small programs whose
errors mypy (--strict) or gcc (-Wall -Wextra -Werror) report (bench/errors/cases.toml).
A case is mended when the checker is quiet afterwards and the program's test passes.

Each case runs twice: plainly, and with `--check` (the checker run on each candidate fix,
which is kept only if it silences the errors and adds none). The baseline is the checker's
verdict on the untouched file (every case has at least one error); the time is the whole
command's, as a person waits for it (default model, default settings).

    .venv/bin/python bench/bench_errors.py [--model NAME] [--only NAME]

Writes bench/results/errors.json.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, report

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
GCC = ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-fdiagnostics-plain-output"]


def _run(
    command: list[str], folder: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=folder, input=stdin, capture_output=True, text=True, timeout=600
    )


def checker(case: dict[str, Any], file: str) -> list[str]:
    if case["lang"] == "python":
        return [PYTHON, "-m", "mypy", "--strict", "--no-error-summary", file]
    return [*GCC, "-c", file, "-o", "/dev/null"]


def check(case: dict[str, Any], folder: Path) -> subprocess.CompletedProcess[str]:
    return _run(checker(case, "mod.py" if case["lang"] == "python" else "code.c"), folder)


def test(case: dict[str, Any], folder: Path) -> bool:
    if case["lang"] == "python":
        return _run([PYTHON, "-c", f"from mod import *\n{case['test']}"], folder).returncode == 0
    (folder / "test.c").write_text(
        f'#include <assert.h>\n#include "code.c"\nint main(void) {{ {case["test"]} return 0; }}\n'
    )
    built = _run(["gcc", "-std=c11", "-O1", "-w", "test.c", "-o", "test"], folder)
    return built.returncode == 0 and _run(["./test"], folder).returncode == 0


def one(case: dict[str, Any], model: str, checked: bool) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"chmo-errors-{case['name']}-"))
    name = "mod.py" if case["lang"] == "python" else "code.c"
    (folder / name).write_text(case["code"].lstrip("\n"))
    before = check(case, folder)
    output = before.stdout + before.stderr
    started = time.perf_counter()
    command = [PYTHON, "-m", "chmocoder", "fix", "--errors", "-", "--apply", "--no-index",
               "--model", model]  # fmt: skip
    if checked:
        command += ["--check", shlex.join(checker(case, "{file}"))]
    fixed = _run(command, folder, stdin=output)
    seconds = time.perf_counter() - started
    after = check(case, folder)
    return {
        "case": case["name"],
        "lang": case["lang"],
        "errors_before": output.strip().splitlines(),
        "checker_quiet_before": before.returncode == 0,
        "test_before": test(case, folder) if before.returncode == 0 else False,
        "exit": fixed.returncode,
        "said": fixed.stderr.strip().splitlines()[-3:],
        "seconds": seconds,
        "checker_quiet": after.returncode == 0,
        "errors_after": (after.stdout + after.stderr).strip().splitlines()[:3],
        "test_passes": after.returncode == 0 and test(case, folder),
        "diff": fixed.stdout,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default")
    parser.add_argument("--only")
    args = parser.parse_args()
    cases = tomllib.loads((HERE / "errors" / "cases.toml").read_text())["case"]
    cases = [c for c in cases if not args.only or c["name"] == args.only]
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "--check": []}
    for case in cases:
        for label in runs:
            result = one(case, args.model, checked=label == "--check")
            runs[label].append(result)
            print(label, json.dumps({k: result[k] for k in ("case", "exit", "seconds",
                  "checker_quiet", "test_passes")}), flush=True)  # fmt: skip
    rows = []
    for label, results in runs.items():
        valid = [r for r in results if not r["checker_quiet_before"]]
        mended = [r for r in valid if r["checker_quiet"] and r["test_passes"]]
        quiet_broken = [r for r in valid if r["checker_quiet"] and not r["test_passes"]]
        seconds = sorted(r["seconds"] for r in valid)
        rows.append(
            {
                "metric": f"{label}: checker errors mended (checker quiet, test passing) / cases",
                "ratio": len(mended) / max(1, len(valid)),
                "detail": f"{len(mended)} of {len(valid)} "
                f"({sum(r['lang'] == 'python' for r in mended)} mypy, "
                f"{sum(r['lang'] == 'c' for r in mended)} gcc); checker quiet but the test "
                f"failing: {len(quiet_broken)}; before: 0 of {len(valid)} quiet; seconds per "
                f"case p50 {seconds[len(seconds) // 2]:.1f}, max {seconds[-1]:.1f}",
            }
        )
    report("errors", rows)
    (RESULTS / "errors-runs.json").write_text(json.dumps(runs, indent=1) + "\n")


if __name__ == "__main__":
    main()
