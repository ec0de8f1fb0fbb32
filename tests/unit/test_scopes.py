"""A name used outside every block that declares it is found (the compiler would refuse the
code), and nothing is found in code that builds: the benchmark's 24 programs, in four
languages, and their mutants."""

from __future__ import annotations

import pytest

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.analysis.scopes import out_of_scope_uses
from chmocoder.assist.edits import verify
from chmocoder.assist.results import Edit
from tests.support.common import REPO, document_of, quality_benchmark

REGISTRY = LanguageRegistry()


def found(name: str, source: str) -> list[tuple[str, int]]:
    doc = document_of(name, source)
    return [(u.name, u.row) for u in out_of_scope_uses(doc, 0, len(doc.source))]


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        # the loop's variable after the loop
        ("a.c", "int f(int n) {\n for (int i = 0; i < n; i++) {}\n return i;\n}\n", [("i", 2)]),
        ("a.c", "int f(int n) {\n int i;\n for (i = 0; i < n; i++) {}\n return i;\n}\n", []),
        # a variable of an inner block after it; a global, a parameter, a macro are fine
        ("a.c", "int f(int s) {\n if (s) { long v = 0; }\n return v;\n}\n", [("v", 2)]),
        ("a.c", "#define N 4\nint g;\nint f(int s) {\n return g + s + N;\n}\n", []),
        ("a.js", "function f(xs) {\n  for (const x of xs) {}\n  return x;\n}\n", [("x", 2)]),
        ("a.js", "function f(xs) {\n  if (xs) { var v = 1; }\n  return v;\n}\n", []),  # var
        ("a.js", "const k = 2;\nfunction f(xs) {\n  return xs.map((x) => x * k);\n}\n", []),
        ("a.ts", "function f(xs: number[]) {\n  { let t = 0; }\n  return t + xs.length;\n}\n",
         [("t", 2)]),
        ("a.rs", "fn f(k: Option<i32>) -> i32 {\n    { let a = 1; }\n    a\n}\n", [("a", 2)]),
        ("a.rs", "fn f(k: Option<i32>) -> i32 {\n    match k { Some(w) => w, None => w }\n}\n",
         [("w", 1)]),
        ("a.rs", "fn f(k: Option<i32>) -> i32 {\n    if let Some(v) = k { return v; }\n"
         "    match k { None => 0, Some(n) => n }\n}\n", []),
        ("A.java", "class A {\n  int n;\n  int f(int[] xs) {\n    for (int x : xs) {}\n"
         "    return x + n;\n  }\n}\n", [("x", 4)]),
        ("a.go", "package a\nfunc f(xs []int) int {\n\tif n := len(xs); n > 0 {\n\t}\n"
         "\treturn n\n}\n", [("n", 4)]),
        # found only in a function that declares the name: elsewhere it may be a global
        # (UMD's `exports`), and imports, function and class names, renamed destructuring
        # and `for (var ...)` are visible beyond a block (false alarms in node_modules)
        ("a.js", "function f(exports) {\n  return exports;\n}\n"
         "module.exports = typeof exports === 'object' ? exports : {};\n", []),
        ("a.c", "int f(void) {\n  int errno = 0;\n  return errno;\n}\n"
         "int g(void) {\n  return errno;\n}\n", []),
        ("a.js", "import path from 'path';\nimport { join as j } from 'path';\n"
         "function f(path) { return path; }\nfunction g(n) {\n  for (var t in n) {}\n"
         "  const { definitions: defs } = n;\n  return [path, j, t, defs, h, K];\n}\n"
         "function h() { let defs = 0; return defs; }\nclass K {}\n", []),
        # a constant assigned again: JavaScript throws, Rust does not build
        ("a.js", "function f(xs) {\n  const n = 0;\n  for (const x of xs) {\n    x = 1;\n"
         "  }\n  n += 1;\n  n++;\n  return n;\n}\n", [("x", 3), ("n", 5), ("n", 6)]),
        ("a.js", "const limit = 1;\nfunction f(o) {\n  let n = 0;\n  n = 2;\n  o.x = 1;\n"
         "  { let limit = 3; limit = 4; }\n  limit = 5;\n}\n", [("limit", 6)]),
        ("a.js", "const v = 1;\nfunction f(a) {\n  if (a) { var v = 2; }\n  v = 3;\n}\n", []),
        ("a.rs", "fn f(a: i32, mut b: i32) -> i32 {\n    let x = 1;\n    let mut y = 2;\n"
         "    let z;\n    z = 3;\n    let (mut p, q) = (1, 2);\n    x = 4;\n    y += 1;\n"
         "    b = 5;\n    p = 6;\n    q = 7;\n    a = 8;\n    x + y + z + b + p + q + a\n}\n",
         [("x", 6), ("q", 10), ("a", 11)]),
        ("a.rs", "fn f() -> i32 {\n    let x = 1;\n    let mut x = x;\n    x += 1;\n"
         "    for i in 0..3 {\n        i = 2;\n    }\n    x\n}\n", [("i", 5)]),
        # Python scopes by function: a loop's variable lives on; a name nothing binds is found
        ("a.py", "def f(xs):\n    for x in xs:\n        pass\n    return x\n", []),
        ("a.py", "def f(xs):\n    out = sorted(xs)\n    return ordered[0]\n", [("ordered", 2)]),
        ("a.py", "import os.path as osp\nfrom m import (a as b, c)\n\n\n"
         "def f(p, *rest, k=1, **kw):\n    with open(p) as (fh, g):\n        pass\n"
         "    try:\n        pass\n    except OSError as err:\n        pass\n"
         "    ys = [y for y in rest if (w := y)]\n    lam = lambda q, r=2: q + r\n"
         "    match kw:\n        case {'x': px, **others}:\n            pass\n"
         "    global G\n    G = 1\n    print(osp, b, c, k, fh, g, err, ys, w, lam, px, others,"
         " __name__, len(x=1).real)\n", []),
        ("a.py", "def f(n: Missing) -> Missing:\n    v: Other = n\n    return v\n", []),
        ("a.py", "from m import *\ndef f():\n    return anything\n", []),
        ("a.py", "def f():\n    exec('z = 1')\n    return z\n", []),
        ("a.py", "def f(:\n    return nothing\n", []),  # does not parse: nothing said
    ],
)  # fmt: skip
def test_a_name_outside_the_block_that_declares_it_is_found(
    name: str, source: str, expected: list[tuple[str, int]]
) -> None:
    assert found(name, source) == expected


