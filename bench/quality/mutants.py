"""The answer-quality benchmark on mutants: bugs made the way real ones look, in programs
that do real work, split once into *dev* (tune on it) and *test* (decide with it).

bench/quality/programs/LANGUAGE.toml holds correct programs of 10-50 lines (parsers,
algorithms, state machines, data handling) with their checks. `generate` mutates each at
one point with the classic mutation operators (a relational or arithmetic operator swapped,
a constant or a bound off by one, `and`/`or` swapped, a condition dropped or a negation
lost, a wrong variable of the same function, a wrong index, swapped arguments, a missing
`return`, a missing base case) found in the tree-sitter tree, keeps the mutants the checks
catch (not those that no longer build, nor those that hang), at most PER_PROGRAM per
program on distinct lines, and writes bench/quality/mutants.json. The split is by program:
per language, programs sorted by the hash of their name, the first half dev, the rest test.

    .venv/bin/python bench/quality/mutants.py generate     # needs python3, node, cc, rustc
    .venv/bin/python bench/quality/mutants.py check        # every case is still sound
    .venv/bin/python bench/quality/mutants.py run --split dev --tasks fix,fix-def,fix-error,review
    .venv/bin/python bench/quality/mutants.py run --split dev --tasks explain [--reproducible] [--seeds 0,1,2]
    .venv/bin/python bench/quality/mutants.py run --split dev --tasks ask [--reproducible] [--seeds 0,1,2]

`run` runs the real command line on each case (`chmocoder fix FILE:LINE --apply` at the
bug's line and at its definition's first line; `chmocoder fix --errors - --apply` told the
failing check's message at the definition, as a test runner reports it; with the tasks
`fix-check` and `fix-def-check`, `chmocoder fix FILE:LINE --apply --check CMD` at those two
places, CMD running the program's checks as a user's failing test; `chmocoder review`
on the buggy program and on the correct one), then the program's checks. `explain` runs
`chmocoder explain` at the first line of the definitions that explain_unseen.toml has
rubrics for (in the correct programs): the facts stated, those that live only in a helper
the definition calls, and the answers that make a claim the code does not support. `ask`
runs `chmocoder ask` with the questions of ask_unseen.toml at their definition's first
line, scored the same way. On *test* it prints and keeps only the totals: its answers are
not for reading while a prompt changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "server"))

from run import RESULTS, Runner, ask_case, case_folder, explain_case, fmt, prepare_cache  # noqa: E402

from chmocoder.analysis.document import Document  # noqa: E402
from chmocoder.analysis.languages import LanguageRegistry  # noqa: E402
from chmocoder.analysis.symbols import definitions, definitions_at  # noqa: E402

PROGRAMS = HERE / "programs"
CASES = HERE / "mutants.json"
RUBRICS = HERE / "explain_unseen.toml"
QUESTIONS = HERE / "ask_unseen.toml"
PER_PROGRAM = 8
TIMEOUT_S = 10
EXT = {"python": "py", "javascript": "js", "c": "c", "rust": "rs"}
REGISTRY = LanguageRegistry()


# --- the programs and their checks ---------------------------------------------------


@dataclass(frozen=True)
class Program:
    language: str
    name: str
    code: str
    setup: str
    checks: list[list[str]]

    @property
    def key(self) -> str:
        return f"{self.language}/{self.name}"

    @property
    def file_name(self) -> str:
        return f"{self.name}.{EXT[self.language]}"

    def document(self, code: str | None = None) -> Document:
        """The program's code (or `code`, a version of it) parsed."""
        source = (self.code if code is None else code).encode()
        return Document(f"file:///{self.file_name}", source,
                        language=REGISTRY.lookup(path=self.file_name))  # fmt: skip


