"""Every candidate a fix chooses from, each run against the program's checks, on the *dev*
split: so a rule for choosing among a fix's candidates can be compared offline, before one is
built into the pipeline and decided on *test* with mutants.py.

A fix generates up to three candidates (assist/edit.py EDIT_CANDIDATES) and offers the first
that passes verification (with the cursor inside the body, the first that changes the cursor's
line). Here each case's fix is asked for with a check that refuses every candidate, so all
three are made; each verified one is kept with the rows whose code it changes and the outcome
of the program's checks on it. `--rules` then prints, per rule, how many cases it would fix.

    .venv/bin/python bench/quality/candidates.py collect --per-program 3   # dev only
    .venv/bin/python bench/quality/candidates.py rules
    .venv/bin/python bench/quality/candidates.py reviews --split dev   # then review-rules (totals)
    .venv/bin/python bench/quality/candidates.py review-scores --split dev  # scored by the model
    .venv/bin/python bench/quality/candidates.py review-odds --split dev  # the review's rule

Collected with reusePrompts false (as `mutants.py run --reproducible`), so each candidate is
the one the command line makes for the case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "server"))

from mutants import load_cases, load_programs, run_checks  # noqa: E402
from run import RESULTS, case_folder, prepare_cache  # noqa: E402

OUT = RESULTS / "candidates-dev.json"
STUDIED = "studied: every candidate is collected"


def _recorded_parts() -> tuple[Any, list[str]]:
    """The command line's parts (settings from the environment), and the list every answer
    the model gives through them is appended to."""
    from chmocoder import compose
    from chmocoder.config import Settings

    settings, problems = Settings.from_env()
    assert not problems, problems
    parts = compose.build(settings)
    gen = parts.assistant.gen
    made: list[str] = []
    generate = gen.generate

    async def recording(*args: Any, **kwargs: Any) -> Any:
        result = await generate(*args, **kwargs)
        made.extend([result.text, *result.others])
        return result

    gen.generate = recording  # type: ignore[method-assign]
    return parts, made


async def _collect_case(program: Any, case: dict[str, Any], how: str) -> list[dict[str, Any]]:
    from chmocoder.assist.edits import apply, code_changed_rows
    from chmocoder.assist.results import Edit
    from chmocoder.cli_files import load_file, offset_of

    parts, made = _recorded_parts()
    found: list[dict[str, Any]] = []
    try:
        with case_folder() as folder:
            path = folder / program.file_name
            path.write_text(case["buggy"])
            doc, _, _ = load_file(path, index=False)
            line = case["bug_line"] if how == "fix" else case["def_line"]
            start = offset_of(doc.source, line, None)
            end = doc.row_span(line - 1)[1]

            async def record(edit: Edit) -> str | None:
                after = apply(doc, edit).decode()
                status, _ = run_checks(program, after)
                first_row = doc.source.count(b"\n", 0, edit.start)
                rows = sorted(first_row + r + 1 for r in code_changed_rows(doc, edit))
                found.append(
                    {
                        "number": len(made),
                        "status": status,
                        "rows": rows,
                        "new": edit.new_text,
                    }
                )
                return STUDIED

            await parts.assistant.edit(doc, "fix", start, end, path=str(path), accept=record)
    finally:
        for engine in parts.engines():
            await engine.close()
    return found


def collect(args: argparse.Namespace) -> int:
    os.environ["CHMOCODER_REUSE_PROMPTS"] = "false"
    programs = {p.key: p for p in load_programs()}
    cases = load_cases("dev")
    taken: Counter[str] = Counter()
    out: list[dict[str, Any]] = []
    with prepare_cache() as cache:
        os.environ["CHMOCODER_CACHE_DIR"] = str(cache)
        os.environ.pop("CHMOCODER_MODEL", None)
        for case in cases:
            key = f"{case['language']}/{case['program']}"
            if args.per_program and taken[key] >= args.per_program:
                continue
            if args.cases and not re.search(args.cases, case["id"]):
                continue
            taken[key] += 1
            for how in ("fix", "fix-def"):
                found = asyncio.run(_collect_case(programs[key], case, how))
                out.append(
                    {
                        "case": case["id"],
                        "how": how,
                        "bug_line": case["bug_line"],
                        "def_line": case["def_line"],
                        "candidates": found,
                    }
                )
                print(
                    f"{how:<8} {case['id']:<28} "
                    + " ".join(f"{c['number']}:{c['status']}:{c['rows']}" for c in found),
                    flush=True,
                )
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    return 0


Rule = Callable[[dict[str, Any]], dict[str, Any] | None]


def first_verified(entry: dict[str, Any]) -> dict[str, Any] | None:
    """What the pipeline did before: the first verified candidate."""
    found: list[dict[str, Any]] = entry["candidates"]
    return found[0] if found else None


def cursor_first(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The pipeline now: with the cursor on a line in the body, the first that changes it."""
    found: list[dict[str, Any]] = entry["candidates"]
    if entry["how"] == "fix":
        for c in found:
            if entry["bug_line"] in c["rows"]:
                return c
    return found[0] if found else None


