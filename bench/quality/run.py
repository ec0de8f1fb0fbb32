"""The answer-quality benchmark: fixes, reviews and explanations per catalogue model.

Runs the real command line (`chmocoder fix --apply`, `review`, `explain`) on the cases in
bench/quality/cases/*.toml (buggy definitions with tests and a clean twin) and
bench/quality/explain.toml (explanations with the key facts they must state), then prints
one table per model and writes bench/results/quality-MODEL.json.

    .venv/bin/python bench/quality/run.py --check                 # the cases are sound (no model)
    .venv/bin/python bench/quality/run.py --model qwen2.5-coder-1.5b [--tasks fix,review,explain]

It is run by hand (minutes to an hour per model on a laptop CPU), not by the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = ROOT / "bench" / "results"
CHMOCODER = Path(sys.executable).with_name("chmocoder")


@dataclass(frozen=True)
class Language:
    ext: str
    prefix: str
    """Put before the case's code in the file the model sees (includes)."""

    def program(self, code: str, test: str) -> str:
        raise NotImplementedError

    def run(self, folder: Path, program: str) -> tuple[str, str]:
        raise NotImplementedError


def _run(command: list[str], folder: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, "", "timed out")


class Python(Language):
    def program(self, code: str, test: str) -> str:
        return f"{code}\n\n{test}\n"

    def run(self, folder: Path, program: str) -> tuple[str, str]:
        (folder / "run_case.py").write_text(program)
        r = _run([sys.executable, "run_case.py"], folder)
        if r.returncode == 0:
            return "pass", ""
        broken = "SyntaxError" in r.stderr or "IndentationError" in r.stderr
        return ("broken" if broken else "fail"), r.stderr[-400:]


class JavaScript(Language):
    def program(self, code: str, test: str) -> str:
        return f'const assert = require("assert");\n{code}\n\n{test}\n'

    def run(self, folder: Path, program: str) -> tuple[str, str]:
        (folder / "run_case.js").write_text(program)
        r = _run(["node", "run_case.js"], folder)
        if r.returncode == 0:
            return "pass", ""
        return ("broken" if "SyntaxError" in r.stderr else "fail"), r.stderr[-400:]


class Rust(Language):
    def program(self, code: str, test: str) -> str:
        return f"#![allow(dead_code)]\n{code}\n\nfn main() {{\n{test}\n}}\n"

    def run(self, folder: Path, program: str) -> tuple[str, str]:
        (folder / "run_case.rs").write_text(program)
        built = _run(["rustc", "--edition", "2021", "-o", "run_case", "run_case.rs"], folder, 120)
        if built.returncode != 0:
            return "broken", built.stderr[-400:]
        r = _run(["./run_case"], folder)
        return ("pass", "") if r.returncode == 0 else ("fail", r.stderr[-400:])


class C(Language):
    def program(self, code: str, test: str) -> str:
        return f"{code}\n\nint main(void) {{\n{test}\nreturn 0;\n}}\n"

    def run(self, folder: Path, program: str) -> tuple[str, str]:
        (folder / "run_case.c").write_text(program)
        built = _run(["cc", "-std=c11", "-o", "run_case", "run_case.c"], folder, 60)
        if built.returncode != 0:
            return "broken", built.stderr[-400:]
        r = _run(["./run_case"], folder)
        return ("pass", "") if r.returncode == 0 else ("fail", r.stderr[-400:])


LANGUAGES: dict[str, Language] = {
    "python": Python("py", ""),
    "javascript": JavaScript("js", ""),
    "rust": Rust("rs", ""),
    "c": C("c", "#include <assert.h>\n#include <stddef.h>\n#include <string.h>\n\n"),
}


@dataclass(frozen=True)
class Case:
    language: str
    name: str
    buggy: str
    clean: str
    test: str
    bug_line: int

    @property
    def lang(self) -> Language:
        return LANGUAGES[self.language]

    @property
    def offset(self) -> int:
        """Lines the prefix adds before the case's code."""
        return self.lang.prefix.count("\n")

    def file_text(self, clean: bool = False) -> str:
        return self.lang.prefix + (self.clean if clean else self.buggy)

    @property
    def definition_line(self) -> int:
        """The 1-based file line where the definition starts (after its doc comment)."""
        for i, line in enumerate(self.buggy.split("\n"), 1):
            s = line.strip()
            if s and not s.startswith(("#", "//", "/*", "*", "///")):
                return i + self.offset
        return 1 + self.offset