def load_programs() -> list[Program]:
    out = []
    for path in sorted(PROGRAMS.glob("*.toml")):
        for entry in tomllib.loads(path.read_text())["program"]:
            out.append(
                Program(
                    path.stem, entry["name"], entry["code"], entry.get("setup", ""), entry["checks"]
                )
            )
    return out


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_source(program: Program, code: str) -> str:
    """The program's code, its setup and a harness that runs each check and stops at the
    first that fails with "test failed: CALL returned GOT, expected WANT" on stderr."""
    checks = program.checks
    if program.language == "python":
        lines = [
            code,
            program.setup,
            "import sys as _sys",
            "def _check(label, thunk, want):",
            "    try:",
            "        got = thunk()",
            "    except Exception as exc:",
            '        print(f"test failed: {label} raised {type(exc).__name__}: {exc}", file=_sys.stderr)',
            "        _sys.exit(1)",
            "    if got != want:",
            '        print(f"test failed: {label} returned {got!r}, expected {want!r}", file=_sys.stderr)',
            "        _sys.exit(1)",
        ]
        lines += [f"_check({call!r}, lambda: {call}, {want})" for call, want, *_ in checks]
        return "\n".join(lines) + "\n"
    if program.language == "javascript":
        lines = [
            code,
            program.setup,
            'const _util = require("util");',
            "function _check(label, thunk, want) {",
            "  let got;",
            "  try { got = thunk(); } catch (e) {",
            "    console.error(`test failed: ${label} threw ${e.name}: ${e.message}`); process.exit(1);",
            "  }",
            "  if (!_util.isDeepStrictEqual(got, want)) {",
            "    console.error(`test failed: ${label} returned ${_util.inspect(got)}, expected ${_util.inspect(want)}`);",
            "    process.exit(1);",
            "  }",
            "}",
        ]
        lines += [
            f"_check({json.dumps(call)}, () => ({call}), {want});" for call, want, *_ in checks
        ]
        return "\n".join(lines) + "\n"
    if program.language == "c":
        head = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <signal.h>\n"
        lines = [
            head + code,
            program.setup,
            'static const char *_label = "";',
            'static void _crashed(int sig) { fprintf(stderr, "test failed: %s crashed (signal %d)\\n", _label, sig); _exit(1); }',
            "static void _int(const char *label, long long got, long long want) {",
            '  if (got != want) { fprintf(stderr, "test failed: %s returned %lld, expected %lld\\n", label, got, want); exit(1); }',
            "}",
            "static void _str(const char *label, const char *got, const char *want) {",
            '  if (strcmp(got, want) != 0) { fprintf(stderr, "test failed: %s returned \\"%s\\", expected \\"%s\\"\\n", label, got, want); exit(1); }',
            "}",
            "int main(void) {",
            "  signal(SIGSEGV, _crashed); signal(SIGFPE, _crashed); signal(SIGABRT, _crashed);",
        ]
        for call, want, *kind in checks:
            lines.append(f"  _label = {_c_string(call)};")
            if kind == ["str"]:
                lines.append(f"  _str(_label, {call}, {want});")
            else:
                lines.append(f"  _int(_label, (long long)({call}), (long long)({want}));")
        lines += ["  return 0;", "}"]
        return "#include <unistd.h>\n" + "\n".join(lines) + "\n"
    if program.language == "rust":
        lines = [
            "#![allow(warnings)]",
            code,
            program.setup,
            'static _LABEL: std::sync::Mutex<&\'static str> = std::sync::Mutex::new("");',
            "fn _check<G: PartialEq<W> + std::fmt::Debug, W: std::fmt::Debug>(label: &str, got: G, want: W) {",
            "    if got != want {",
            '        eprintln!("test failed: {} returned {:?}, expected {:?}", label, got, want);',
            "        std::process::exit(1);",
            "    }",
            "}",
            "fn main() {",
            "    std::panic::set_hook(Box::new(|info| {",
            "        let label = *_LABEL.lock().unwrap();",
            "        let why = info.payload().downcast_ref::<&str>().map(|s| s.to_string())",
            "            .or_else(|| info.payload().downcast_ref::<String>().cloned()).unwrap_or_default();",
            '        eprintln!("test failed: {} panicked: {}", label, why);',
            "    }));",
        ]
        for call, want, *_ in checks:
            label = json.dumps(call)
            lines.append(f"    *_LABEL.lock().unwrap() = {label};")
            lines.append(f"    _check({label}, {call}, {want});")
        lines.append("}")
        return "\n".join(lines) + "\n"
    raise ValueError(program.language)


def _run(command: list[str], folder: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, "", "timed out")


def run_checks(program: Program, code: str) -> tuple[str, str]:
    """("pass" | "fail" | "broken" | "timeout", the first failure's message or the error)."""
    with tempfile.TemporaryDirectory(prefix="chmo-mutant-") as tmp:
        folder = Path(tmp)
        source = test_source(program, code)
        if program.language == "python":
            (folder / "t.py").write_text(source)
            r = _run([sys.executable, "t.py"], folder, TIMEOUT_S)
        elif program.language == "javascript":
            (folder / "t.js").write_text(source)
            r = _run(["node", "t.js"], folder, TIMEOUT_S)
        else:
            (folder / f"t.{EXT[program.language]}").write_text(source)
            build = (
                ["cc", "-std=c11", "-w", "-o", "t", "t.c"]
                if program.language == "c"
                else ["rustc", "--edition", "2021", "-o", "t", "t.rs"]
            )
            built = _run(build, folder, 120)
            if built.returncode != 0:
                return "broken", built.stderr[-600:]
            r = _run(["./t"], folder, TIMEOUT_S)
    if r.returncode == 124:
        return "timeout", "timed out"
    if r.returncode == 0:
        return "pass", ""
    failed = [line for line in r.stderr.splitlines() if line.startswith("test failed: ")]
    if failed:
        return "fail", failed[0].removeprefix("test failed: ")
    broken = any(k in r.stderr for k in ("SyntaxError", "IndentationError", "ReferenceError"))
    said = re.sub(r"thread '(\w+)' \(\d+\)", r"thread '\1'", r.stderr.strip())  # no pid
    return ("broken" if broken else "fail"), said[-600:]