def test_nothing_is_found_in_programs_that_build() -> None:
    programs, cases = quality_benchmark()
    assert {p.language for p in programs.values()} == {"python", "c", "javascript", "rust"}
    for program in programs.values():
        doc = program.document()
        assert out_of_scope_uses(doc, 0, len(doc.source)) == [], program.key
    # Mutants build too (all but the JavaScript and Python ones, which fail only when run):
    # two read a name before the loop that declares it, two read a name nothing binds (the
    # mutation renamed its assignment), one assigns a `const`, and those five are found.
    reported = set()
    for case in cases:
        doc = programs[f"{case['language']}/{case['program']}"].document(case["buggy"])
        for use in out_of_scope_uses(doc, 0, len(doc.source)):
            reported.add((case["id"], use.name))
    assert reported == {
        ("javascript/query_string/2", "part"),
        ("javascript/csv_line/2", "ch"),
        ("javascript/turnstile/4", "e"),
        ("python/intervals/3", "ordered"),
        ("python/vending/7", "change"),
    }


def test_nothing_is_found_in_this_projects_python() -> None:
    """Our own Python (every construct the server, tests and benchmarks use) binds all it
    reads; found here would be a false alarm that refuses a good edit."""
    files = [f for d in ("server", "tests", "bench", "scripts") for f in (REPO / d).rglob("*.py")]
    assert len(files) > 100
    for path in files:
        source = path.read_bytes()
        doc = Document(path.as_uri(), source, language=REGISTRY.lookup(path=str(path)))
        assert out_of_scope_uses(doc, 0, len(source)) == [], path


BALANCE = """long balance_point(const long *a, size_t n) {
    long before = 0;
    for (size_t i = 0; i < n; i++) {
        before += a[i];
    }
    return -1;
}
"""


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        # what the default model answered on two of the benchmark's dev cases
        ("return -1;", "return before > 0 ? i : -1;", "it uses `i` at line 6 outside the block"),
        ("    long before = 0;\n    for", "    if (n) {\n        long before = 0;\n    }\n    for",
         "it uses `before` at line 6 outside the block"),
        ("return -1;", "return (long)n - 1;", None),
    ],
)  # fmt: skip
def test_an_edit_that_would_not_build_is_refused(old: str, new: str, reason: str | None) -> None:
    doc = document_of("b.c", BALANCE)
    end = BALANCE.rindex("}") + 1
    said = verify(doc, Edit(0, end, BALANCE[:end].replace(old, new)), code_change=True)
    assert (said is None) if reason is None else (said or "").startswith(reason)


def test_an_edit_that_assigns_a_constant_is_refused() -> None:
    """A `let` without `mut` assigned again does not build: such an answer is not offered,
    while one that declares it `mut` is."""
    source = "fn total(xs: &[i32]) -> i32 {\n    let mut sum = 0;\n    for x in xs {\n        sum += x;\n    }\n    sum\n}\n"
    doc = document_of("t.rs", source)
    end = source.rindex("}") + 1
    immutable = source[:end].replace("let mut sum", "let sum").replace("sum += x", "sum += x * 2")
    said = verify(doc, Edit(0, end, immutable), code_change=True)
    assert said is not None and said.startswith("it assigns `sum` at line 4 though it is declared")
    assert verify(doc, Edit(0, end, source[:end].replace("sum += x", "sum += x * 2"))) is None