def load_cases() -> list[Case]:
    cases = []
    for path in sorted((HERE / "cases").glob("*.toml")):
        language = path.stem
        for entry in tomllib.loads(path.read_text())["case"]:
            cases.append(
                Case(
                    language,
                    entry["name"],
                    entry["buggy"],
                    entry["clean"],
                    entry["test"],
                    entry["bug_line"],
                )
            )
    return cases


def check(cases: list[Case]) -> int:
    """Each case: clean passes its test, buggy fails it, the twins differ at the bug line."""
    bad = 0
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            clean, why_clean = case.lang.run(
                folder, case.lang.program(case.file_text(True), case.test)
            )
            buggy, _ = case.lang.run(folder, case.lang.program(case.file_text(), case.test))
        b = case.buggy.split("\n")
        c = case.clean.split("\n")
        at_bug = b[case.bug_line - 1] != (c[case.bug_line - 1] if case.bug_line <= len(c) else None)
        ok = clean == "pass" and buggy == "fail" and at_bug
        bad += not ok
        print(
            f"{'ok ' if ok else 'BAD'} {case.language:<10} {case.name:<22} clean={clean} "
            f"buggy={buggy} bug line differs={at_bug} {why_clean[:200] if clean != 'pass' else ''}"
        )
    print(f"{len(cases) - bad} of {len(cases)} cases sound")
    return 1 if bad else 0


class Runner:
    def __init__(self, model: str, cache: Path, extra: list[str]) -> None:
        self.model = model
        self.cache = cache
        self.extra = extra

    def cli(
        self, *args: str, timeout: float = 900, stdin: str | None = None, cwd: Path | None = None
    ) -> tuple[subprocess.CompletedProcess[str], float]:
        env = {**os.environ, "CHMOCODER_CACHE_DIR": str(self.cache)}
        env.pop("CHMOCODER_MODEL", None)
        started = time.perf_counter()
        try:
            r = subprocess.run(
                [str(CHMOCODER), *args, "--no-index", "--model", self.model, *self.extra],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                input=stdin,
                check=False,
                cwd=cwd,
            )
        except subprocess.TimeoutExpired:
            r = subprocess.CompletedProcess(list(args), 124, "", "timed out")
        return r, time.perf_counter() - started


@contextlib.contextmanager
def prepare_cache() -> Iterator[Path]:
    """A fresh cache folder for one model's run (no cached answers), sharing the user's
    assembled models; its daemons' folder is removed at the end."""
    home_models = (
        Path(os.environ.get("CHMOCODER_CACHE_DIR") or Path.home() / ".cache" / "chmocoder")
        / "models"
    )
    with tempfile.TemporaryDirectory(prefix="chmo-quality-") as tmp:
        cache = Path(tmp)
        home_models.mkdir(parents=True, exist_ok=True)
        (cache / "models").symlink_to(home_models)  # assembled once; results not cached
        try:
            yield cache
        finally:
            shutil.rmtree(cache / "daemons", ignore_errors=True)


@contextlib.contextmanager
def case_folder() -> Iterator[Path]:
    """An empty folder for one case's file, at the same path every time: the file's path is in
    the prompt, so a random temporary folder would make every run's prompts differ (and,
    with --reproducible, its answers)."""
    folder = Path(tempfile.gettempdir()) / "chmocoder-quality-case"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fix_case(runner: Runner, case: Case, line: int) -> dict[str, object]:
    with case_folder() as folder:
        path = folder / f"{case.name}.{case.lang.ext}"
        path.write_text(case.file_text())
        r, seconds = runner.cli("fix", f"{path}:{line}", "--apply")
        after = path.read_text()
        if r.returncode == 0:
            outcome, detail = case.lang.run(folder, case.lang.program(after, case.test))
            outcome = {"pass": "fixed", "fail": "wrong", "broken": "broke"}[outcome]
        elif "no change" in r.stderr:
            outcome, detail = "no-change", r.stderr.strip()[-300:]
        elif r.returncode == 1:
            outcome, detail = "rejected", r.stderr.strip()[-300:]
        else:
            outcome, detail = "error", r.stderr.strip()[-300:]
        return {
            "case": f"{case.language}/{case.name}",
            "line": line,
            "outcome": outcome,
            "seconds": round(seconds, 2),
            "detail": detail[-300:],
            "diff": r.stdout[-1500:],
        }


_FINDING = re.compile(r":(\d+):\d+: (error|warning|info): (.*)$")