# --- mutation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    kind: str
    start: int
    end: int
    text: str

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.text.encode() + source[self.end :]


SWAPS = {
    "<": "<=",
    "<=": "<",
    ">": ">=",
    ">=": ">",
    "==": "!=",
    "!=": "==",
    "===": "!==",
    "!==": "===",
    "+": "-",
    "-": "+",
    "+=": "-=",
    "-=": "+=",
    "&&": "||",
    "||": "&&",
    "and": "or",
    "or": "and",
}
RELATIONAL = {"<", "<=", ">", ">=", "==", "!=", "===", "!=="}
LOGICAL = {"&&", "||", "and", "or"}
BINARY = {
    "binary_expression",
    "comparison_operator",
    "binary_operator",
    "boolean_operator",
    "augmented_assignment",
    "augmented_assignment_expression",
    "compound_assignment_expr",
    "assignment_expression",
}
OPERANDS = {
    "identifier",
    "call",
    "call_expression",
    "attribute",
    "member_expression",
    "field_expression",
}
"""Right-hand sides of a comparison that a bound mutation moves by one."""
INTEGER = {"integer", "number", "number_literal", "integer_literal"}
CALLS = {"call", "call_expression"}
ARGUMENTS = {"argument_list", "arguments"}
SUBSCRIPT = {"subscript", "subscript_expression", "index_expression"}
RETURN = {"return_statement", "return_expression"}
IF = {"if_statement", "if_expression"}
NOT = {"not_operator", "unary_expression"}
DECLARING = {
    "parameters",
    "formal_parameters",
    "parameter_list",
    "parameter",
    "function_definition",
    "function_declaration",
    "function_item",
    "method_definition",
    "class_definition",
    "keyword_argument",
    "field_expression",
    "attribute",
    "member_expression",
    "let_declaration",
    "variable_declarator",
    "init_declarator",
    "declaration",
    "pointer_declarator",
    "array_declarator",
    "for_in_clause",
    "for_statement",
    "for_in_statement",
    "for_expression",
    "lexical_declaration",
    "pair",
    "scoped_identifier",
    "macro_invocation",
    "type_identifier",
    "closure_parameters",
    "tuple_pattern",
    "pattern_list",
    "lambda_parameters",
    "match_pattern",
    "shorthand_property_identifier",
    "generic_type",
    "function_declarator",
}


def _walk(node) -> Iterator:  # type: ignore[no-untyped-def]
    yield node
    for child in node.children:
        yield from _walk(child)


def _text(source: bytes, node) -> str:  # type: ignore[no-untyped-def]
    return source[node.start_byte : node.end_byte].decode()