def agreement(entry: dict[str, Any]) -> dict[str, Any] | None:
    """On the definition's line: the first candidate that changes the row most candidates
    change (two at least), else the first. Elsewhere as cursor_first."""
    found: list[dict[str, Any]] = entry["candidates"]
    if entry["how"] != "fix-def" or len(found) < 2:
        return cursor_first(entry)
    votes = Counter(r for c in found for r in c["rows"])
    row, count = max(votes.items(), key=lambda kv: (kv[1], -kv[0]))
    if count < 2:
        return found[0]
    return next(c for c in found if row in c["rows"])


def smallest(entry: dict[str, Any]) -> dict[str, Any] | None:
    """Among those cursor_first could take (changing the cursor's row if one does), the one
    that changes the fewest rows."""
    found: list[dict[str, Any]] = entry["candidates"]
    if entry["how"] == "fix":
        at = [c for c in found if entry["bug_line"] in c["rows"]]
        found = at or found
    return min(found, key=lambda c: len(c["rows"])) if found else None


def oracle(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The best any rule could do with these candidates."""
    found: list[dict[str, Any]] = entry["candidates"]
    return next((c for c in found if c["status"] == "pass"), found[0] if found else None)


RULES: dict[str, Rule] = {
    "first-verified": first_verified,
    "cursor-first": cursor_first,
    "agreement": agreement,
    "smallest": smallest,
    "oracle": oracle,
}


def rules(args: argparse.Namespace) -> int:
    entries = json.loads(OUT.read_text())
    for how in ("fix", "fix-def"):
        chosen = [e for e in entries if e["how"] == how]
        print(f"{how} ({len(chosen)} cases)")
        for name, rule in RULES.items():
            picks = [rule(e) for e in chosen]
            fixed = sum(1 for p in picks if p is not None and p["status"] == "pass")
            broke = sum(1 for p in picks if p is not None and p["status"] == "broken")
            print(f"  {name:<16} fixed {fixed:>3} ({fixed / len(chosen):.0%})  broke {broke}")
    return 0


# --- reviews ------------------------------------------------------------------------


def review_out(split: str, label: str = "") -> Path:
    return RESULTS / f"review-samples-{split}{'-' + label if label else ''}.json"


async def _review_samples(program: Any, code: str, rows: set[int] | None) -> list[dict[str, Any]]:
    """Every sample the review makes of each unit (of the units holding one of `rows`; all
    if None), with no early stop."""
    from chmocoder.assist import review as review_module
    from chmocoder.assist.review import review_units
    from chmocoder.cli_files import load_file

    parts, texts = _recorded_parts()
    task = parts.assistant.review.__self__  # the Review behind the assistant's method
    review_module.MIN_CONFIDENCE = 0  # every sample is made
    out: list[dict[str, Any]] = []
    try:
        with case_folder() as folder:
            path = folder / program.file_name
            path.write_text(code)
            doc, _, _ = load_file(path, index=False)
            for unit in review_units(doc):
                if unit.kind == "module":  # left out (see _votes)
                    continue
                if rows is not None and not any(unit.start_row <= r <= unit.end_row for r in rows):
                    continue
                texts.clear()
                await task._review_unit(doc, unit, str(path))
                out.append(
                    {
                        "kind": unit.kind,
                        "name": unit.name,
                        "start_row": unit.start_row,
                        "end_row": unit.end_row,
                        "samples": list(texts),
                    }
                )
    finally:
        for engine in parts.engines():
            await engine.close()
    return out


def collect_reviews(args: argparse.Namespace) -> int:
    """Clean programs (every unit) and the first --per-program buggy cases (the units that
    hold the bug), every review sample of each. Prompts are reused, as by default (faster):
    the rules are compared on the same samples."""
    programs = {p.key: p for p in load_programs()}
    cases = load_cases(args.split)
    taken: Counter[str] = Counter()
    out: list[dict[str, Any]] = []
    with prepare_cache() as cache:
        os.environ["CHMOCODER_CACHE_DIR"] = str(cache)
        os.environ.pop("CHMOCODER_MODEL", None)
        if args.model:
            os.environ["CHMOCODER_MODEL"] = args.model
        for key in sorted({f"{c['language']}/{c['program']}" for c in cases}):
            if args.buggy_only:
                break
            units = asyncio.run(_review_samples(programs[key], programs[key].code, None))
            out.append({"program": key, "case": None, "bug_line": None, "units": units})
            review_out(args.split, args.label).write_text(json.dumps(out, indent=1) + "\n")
            print(f"clean    {key:<28} {len(units)} units", flush=True)
        for case in cases:
            key = f"{case['language']}/{case['program']}"
            if taken[key] >= args.per_program:
                continue
            taken[key] += 1
            if args.cases and not re.search(args.cases, case["id"]):
                continue
            row = case["bug_line"] - 1
            units = asyncio.run(_review_samples(programs[key], case["buggy"], {row}))
            out.append({"program": key, "case": case["id"], "bug_line": case["bug_line"],
                        "units": units})  # fmt: skip
            review_out(args.split, args.label).write_text(json.dumps(out, indent=1) + "\n")
            print(f"buggy    {case['id']:<28} {len(units)} units", flush=True)
    return 0


def _votes(doc: Any, unit: dict[str, Any], text: str, by_code: bool) -> dict[int, str]:
    """Row (0-based, in the file) -> the new text, for each row a review sample changes."""
    from chmocoder.assist.edits import (
        changed_rows,
        code_changed_rows,
        extract_code,
        indentation_of,
        reindent,
    )
    from chmocoder.assist.results import Edit

    if "```" not in text or unit["kind"] == "module":  # module-level units are left out
        return {}
    start, end = doc.row_span(unit["start_row"])[0], doc.row_span(unit["end_row"])[1]
    lines = doc.text(start, end).split("\n")
    new = extract_code(text)
    by_text = changed_rows(lines, new.split("\n"))
    if not by_code:
        return {unit["start_row"] + i: t for i, t in by_text.items()}
    edit = Edit(start, end, reindent(new, indentation_of(doc, start)))
    try:
        rows = code_changed_rows(doc, edit)
    except Exception:  # an answer that does not parse as a change of the unit
        return {}
    return {unit["start_row"] + i: by_text.get(i, "") for i in rows}


ReviewRule = Callable[[list[dict[int, str]]], set[int]]


def _agree(k: int, on_text: bool = False) -> ReviewRule:
    def rule(votes: list[dict[int, str]]) -> set[int]:
        counts: Counter[Any] = Counter()
        for sample in votes:
            counts.update((row, t if on_text else "") for row, t in sample.items())
        best = max(counts.values(), default=0)
        if best < k:
            return set()
        row = min(r for (r, _), c in counts.items() if c == best)
        return {row}

    return rule


REVIEW_RULES: dict[str, tuple[bool, ReviewRule]] = {
    "3 of 3, lines": (False, _agree(3)),
    "3 of 3, code": (True, _agree(3)),
    "2 of 3, lines": (False, _agree(2)),
    "2 of 3, code": (True, _agree(2)),
    "2 of 3, code + same text": (True, _agree(2, on_text=True)),
    "3 of 3, code + same text": (True, _agree(3, on_text=True)),
    "3 of 3, code + certain (now)": (True, _agree(3)),
}
CERTAIN = {"3 of 3, code + certain (now)"}
"""Rules that also report every problem the tree shows for certain (analysis/problems.py)."""


def _certain_rows(doc: Any, unit: dict[str, Any]) -> set[int]:
    """The rows of a sampled unit where the tree shows a problem for certain (reported
    whatever the samples agree on)."""
    from chmocoder.analysis.problems import problem_rows

    span = doc.row_span(int(unit["start_row"]))[0], doc.row_span(int(unit["end_row"]))[1]
    return {row for row, _ in problem_rows(doc, *span)}


class _Tally:
    """Recall (a finding within a line of the bug) and false alarms (any finding in a clean
    program) over the entries of a samples file."""

    def __init__(self) -> None:
        self.hits = self.buggy = self.alarms = self.definitions = 0

    def add(self, entry: dict[str, Any], found: set[int]) -> None:
        if entry["case"] is None:
            self.alarms += len(found)
            self.definitions += sum(
                1 for u in entry["units"] if u["kind"] in ("function", "method")
            )
        else:
            self.buggy += 1
            self.hits += any(abs(r + 1 - entry["bug_line"]) <= 1 for r in found)

    def totals(self) -> dict[str, Any]:
        return {"hits": self.hits, "buggy": self.buggy, "false_alarms": self.alarms,
                "clean_definitions": self.definitions}  # fmt: skip

    def line(self) -> str:
        hits, buggy, alarms, definitions = self.hits, self.buggy, self.alarms, self.definitions
        return (
            f"recall {hits}/{buggy} ({hits / max(buggy, 1):.0%})  false alarms {alarms} on "
            f"{definitions} definitions ({alarms / max(definitions, 1):.2f})"
        )


def review_rules(args: argparse.Namespace) -> int:
    """Recall (a finding within a line of the bug) and false alarms per clean definition, per
    rule; totals only."""
    programs = {p.key: p for p in load_programs()}
    cases = {c["id"]: c for c in load_cases(args.split)}
    entries = json.loads(review_out(args.split, args.label).read_text())
    totals: dict[str, dict[str, int]] = {}
    for name, (by_code, rule) in REVIEW_RULES.items():
        tally = _Tally()
        for entry in entries:
            program = programs[entry["program"]]
            code = program.code if entry["case"] is None else cases[entry["case"]]["buggy"]
            doc = program.document(code)
            found: set[int] = set()
            for unit in entry["units"]:
                votes = [_votes(doc, unit, t, by_code) for t in unit["samples"]]
                found |= rule(votes)
                if name in CERTAIN:  # reported whatever the samples agree on
                    found |= _certain_rows(doc, unit)
            tally.add(entry, found)
        totals[name] = tally.totals()
        print(f"  {name:<28} {tally.line()}")
    label = f"-{args.label}" if args.label else ""
    (RESULTS / f"review-rules-{args.split}{label}.json").write_text(
        json.dumps(totals, indent=1) + "\n"
    )
    return 0


def _line_odds_of(entries: list[dict[str, Any]], programs: dict[str, Any],
                  cases: dict[str, Any]) -> tuple[list[list[dict[int, float]]], list[float]]:  # fmt: skip
    """Each sampled unit's line odds, by the pipeline's own _line_odds on the model the
    environment names (the default): per entry, per unit; and the seconds each took."""
    import time

    from chmocoder.assist import review as rv

    async def run() -> tuple[list[list[dict[int, float]]], list[float]]:
        parts, _ = _recorded_parts()
        gen = parts.assistant.gen
        out: list[list[dict[int, float]]] = []
        seconds: list[float] = []
        try:
            for entry in entries:
                program = programs[entry["program"]]
                code = program.code if entry["case"] is None else cases[entry["case"]]["buggy"]
                doc = program.document(code)
                units = {(u.start_row, u.name): u for u in rv.review_units(doc)}
                out.append([])
                for sampled in entry["units"]:
                    unit = units[(int(sampled["start_row"]), sampled["name"])]
                    rows, _ = rv._unit_lines(doc, unit)
                    started = time.perf_counter()
                    out[-1].append(await rv._line_odds(gen, doc, unit, rows))
                    seconds.append(time.perf_counter() - started)
        finally:
            for engine in parts.engines():
                await engine.close()
        return out, seconds

    with prepare_cache() as cache:
        os.environ["CHMOCODER_CACHE_DIR"] = str(cache)
        return asyncio.run(run())


def review_odds(args: argparse.Namespace) -> int:
    """The review's rule (assist/review.py): all three samples agree, or two of three on a
    line the model finds odd (a token at least SUSPECT_NATS surprising), against all three
    only, both with the problems the tree shows for certain; on the same samples. Recall,
    false alarms per clean definition, samples drawn per unit (each stops when no line can
    be reported any more) and the seconds the odds cost; totals only."""
    from chmocoder.assist import review as rv

    programs = {p.key: p for p in load_programs()}
    cases = {c["id"]: c for c in load_cases(args.split)}
    entries = json.loads(review_out(args.split, args.label).read_text())
    kept = Path(tempfile.gettempdir()) / f"chmocoder-review-odds-{args.split}{args.label}.json"
    if args.again and kept.exists():  # the odds of the same samples' units, measured before
        odds = [
            [{int(k): v for k, v in u.items()} for u in e]
            for e in json.loads(kept.read_text())["odds"]
        ]
        seconds = json.loads(kept.read_text())["seconds"]
    else:
        odds, seconds = _line_odds_of(entries, programs, cases)
        kept.write_text(json.dumps({"odds": odds, "seconds": seconds}))
    need, need_odd = rv._votes_for(rv.MIN_CONFIDENCE), rv._votes_for(rv.SUSPECT_CONFIDENCE)
    totals: dict[str, dict[str, float]] = {}
    for name, with_odds in (("all three (before)", False), ("two of three on an odd line", True)):
        tally = _Tally()
        drawn = units = asked = 0
        for entry, unit_odds in zip(entries, odds, strict=True):
            program = programs[entry["program"]]
            code = program.code if entry["case"] is None else cases[entry["case"]]["buggy"]
            doc = program.document(code)
            found: set[int] = set()
            for unit, line_odds in zip(entry["units"], unit_odds, strict=True):
                start_row = int(unit["start_row"])
                odd = {start_row + i for i, n in line_odds.items() if n >= rv.SUSPECT_NATS}
                if not with_odds:
                    odd = set()
                votes: Counter[int] = Counter()
                samples = unit["samples"]
                wanted = False  # the odds were asked (as the pipeline asks them, once)
                for k, text in enumerate(samples, 1):
                    votes.update(_votes(doc, unit, text, True).keys())
                    left = len(samples) - k
                    if max(votes.values(), default=0) + left >= need:
                        continue
                    if left and with_odds:
                        wanted |= any(n + left >= need_odd for n in votes.values())
                    if left and any(n + left >= need_odd and r in odd for r, n in votes.items()):
                        continue
                    break
                drawn += k
                units += 1
                top = max(votes.values(), default=0)
                if top >= need:
                    found.add(min(r for r, n in votes.items() if n == top))
                elif top:
                    wanted |= with_odds and top >= need_odd
                    found |= set(
                        sorted(r for r, n in votes.items() if n >= need_odd and r in odd)[:1]
                    )
                asked += wanted
                found |= _certain_rows(doc, unit)
            tally.add(entry, found)
        totals[name] = {**tally.totals(), "samples_per_unit": round(drawn / max(units, 1), 2),
                        "units_whose_odds_were_asked": asked, "units": units}  # fmt: skip
        print(
            f"  {name:<28} {tally.line()}  {drawn / max(units, 1):.2f} samples per unit, "
            f"odds asked for {asked} of {units}"
        )
    seconds.sort()
    totals["odds seconds per unit"] = {
        "median": round(seconds[len(seconds) // 2], 2), "max": round(seconds[-1], 2)
    }  # fmt: skip
    print(
        f"  the odds: {seconds[len(seconds) // 2]:.2f} s per unit (median), {seconds[-1]:.2f} max"
    )
    label = f"-{args.label}" if args.label else ""
    (RESULTS / f"review-odds-{args.split}{label}.json").write_text(
        json.dumps(totals, indent=1) + "\n"
    )
    return 0


# --- review findings scored by the model's likelihood (tried, not kept) ---------------------

NATURAL_CONTEXT_LINES = 25


def _natural_texts(doc: Any, unit: Any, lines: list[str], index: int, code: str) -> tuple[str, ...]:
    """The NATURAL_CONTEXT_LINES lines before the unit, the unit, and the unit with the one part
    of the sample's `code` that differs around line `index` (indented as the sample has it)."""
    import difflib

    from chmocoder.assist.edits import indentation_of, line_span, reindent

    start = doc.row_span(max(0, unit.start_row - NATURAL_CONTEXT_LINES))[0]
    before = doc.text(start, doc.row_span(unit.start_row)[0])
    new = reindent(
        code, indentation_of(doc, line_span(doc, unit.start_byte, unit.end_byte)[0])
    ).split("\n")
    changed = lines
    matcher = difflib.SequenceMatcher(None, [x.strip() for x in lines], [x.strip() for x in new])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal" and i1 <= index < max(i2, i1 + 1):
            changed = lines[:i1] + new[j1:j2] + lines[i2:]
            break
    return (
        (before if before.endswith("\n") else before + "\n"),
        "\n".join(lines),
        "\n".join(changed),
    )


def _drawn(per: list[set[int]], need: int, first: bool) -> int:
    """Samples a review draws before it stops early, needing `need` votes (of the lines the
    first sample changes, if `first`)."""
    counts: Counter[int] = Counter()
    for k, rows in enumerate(per, 1):
        counts.update(rows)
        if first and not per[0]:
            return k
        if max((counts[r] for r in (per[0] if first else counts)), default=0) + len(per) - k < need:
            return k
    return len(per)


def review_scores(args: argparse.Namespace) -> int:
    """Each unit's most changed line (2 or more votes) scored by the model: how much more
    likely it finds the definition with the first voting sample's change than without it
    (raw llama-cpp-python, every position's logits). Then recall and false alarms per rule,
    totals only. Tried for the review and not kept (README, "Tried and not kept")."""
    import numpy as np
    from llama_cpp import Llama

    from chmocoder.assist.edits import extract_code
    from chmocoder.assist.review import _changes, _unit_lines, review_units
    from chmocoder.engine.models import resolve_model
    from chmocoder.paths import default_cache_dir

    path = resolve_model("default", default_cache_dir())
    llm = Llama(str(path), n_ctx=2048, n_threads=1, logits_all=True, verbose=False)

    def score(before: str, text: str) -> float:
        head = llm.tokenize(before.encode(), add_bos=True)
        tokens = llm.tokenize((before + text).encode(), add_bos=True)
        first = next(
            (i for i, (a, b) in enumerate(zip(head, tokens, strict=False)) if a != b), len(head)
        )
        llm.reset()
        llm.eval(tokens)
        logits = np.asarray(llm.scores[: len(tokens)], dtype=np.float64)
        top = logits.max(axis=1)
        norm = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        return float(
            sum(logits[i - 1, tokens[i]] - norm[i - 1] for i in range(max(first, 1), len(tokens)))
        )

    programs = {p.key: p for p in load_programs()}
    cases = {c["id"]: c for c in load_cases(args.split)}
    rows: list[tuple[str | None, int | None, int, int, float | None, bool]] = []
    drawn: list[list[int]] = [[], [], []]
    entries = json.loads(review_out(args.split, args.label).read_text())
    for entry in entries:
        program = programs[entry["program"]]
        code = program.code if entry["case"] is None else cases[entry["case"]]["buggy"]
        doc = program.document(code)
        units = {(u.start_row, u.name): u for u in review_units(doc)}
        for sampled in entry["units"]:
            unit = units[(sampled["start_row"], sampled["name"])]
            at, lines = _unit_lines(doc, unit)
            per: list[set[int]] = []
            votes: Counter[int] = Counter()
            said: dict[int, str] = {}
            for text in sampled["samples"]:
                per.append(set())
                if "```" in text:
                    for i in _changes(doc, unit, lines, extract_code(text)):
                        votes[i] += 1
                        per[-1].add(i)
                        said.setdefault(i, extract_code(text))
            for k, (need, first) in enumerate(((3, False), (2, False), (2, True))):
                drawn[k].append(_drawn(per, need, first))
            if not votes:
                continue
            i, n = max(votes.items(), key=lambda kv: (kv[1], -kv[0]))
            d = None
            if n >= 2:
                before, old, new = _natural_texts(doc, unit, lines, i, said[i])
                d = score(before, new) - score(before, old)
            rows.append((entry["case"], entry["bug_line"], at[i], n, d, i in per[0]))
    clean = sum(
        1 for e in entries if e["case"] is None
        for u in e["units"] if u["kind"] in ("function", "method")
    )  # fmt: skip
    buggy = {e["case"] for e in entries if e["case"] is not None}
    rules: dict[str, Callable[[int, float | None, bool], bool]] = {
        "3 of 3 (now)": lambda n, d, f: n >= 3,
        "2 of 3": lambda n, d, f: n >= 2,
        "2 of 3 with the first, change at least as likely": lambda n, d, f: (
            n >= 2 and f and d is not None and d >= 0
        ),
        "2 of 3, change at least as likely": lambda n, d, f: n >= 2 and d is not None and d >= 0,
        "3 of 3, or 2 of 3 and change at least as likely": lambda n, d, f: (
            n >= 3 or (n >= 2 and d is not None and d >= 0)
        ),
    }
    totals = {}
    for name, rule in rules.items():
        hits = {
            c
            for c, bug, row, n, d, f in rows
            if c and bug and rule(n, d, f) and abs(row + 1 - bug) <= 1
        }
        alarms = sum(1 for c, _bug, _row, n, d, f in rows if c is None and rule(n, d, f))
        totals[name] = {
            "hits": len(hits),
            "buggy": len(buggy),
            "false_alarms": alarms,
            "clean_definitions": clean,
        }
        print(
            f"  {name:<50} recall {len(hits)}/{len(buggy)}  false alarms {alarms} on {clean} definitions"
        )
    per_unit = [round(sum(x) / max(len(x), 1), 2) for x in drawn]
    print(
        f"  samples per unit: 3 of 3 {per_unit[0]}, 2 of 3 {per_unit[1]}, 2 of 3 with the first {per_unit[2]}"
    )
    totals["samples per unit"] = dict(
        zip(("3 of 3", "2 of 3", "2 of 3 with the first"), per_unit, strict=True)
    )  # type: ignore[assignment]
    label = f"-{args.label}" if args.label else ""
    (RESULTS / f"review-scores-{args.split}{label}.json").write_text(
        json.dumps(totals, indent=1) + "\n"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="every fix candidate of every dev case, checked")
    c.add_argument("--per-program", type=int, default=0)
    c.add_argument("--cases", help="only cases whose id matches")
    sub.add_parser("rules", help="how many cases each choice rule fixes")
    r = sub.add_parser("reviews", help="every review sample: clean programs, buggy units")
    r.add_argument("--split", choices=("dev", "test"), default="dev")
    r.add_argument("--per-program", type=int, default=1)
    r.add_argument(
        "--buggy-only",
        action="store_true",
        help="only the buggy cases (recall; a change that leaves the clean programs' prompts "
        "as they are leaves their false alarms too)",
    )
    r.add_argument(
        "--cases",
        default="",
        help="only the buggy cases (of the first --per-program) whose id matches: those a "
        "change can affect, when it leaves the others' prompts and rules as they are",
    )
    r.add_argument("--label", default="", help="suffix of the samples' file")
    r.add_argument("--model", default="", help="catalogue name or GGUF path (default: default)")
    rr = sub.add_parser("review-rules", help="recall and false alarms per rule (totals)")
    rr.add_argument("--split", choices=("dev", "test"), default="dev")
    rr.add_argument("--label", default="", help="suffix of the samples' and the totals' file")
    ro = sub.add_parser("review-odds", help="the review with the model's odds of a line")
    ro.add_argument("--split", choices=("dev", "test"), default="dev")
    ro.add_argument("--label", default="", help="suffix of the samples' and the totals' file")
    ro.add_argument("--again", action="store_true", help="the odds of the last run (a temp file)")
    rs = sub.add_parser("review-scores", help="review findings scored by likelihood (tried)")
    rs.add_argument("--split", choices=("dev", "test"), default="dev")
    rs.add_argument("--label", default="", help="suffix of the samples' and the totals' file")
    args = parser.parse_args()
    run = {"collect": collect, "rules": rules, "reviews": collect_reviews,
           "review-rules": review_rules, "review-scores": review_scores,
           "review-odds": review_odds}  # fmt: skip
    return run[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