def review_case(runner: Runner, case: Case, clean: bool) -> dict[str, object]:
    with case_folder() as folder:
        path = folder / f"{case.name}.{case.lang.ext}"
        path.write_text(case.file_text(clean))
        r, seconds = runner.cli("review", str(path))
    findings = []
    for line in r.stdout.splitlines():
        m = _FINDING.search(line)
        if m:
            findings.append(
                {"line": int(m.group(1)), "severity": m.group(2), "message": m.group(3)}
            )
    bug = case.bug_line + case.offset
    return {
        "case": f"{case.language}/{case.name}",
        "clean": clean,
        "findings": findings,
        "hit": any(abs(f["line"] - bug) <= 1 for f in findings) if not clean else None,  # type: ignore[operator]
        "error": r.stderr.strip()[-300:] if r.returncode not in (0, 1) else "",
        "seconds": round(seconds, 2),
    }


def cut_off(text: str) -> bool:
    body = text.rstrip()
    if not body:
        return True
    if body.count("```") % 2:
        return True
    return body[-1] not in ".!?:)`*\"'|>]}"


def degenerate(text: str) -> bool:
    body = " ".join(text.split())
    if len(body) < 40:
        return True
    paragraphs = [" ".join(p.split()).lower() for p in text.split("\n\n") if p.strip()]
    if len(paragraphs) != len(set(paragraphs)):
        return True
    return bool(re.search(r"(.{20,}?)\1\1", body))


def explain_case(runner: Runner, entry: dict[str, object]) -> dict[str, object]:
    """`chmocoder explain` at the entry's line, scored on its facts."""

    def answer_of(text: str) -> str:
        # the quick facts (kind, signature, doc) come first; the model's words follow them
        parts = text.split("\n\n")
        fence_end = next((i for i, p in enumerate(parts) if p.rstrip().endswith("```")), -1)
        return "\n\n".join(parts[fence_end + 1 :]) if fence_end >= 0 else text

    return prose_case(runner, entry, ("explain",), answer_of)


def ask_case(runner: Runner, entry: dict[str, object], question: str) -> dict[str, object]:
    """`chmocoder ask` at the entry's line, the answer scored on its facts."""
    return prose_case(runner, entry, ("ask",), str, question)


def prose_case(
    runner: Runner,
    entry: dict[str, object],
    command: tuple[str, ...],
    answer_of: Callable[[str], str],
    *after: str,
) -> dict[str, object]:
    """A prose task of the command line on the entry's code at its line (`after`: the
    arguments after FILE:LINE), its answer scored on the entry's facts (any of a fact's
    regular expressions, case-insensitive)."""
    language = str(entry["language"])
    ext = LANGUAGES[language].ext if language in LANGUAGES else "txt"
    with case_folder() as folder:
        path = folder / f"{entry['name']}.{ext}"
        path.write_text(str(entry["code"]))
        r, seconds = runner.cli(*command, f"{path}:{entry['line']}", *after)
    answer = answer_of(r.stdout)
    facts = entry["facts"]
    assert isinstance(facts, list)
    stated = [any(re.search(rx, answer, re.IGNORECASE) for rx in fact) for fact in facts]
    return {
        "case": entry["name"],
        "score": sum(stated) / len(stated),
        "missed": [fact[0] for fact, ok in zip(facts, stated, strict=True) if not ok],
        "cut_off": cut_off(answer),
        "degenerate": degenerate(answer),
        "seconds": round(seconds, 2),
        "answer": answer[-2000:],
        "error": r.stderr.strip()[-300:] if r.returncode else "",
    }


def summarise(model: str, fixes: list[dict], reviews: list[dict], explains: list[dict]) -> dict:  # type: ignore[type-arg]
    def share(items: list[dict], key: str, value: object) -> float | None:  # type: ignore[type-arg]
        return sum(1 for i in items if i[key] == value) / len(items) if items else None

    def seconds(items: list[dict]) -> float | None:  # type: ignore[type-arg]
        return round(statistics.mean(i["seconds"] for i in items), 1) if items else None

    bug = [f for f in fixes if f["kind"] == "bug"]
    first = [f for f in fixes if f["kind"] == "definition"]
    buggy = [r for r in reviews if not r["clean"]]
    clean = [r for r in reviews if r["clean"]]
    return {
        "model": model,
        "fix_rate_at_bug_line": share(bug, "outcome", "fixed"),
        "fix_rate_at_definition": share(first, "outcome", "fixed"),
        "broke_build": share(fixes, "outcome", "broke"),
        "no_change": share(fixes, "outcome", "no-change"),
        "rejected": share(fixes, "outcome", "rejected"),
        "seconds_per_fix": seconds(fixes),
        "review_recall": share(buggy, "hit", True),
        "false_alarms_per_clean_definition": (
            sum(len(r["findings"]) for r in clean) / len(clean) if clean else None
        ),
        "seconds_per_review": seconds(reviews),
        "explain_rubric": (statistics.mean(e["score"] for e in explains) if explains else None),
        "explain_cut_off": sum(e["cut_off"] for e in explains) if explains else None,
        "explain_degenerate": sum(e["degenerate"] for e in explains) if explains else None,
        "seconds_per_explain": seconds(explains),
        "cases": len({f["case"] for f in fixes} | {r["case"] for r in reviews}),
        "explain_cases": len(explains),
    }