def candidates(source: bytes, root) -> list[Mutation]:  # type: ignore[no-untyped-def]
    """Every one-point mutation the operators find in the tree."""
    out: list[Mutation] = []
    names: dict[int, set[str]] = {}  # identifiers read in each function (by its start)
    reads: list[tuple[Any, int]] = []  # each such identifier, with its function's start
    for node in _walk(root):
        t, parent = node.type, node.parent
        if node.child_count == 0 and t in SWAPS and parent is not None and parent.type in BINARY:
            kind = "relational" if t in RELATIONAL else "logical" if t in LOGICAL else "arithmetic"
            out.append(Mutation(kind, node.start_byte, node.end_byte, SWAPS[t]))
            right = parent.child_by_field_name("right")
            if t in RELATIONAL and right is not None and right.type in OPERANDS:
                for delta in (" - 1", " + 1"):
                    out.append(
                        Mutation(
                            "bound",
                            right.start_byte,
                            right.end_byte,
                            _text(source, right) + delta,
                        )
                    )
            if t in LOGICAL:
                for side in ("left", "right"):
                    kept = parent.child_by_field_name(side)
                    if kept is not None:
                        out.append(
                            Mutation(
                                "condition", parent.start_byte, parent.end_byte, _text(source, kept)
                            )
                        )
        elif t in INTEGER and re.fullmatch(r"\d+", _text(source, node)):
            value = int(_text(source, node))
            for new in {value + 1, value - 1} - {-1}:
                out.append(Mutation("constant", node.start_byte, node.end_byte, str(new)))
        elif t in NOT:
            operand = node.child_by_field_name("argument") or node.child_by_field_name("operand")
            op = node.children[0].type if node.children else ""
            if operand is not None and op in {"not", "!"}:
                out.append(
                    Mutation("negation", node.start_byte, node.end_byte, _text(source, operand))
                )
        elif t in SUBSCRIPT:
            index = node.child_by_field_name("index") or node.child_by_field_name("subscript")
            if index is None and node.named_child_count == 2:
                index = node.named_children[1]
            if index is not None and index.type in {
                "identifier",
                "binary_expression",
                "binary_operator",
            }:
                for delta in (" + 1", " - 1"):
                    out.append(
                        Mutation(
                            "index",
                            index.start_byte,
                            index.end_byte,
                            f"{_text(source, index)}{delta}",
                        )
                    )
        elif t in ARGUMENTS and parent is not None and parent.type in CALLS:
            args = [a for a in node.named_children if a.type != "comment"]
            if len(args) >= 2 and _text(source, args[0]) != _text(source, args[1]):
                a, b = args[0], args[1]
                swapped = (
                    _text(source, b) + source[a.end_byte : b.start_byte].decode() + _text(source, a)
                )
                out.append(Mutation("arguments", a.start_byte, b.end_byte, swapped))
        elif t in RETURN and node.named_child_count == 1:
            value = node.named_children[0]
            if t == "return_statement":
                end = node.end_byte
                tail = ";" if _text(source, node).rstrip().endswith(";") else ""
                out.append(Mutation("return", node.start_byte, end, _text(source, value) + tail))
        elif t in IF and node.child_by_field_name("alternative") is None:
            body = node.child_by_field_name("consequence")
            if body is not None and any(n.type in RETURN for n in _walk(body)):
                # the whole lines of the `if`: a missing base case or guard
                line_start = source.rfind(b"\n", 0, node.start_byte) + 1
                line_end = source.find(b"\n", node.end_byte)
                if source[line_start : node.start_byte].strip() == b"":
                    out.append(
                        Mutation(
                            "base-case",
                            line_start,
                            line_end + 1 if line_end >= 0 else len(source),
                            "",
                        )
                    )
        if t == "identifier" and parent is not None and parent.type not in DECLARING:
            if parent.type in CALLS and parent.child_by_field_name("function") == node:
                continue
            owner = _function_of(node)
            if owner is not None:
                names.setdefault(owner.start_byte, set()).add(_text(source, node))
                reads.append((node, owner.start_byte))
    for node, owner_start in reads:  # a wrong variable: another name the function reads
        name = _text(source, node)
        for other in sorted(names[owner_start] - {name}):
            out.append(Mutation("variable", node.start_byte, node.end_byte, other))
    return out


FUNCTIONS = {"function_definition", "function_declaration", "function_item", "method_definition"}


def _function_of(node):  # type: ignore[no-untyped-def]
    while node is not None and node.type not in FUNCTIONS:
        node = node.parent
    return node


def generate(programs: list[Program]) -> int:
    cases: list[dict[str, object]] = []
    split = _split(programs)
    for program in programs:
        status, why = run_checks(program, program.code)
        if status != "pass":
            print(f"BAD {program.key}: the correct program does not pass: {why}")
            return 1
        source = program.code.encode()
        doc = program.document()
        found = candidates(source, doc.tree.root_node)
        rng = random.Random(program.key)
        rng.shuffle(found)
        by_kind: dict[str, list[Mutation]] = {}
        for m in found:
            by_kind.setdefault(m.kind, []).append(m)
        order = sorted(by_kind)
        rng.shuffle(order)
        kept: list[dict[str, object]] = []
        lines: set[int] = set()
        tried = Counter[str]()
        while len(kept) < PER_PROGRAM and any(by_kind.values()):
            for kind in order:  # round robin over the operators: varied bugs
                if len(kept) >= PER_PROGRAM or not by_kind[kind]:
                    continue
                m = by_kind[kind].pop()
                line = source.count(b"\n", 0, m.start) + 1
                inner = [
                    d for d in definitions_at(doc, m.start) if d.kind in {"function", "method"}
                ]
                if line in lines or not inner:
                    continue
                buggy = m.apply(source).decode()
                tried[kind] += 1
                status, message = run_checks(program, buggy)
                if status != "fail":
                    continue
                lines.add(line)
                d = inner[0]
                kept.append(
                    {
                        "id": f"{program.key}/{len(kept) + 1}",
                        "language": program.language,
                        "program": program.name,
                        "split": split[program.key],
                        "kind": kind,
                        "function": d.name,
                        "bug_line": line,
                        "def_line": d.span.start[0] + 1,
                        "message": message,
                        "buggy": buggy,
                    }
                )
        print(
            f"{program.key:<28} {split[program.key]:<5} kept {len(kept)} of "
            f"{sum(tried.values())} tried ({len(found)} found): "
            f"{dict(Counter(str(k['kind']) for k in kept))}"
        )
        cases += kept
    CASES.write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    per = Counter(f"{c['split']}" for c in cases)
    print(f"{len(cases)} cases ({dict(per)}) in {CASES.relative_to(HERE.parent.parent)}")
    return 0


def _split(programs: list[Program]) -> dict[str, str]:
    """Per language, by the hash of the name: the first half dev, the rest test (fixed once:
    a program never moves between them)."""
    out = {}
    for language in sorted({p.language for p in programs}):
        mine = sorted(
            (p for p in programs if p.language == language),
            key=lambda p: hashlib.sha256(p.key.encode()).hexdigest(),
        )
        for i, p in enumerate(mine):
            out[p.key] = "dev" if i < (len(mine) + 1) // 2 else "test"
    return out


def load_cases(split: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    cases = json.loads(CASES.read_text())["cases"]
    return [c for c in cases if split in (None, "all", c["split"])]


def load_rubrics(split: str | None = None, path: Path = RUBRICS) -> list[dict]:  # type: ignore[type-arg]
    """The rubrics of explain_unseen.toml (or `path`: ask_unseen.toml) whose program is in
    `split`, each with its number in the file (`index`)."""
    splits = _split(load_programs())
    rubrics = tomllib.loads(path.read_text())["case"]
    return [r | {"index": i} for i, r in enumerate(rubrics)
            if split in (None, "all", splits[r["program"]])]  # fmt: skip


def first_line(program: Program, function: str) -> int:
    """The 1-based line a definition of `program` named `function` starts on."""
    found = [d for d in definitions(program.document()) if d.name == function]
    return found[0].span.start[0] + 1


def claims(rubric: dict, answer: str) -> list[str]:  # type: ignore[type-arg]
    """The rubric's unsupported claims the answer makes."""
    return [rx for rx in rubric.get("unsupported", []) if re.search(rx, answer, re.IGNORECASE)]


def seeded(seeds: list[int]) -> Iterator[int | None]:
    """Each seed in turn, set where the command line reads it (None: no seed given)."""
    for seed in seeds or [None]:
        if seed is not None:
            os.environ["CHMOCODER_SEED"] = str(seed)
        yield seed


def explain(runner: Runner, program: Program, rubric: dict) -> dict:  # type: ignore[type-arg]
    """`chmocoder explain` at the definition's first line of the correct program, scored on
    the rubric: its facts and helpers' facts stated, and any claim it should not make."""
    line = first_line(program, rubric["function"])
    helper = rubric.get("helper", [])
    entry = {"name": f"{program.name}-{rubric['function']}", "language": program.language,
             "line": line, "code": program.code, "facts": rubric["facts"] + helper}  # fmt: skip
    result = explain_case(runner, entry)
    answer = str(result["answer"])
    said = [any(re.search(rx, answer, re.IGNORECASE) for rx in fact) for fact in helper]
    return result | {"case": f"{program.key}/{rubric['function']}", "helpers": len(helper),
                     "helpers_stated": sum(said), "unsupported": claims(rubric, answer)}  # fmt: skip


def ask(runner: Runner, program: Program, rubric: dict, seed: int | None) -> dict:  # type: ignore[type-arg]
    """`chmocoder ask` with the rubric's question at the definition's first line of the correct
    program, scored on the rubric: its facts stated, and any claim it should not make. Each
    question (and seed) gets a file of its own, so no earlier answer is in its history."""
    name = f"{program.name}-{rubric['function']}-q{rubric['index']}" + (
        f"-s{seed}" if seed is not None else ""
    )
    entry = {"name": name, "language": program.language,
             "line": first_line(program, rubric["function"]), "code": program.code,
             "facts": rubric["facts"]}  # fmt: skip
    result = ask_case(runner, entry, rubric["question"])
    return result | {"case": f"{program.key}/{rubric['function']}/q{rubric['index']}",
                     "unsupported": claims(rubric, str(result["answer"]))}  # fmt: skip


def check(languages: set[str] | None = None) -> int:
    """Every case still fails its checks with the message it was made with, and every correct
    program passes them (`languages`: only these)."""
    programs = {p.key: p for p in load_programs() if languages is None or p.language in languages}
    cases = [c for c in load_cases() if languages is None or c["language"] in languages]
    bad = 0
    for case in cases:
        program = programs[f"{case['language']}/{case['program']}"]
        status, message = run_checks(program, case["buggy"])
        ok = status == "fail" and message == case["message"]
        bad += not ok
        if not ok:
            print(f"BAD {case['id']}: {status} {message[:200]}")
    for program in programs.values():
        status, why = run_checks(program, program.code)
        if status != "pass":
            bad += 1
            print(f"BAD {program.key}: correct program {status}: {why[:200]}")
    print(f"{len(cases) - bad} of {len(cases)} cases sound")
    return 1 if bad else 0


# --- running the tasks ------------------------------------------------------------------


def _changed_lines(before: str, after: str) -> set[int]:
    """1-based lines of `before` that `after` changed (or removed)."""
    import difflib

    changed: set[int] = set()
    matcher = difflib.SequenceMatcher(None, before.split("\n"), after.split("\n"))
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag != "equal":
            changed.update(range(i1 + 1, max(i2, i1 + 1) + 1))
    return changed


def fix(runner: Runner, program: Program, case: dict, how: str) -> dict:  # type: ignore[type-arg]
    with case_folder() as folder:
        path = folder / program.file_name
        path.write_text(case["buggy"])
        if how == "fix-error":
            report = f"{path}:{case['def_line']}:1: error: test failed: {case['message']}\n"
            r, seconds = runner.cli("fix", "--errors", "-", "--apply", stdin=report)
        elif how.endswith("-check"):  # the program's checks as the user's failing test
            line = case["bug_line"] if how == "fix-check" else case["def_line"]
            test = (
                f"{shlex.quote(sys.executable)} {shlex.quote(__file__)} test {program.key} {{file}}"
            )
            r, seconds = runner.cli("fix", f"{path}:{line}", "--apply", "--check", test, cwd=folder)
        else:
            line = case["bug_line"] if how == "fix" else case["def_line"]
            r, seconds = runner.cli("fix", f"{path}:{line}", "--apply")
        after = path.read_text()
    if after == case["buggy"]:
        outcome = "no-change" if r.returncode in (0, 1) else "error"
        if r.returncode == 1 and "no change" not in r.stderr:
            outcome = "rejected"
    else:
        status, _ = run_checks(program, after)
        if status == "pass":
            outcome = "fixed"
        elif status == "broken":
            outcome = "broke"
        else:
            hit = case["bug_line"] in _changed_lines(case["buggy"], after)
            outcome = "right-line-wrong-code" if hit else "wrong-line"
    return {
        "case": case["id"],
        "task": how,
        "outcome": outcome,
        "seconds": round(seconds, 2),
        "diff": r.stdout[-1500:],
        "stderr": r.stderr[-300:],
    }


FIX_TASKS = ("fix", "fix-def", "fix-error", "fix-check", "fix-def-check")
"""At the bug's line, at its definition's first line, told the failing check's message
(--errors), and the first two with the program's checks as --check (the user's tests)."""


def test_file(key: str, path: str) -> int:
    """The program's checks on the code in `path` (the --check command of fix-check): exit 0
    when they pass, else 1 with the first failure on stderr, as a test runner reports it."""
    program = {p.key: p for p in load_programs()}[key]
    status, said = run_checks(program, Path(path).read_text())
    if status == "pass":
        return 0
    print(f"{path}: {status}: {said}", file=sys.stderr)
    return 1


_FINDING = re.compile(r":(\d+):\d+: (error|warning|info): (.*)$")


def review(runner: Runner, program: Program, code: str) -> tuple[list[int], float, str]:
    with case_folder() as folder:
        path = folder / program.file_name
        path.write_text(code)
        r, seconds = runner.cli("review", str(path))
    lines = [int(m.group(1)) for x in r.stdout.splitlines() if (m := _FINDING.search(x))]
    return lines, seconds, r.stderr.strip()[-300:] if r.returncode not in (0, 1) else ""


def summarise(
    model: str,
    split: str,
    fixes: list[dict],
    reviews: list[dict],  # type: ignore[type-arg]
    clean: list[dict],
    explains: list[dict] | None = None,  # type: ignore[type-arg]
    asks: list[dict] | None = None,  # type: ignore[type-arg]
) -> dict:  # type: ignore[type-arg]
    out: dict[str, object] = {"model": model, "split": split,
                              "reproducible": os.environ.get("CHMOCODER_REUSE_PROMPTS") == "false"}  # fmt: skip
    for how in FIX_TASKS:
        mine = [f for f in fixes if f["task"] == how]
        if mine:
            outcomes = Counter(f["outcome"] for f in mine)
            out[how] = {
                "cases": len(mine),
                "fixed": outcomes["fixed"] / len(mine),
                "outcomes": dict(outcomes),
                "seconds": round(statistics.mean(f["seconds"] for f in mine), 1),
            }
    if reviews:
        out["review"] = {
            "cases": len(reviews),
            "recall": sum(r["hit"] for r in reviews) / len(reviews),
            "seconds": round(statistics.mean(r["seconds"] for r in reviews), 1),
        }
    if explains:
        helpers = sum(e["helpers"] for e in explains)
        out["explain"] = prose_summary(explains) | {
            "helper_facts": sum(e["helpers_stated"] for e in explains) / helpers
            if helpers
            else None,
        }
    if asks:
        out["ask"] = prose_summary(asks)
    if clean:
        definitions = sum(c["definitions"] for c in clean)
        out["review_clean"] = {
            "programs": len(clean),
            "definitions": definitions,
            "false_alarms_per_definition": sum(len(c["findings"]) for c in clean) / definitions,
        }
    return out


def prose_summary(items: list[dict]) -> dict:  # type: ignore[type-arg]
    """A prose task's figures over its scored answers (explanations, answers to questions)."""
    return {
        "cases": len(items),
        "rubric": statistics.mean(float(e["score"]) for e in items),
        "unsupported": sum(1 for e in items if e["unsupported"]) / len(items),
        "seconds": round(statistics.mean(float(e["seconds"]) for e in items), 1),
        # each draw's rubric (--seeds): how much of the figure is the draw
        "per_seed": {
            str(seed): statistics.mean(float(e["score"]) for e in items if e.get("seed") == seed)
            for seed in dict.fromkeys(e.get("seed") for e in items)
        },
        # totals a test run may show: answers that loop or run into their budget
        "degenerate": sum(1 for e in items if e["degenerate"]),
        "cut_off": sum(1 for e in items if e["cut_off"]),
    }


def print_summary(s: dict) -> None:  # type: ignore[type-arg]
    print(f"\n{s['model']}, {s['split']} split")
    for how, label in (
        ("fix", "fix, cursor on the bug line"),
        ("fix-def", "fix, cursor on the definition"),
        ("fix-error", "fix, told the failing check's message"),
        ("fix-check", "fix --check (its tests), bug line"),
        ("fix-def-check", "fix --check (its tests), definition"),
    ):
        if how in s:
            f = s[how]
            print(
                f"  {label:<40} {fmt(f['fixed'], True):>5} of {f['cases']}  {f['outcomes']}  {f['seconds']} s"
            )
    if "review" in s:
        r = s["review"]
        print(
            f"  {'review recall (within 1 line)':<40} {fmt(r['recall'], True):>5} of {r['cases']}  {r['seconds']} s"
        )
    for task, label in (("explain", "explanation rubric"), ("ask", "answers to questions")):
        if task not in s:
            continue
        e = s[task]
        helpers = f"helper facts {fmt(e['helper_facts'], True)}, " if "helper_facts" in e else ""
        print(
            f"  {label:<40} {e['rubric']:.2f} of {e['cases']}  {helpers}unsupported claims in "
            f"{fmt(e['unsupported'], True)} of answers  {e['seconds']} s"
            + (
                "  per seed " + ", ".join(f"{k}: {v:.3f}" for k, v in e["per_seed"].items())
                if len(e.get("per_seed", {})) > 1
                else ""
            )
            + (
                f"  degenerate {e['degenerate']}, cut off {e['cut_off']}"
                if "degenerate" in e
                else ""
            )
        )
    if "review_clean" in s:
        c = s["review_clean"]
        print(
            f"  {'false alarms per clean definition':<40} {c['false_alarms_per_definition']:.2f} "
            f"({c['programs']} programs, {c['definitions']} definitions)"
        )


def run_split(args: argparse.Namespace) -> int:
    programs = {p.key: p for p in load_programs()}
    cases = load_cases(args.split)
    if args.cases:
        pick = re.compile(args.cases)
        cases = [c for c in cases if pick.search(c["id"])]
    if args.per_program:
        taken: Counter[str] = Counter()
        kept = []
        for case in cases:
            key = f"{case['language']}/{case['program']}"
            if taken[key] < args.per_program:
                taken[key] += 1
                kept.append(case)
        cases = kept
    if args.limit:
        cases = cases[: args.limit]
    tasks = set(args.tasks.split(","))
    show = args.split == "dev" or args.show_test
    for model in args.model or ["default"]:
        with prepare_cache() as cache:
            runner = Runner(model, cache, [])
            fixes: list[dict] = []  # type: ignore[type-arg]
            reviews: list[dict] = []  # type: ignore[type-arg]
            clean: list[dict] = []  # type: ignore[type-arg]
            started = time.perf_counter()
            for case in cases:
                program = programs[f"{case['language']}/{case['program']}"]
                for how in FIX_TASKS:
                    if how in tasks:
                        result = fix(runner, program, case, how)
                        fixes.append(result)
                        if show:
                            print(
                                f"{how:<9} {case['id']:<28} {case['kind']:<11} {result['outcome']:<22} {result['seconds']:>5.1f} s",
                                flush=True,
                            )
                if "review" in tasks:
                    lines, seconds, error = review(runner, program, case["buggy"])
                    hit = any(abs(line - case["bug_line"]) <= 1 for line in lines)
                    reviews.append(
                        {
                            "case": case["id"],
                            "hit": hit,
                            "findings": lines,
                            "seconds": round(seconds, 2),
                            "error": error,
                        }
                    )
                    if show:
                        print(
                            f"review    {case['id']:<28} {case['kind']:<11} hit={hit} findings={lines} {seconds:>5.1f} s",
                            flush=True,
                        )
            if "review" in tasks:
                for key in sorted({f"{c['language']}/{c['program']}" for c in cases}):
                    program = programs[key]
                    lines, seconds, error = review(runner, program, program.code)
                    count = sum(
                        1
                        for d in definitions(program.document())
                        if d.kind in {"function", "method"}
                    )
                    clean.append(
                        {
                            "program": key,
                            "findings": lines,
                            "definitions": count,
                            "seconds": round(seconds, 2),
                            "error": error,
                        }
                    )
                    if show:
                        print(f"clean     {key:<28} findings={lines}", flush=True)
            explains: list[dict] = []  # type: ignore[type-arg]
            if "explain" in tasks:
                rubrics = load_rubrics(args.split)
                if args.cases:
                    rubrics = [r for r in rubrics if pick.search(f"{r['program']}/{r['function']}")]
                for seed in seeded(args.seeds):
                    for rubric in rubrics:
                        result = explain(runner, programs[rubric["program"]], rubric)
                        result["seed"] = seed
                        explains.append(result)
                        if show:
                            print(f"explain   {result['case']:<40} {float(result['score']):.2f} "
                                  f"helpers {result['helpers_stated']}/{result['helpers']} "
                                  f"unsupported {result['unsupported']} missed {result['missed']} "
                                  f"{float(result['seconds']):>5.1f} s seed {seed}", flush=True)  # fmt: skip
            asks: list[dict] = []  # type: ignore[type-arg]
            if "ask" in tasks:
                questions = load_rubrics(args.split, QUESTIONS)
                if args.cases:
                    questions = [q for q in questions
                                 if pick.search(f"{q['program']}/{q['function']}")]  # fmt: skip
                for seed in seeded(args.seeds):
                    for question in questions:
                        result = ask(runner, programs[question["program"]], question, seed)
                        result["seed"] = seed
                        asks.append(result)
                        if show:
                            print(f"ask       {result['case']:<40} {float(result['score']):.2f} "
                                  f"unsupported {result['unsupported']} missed {result['missed']} "
                                  f"{float(result['seconds']):>5.1f} s seed {seed}", flush=True)  # fmt: skip
            if not show:
                print(
                    f"{args.split}: {len(cases)} cases run in {time.perf_counter() - started:.0f} s "
                    "(answers not shown: the test split is for deciding, not for reading)"
                )
        summary = summarise(model, args.split, fixes, reviews, clean, explains, asks)
        print_summary(summary)
        if not args.no_write:
            RESULTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]", "_", Path(model).name)
            label = f"-{args.label}" if args.label else ""
            kept: dict[str, object] = {"summary": summary}
            if show:
                kept |= {"fixes": fixes, "reviews": reviews, "clean": clean, "explains": explains,
                         "asks": asks}  # fmt: skip
            path = RESULTS / f"mutants-{args.split}-{name}{label}.json"
            path.write_text(json.dumps(kept, indent=1) + "\n")
            print(f"written: {path.relative_to(HERE.parent.parent)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("generate", help="make the mutants (writes mutants.json)")
    sub.add_parser("check", help="every case still fails its checks, every program passes")
    test = sub.add_parser("test", help="a program's checks on a file (fix-check's command)")
    test.add_argument("program", help="language/name, as python/run_length")
    test.add_argument("file")
    run = sub.add_parser("run", help="run the tasks on a split")
    run.add_argument("--split", choices=("dev", "test", "all"), required=True)
    run.add_argument("--model", action="append", help="catalogue name or GGUF path (repeat)")
    run.add_argument("--tasks", default="fix,fix-def,fix-error,review")
    run.add_argument("--cases", default="", help="only cases whose id matches")
    run.add_argument("--limit", type=int, default=0)
    run.add_argument(
        "--per-program", type=int, default=0, help="only the first N cases of each program"
    )
    run.add_argument("--label", default="")
    run.add_argument(
        "--seeds",
        type=lambda text: [int(s) for s in text.split(",")],
        default=[],
        help="explain, ask: run every rubric under each of these seeds (CHMOCODER_SEED; with "
        "--reproducible each draw is the same from run to run) and report their mean; the "
        "draw alone moves test's rubric by about 0.012, so decide on the mean of three",
    )
    run.add_argument("--no-write", action="store_true")
    run.add_argument(
        "--reproducible",
        action="store_true",
        help="reusePrompts false: the same case gets the same answer from run to run, so two "
        "versions of the pipeline differ only where the pipeline does (slower)",
    )
    run.add_argument(
        "--show-test",
        action="store_true",
        help="print the test split's answers (only after deciding)",
    )
    args = parser.parse_args()
    if args.command == "generate":
        return generate(load_programs())
    if args.command == "check":
        return check()
    if args.command == "test":
        return test_file(args.program, args.file)
    if args.reproducible:  # the command line reads its settings from the environment too
        os.environ["CHMOCODER_REUSE_PROMPTS"] = "false"
    return run_split(args)


if __name__ == "__main__":
    sys.exit(main())