def fmt(value: object, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent and isinstance(value, float):
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def print_table(s: dict) -> None:  # type: ignore[type-arg]
    rows = [
        ("fix rate, at the bug line", fmt(s["fix_rate_at_bug_line"], True), "≥ 50%"),
        (
            "fix rate, at the definition's first line",
            fmt(s["fix_rate_at_definition"], True),
            "≥ 50%",
        ),
        ("fixes that broke the build", fmt(s["broke_build"], True), ""),
        ('"no change" answers', fmt(s["no_change"], True), ""),
        ("fixes rejected by verification", fmt(s["rejected"], True), ""),
        ("seconds per fix", fmt(s["seconds_per_fix"]), ""),
        (
            "review recall (finding within 1 line of the bug)",
            fmt(s["review_recall"], True),
            "≥ 60%",
        ),
        ("false alarms per clean definition", fmt(s["false_alarms_per_clean_definition"]), "≤ 0.2"),
        ("seconds per review", fmt(s["seconds_per_review"]), ""),
        ("explanation rubric", fmt(s["explain_rubric"]), "≥ 0.9"),
        ("cut-off explanations", fmt(s["explain_cut_off"]), "0"),
        ("degenerate explanations", fmt(s["explain_degenerate"]), ""),
        ("seconds per explanation", fmt(s["seconds_per_explain"]), ""),
    ]
    print(f"\n{s['model']} ({s['cases']} cases, {s['explain_cases']} explanations)")
    print(f"| {'measure':<50} | {'value':>7} | target |")
    print(f"|{'-' * 52}|{'-' * 9}|--------|")
    for name, value, target in rows:
        print(f"| {name:<50} | {value:>7} | {target} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check the cases, no model")
    parser.add_argument("--model", action="append", help="catalogue name or GGUF path (repeat)")
    parser.add_argument("--tasks", default="fix,review,explain")
    parser.add_argument("--cases", default="", help="only cases whose language/name matches")
    parser.add_argument("--label", default="", help="suffix of the result file")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    pick = re.compile(args.cases) if args.cases else None
    cases = [c for c in load_cases() if not pick or pick.search(f"{c.language}/{c.name}")]
    if args.check:
        return check(cases)
    explains = tomllib.loads((HERE / "explain.toml").read_text())["case"]
    explains = [e for e in explains if not pick or pick.search(str(e["name"]))]
    tasks = set(args.tasks.split(","))
    for model in args.model or ["default"]:
        with prepare_cache() as cache:
            runner = Runner(model, cache, [])
            fixes: list[dict] = []  # type: ignore[type-arg]
            reviews: list[dict] = []  # type: ignore[type-arg]
            done: list[dict] = []  # type: ignore[type-arg]
            for case in cases:
                if "fix" in tasks:
                    for kind, line in (
                        ("bug", case.bug_line + case.offset),
                        ("definition", case.definition_line),
                    ):
                        result = fix_case(runner, case, line)
                        result["kind"] = kind
                        fixes.append(result)
                        print(
                            f"fix {kind:<10} {result['case']:<28} {result['outcome']:<9} {result['seconds']:>6.1f} s",
                            flush=True,
                        )
                if "review" in tasks:
                    for clean in (False, True):
                        result = review_case(runner, case, clean)
                        reviews.append(result)
                        print(
                            f"review {'clean' if clean else 'buggy':<7} {result['case']:<28} findings={len(result['findings'])} hit={result['hit']} {result['seconds']:>6.1f} s {result['error'][:80]}",
                            flush=True,
                        )  # type: ignore[index]
            if "explain" in tasks:
                for entry in explains:
                    result = explain_case(runner, entry)
                    done.append(result)
                    print(
                        f"explain {result['case']:<24} score={result['score']:.2f} cut_off={result['cut_off']} degenerate={result['degenerate']} {result['seconds']:>6.1f} s",
                        flush=True,
                    )
        summary = summarise(model, fixes, reviews, done)
        print_table(summary)
        if not args.no_write:
            RESULTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]", "_", Path(model).name) + (
                f"-{args.label}" if args.label else ""
            )
            (RESULTS / f"quality-{name}.json").write_text(
                json.dumps(
                    {"summary": summary, "fixes": fixes, "reviews": reviews, "explains": done},
                    indent=1,
                )
                + "\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
