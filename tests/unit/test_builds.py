"""What a compiler would refuse that the tree shows (analysis/builds.py) is found, nothing is
found in code that builds (the benchmark's programs and mutants, this repository's C and
Rust), and a fix that adds such an error is refused before it is offered, while one that
does not is offered."""

from __future__ import annotations

import pytest

from chmocoder.analysis.builds import build_errors
from chmocoder.assist.edits import verify
from chmocoder.assist.results import Edit
from tests.support.common import REPO, document_of, quality_benchmark


def found(name: str, source: str) -> list[tuple[str, int]]:
    doc = document_of(name, source)
    return [(e.key, e.row) for e in build_errors(doc, 0, len(doc.source))]


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        # C: a standard name whose header is not included
        ("a.c", "#include <stdio.h>\nlong f(long a) {\n    return a < LONG_MAX ? a : 0;\n}\n",
         [("LONG_MAX", 2)]),
        ("a.c", "#include <limits.h>\nlong f(long a) {\n    return a < LONG_MAX ? a : 0;\n}\n",
         []),
        ("a.c", "int f(const char *s) {\n    return (int)strlen(s) + isdigit(s[0]);\n}\n",
         [("strlen", 1), ("isdigit", 1)]),
        ("a.c", "#include <string.h>\nsize_t f(const char *s) {\n    return strlen(s);\n}\n",
         []),  # size_t: <string.h> declares it too
        # its own or a system header may include anything; a header relies on its includer
        ("a.c", '#include "util.h"\nlong f(long a) {\n    return LONG_MAX;\n}\n', []),
        ("a.c", "#include <unistd.h>\nlong f(long a) {\n    return LONG_MAX;\n}\n", []),
        ("a.h", "static long f(long a) {\n    return LONG_MAX;\n}\n", []),
        # keywords in C23 (gcc 15's default), and a name the file declares itself
        ("a.c", "bool f(int a) {\n    return a ? true : false;\n}\n", []),
        ("a.c", "#define INT_MAX 7\nint f(void) {\n    return INT_MAX;\n}\n", []),
        # a name declared twice in one block (with a function's parameters for its body)
        ("a.c", "int f(int n, char *s) {\n    int i = 0, j;\n    int *n = 0;\n"
         "    for (int i = 0; i < 3; i++) { int i = 1; }\n    int k(void);\n    int k(void);\n"
         "    extern int e;\n    extern int e;\n    long j = 2;\n    return i;\n}\n",
         [("twice n", 2), ("twice j", 8)]),  # a loop's body is a block of its own in C
        ("a.js", "let g = 1;\nfunction f(x, [a], d = 1) {\n  let y = 1;\n"
         "  for (let i = 0; i < 3; i++) { let y = 2; let i = 3; }\n  let x = 3;\n"
         "  const d = 4;\n  var z = 1;\n  var z = 2;\n  let y = 5;\n}\nconst g = 2;\n",
         [("twice x", 4), ("twice d", 5), ("twice y", 8), ("twice g", 10)]),
        ("a.ts", "function f(x: number, y?: string) {\n  let x = 1;\n  const y = '';\n}\n",
         [("twice x", 1), ("twice y", 2)]),
        ("a.js", "function f(xs) {\n  switch (xs) {\n    case 1: { let v = 1; break; }\n"
         "    default: { let v = 2; }\n  }\n}\n", []),
        # Rust: a capitalised type or path nothing declares or imports
        ("a.rs", "fn f() -> usize {\n    let m: HashMap<u8, u8> = HashMap::new();\n    m.len()\n}\n",
         [("HashMap", 1), ("HashMap", 1)]),
        ("a.rs", "use std::collections::HashMap;\nfn f() -> usize {\n"
         "    let m: HashMap<u8, u8> = HashMap::new();\n    m.len()\n}\n", []),
        ("a.rs", "fn f<T: Clone>(x: Option<T>, it: &mut dyn Iterator<Item = u8>) -> Vec<T> {\n"
         "    let v: Vec<T> = Vec::new();\n    let _ = Self::X;\n    v\n}\n", []),
        ("a.rs", "enum State { A }\nstruct P(u8);\nfn f(s: State) -> P {\n"
         "    match s {\n        State::A => P(1),\n    }\n}\n", []),
        ("a.rs", "fn f(x: u8) -> u8 {\n    match x {\n        Other => Other,\n    }\n}\n",
         []),  # a capitalised name in a pattern is a new binding
        ("a.rs", "fn f() -> u8 {\n    let o = std::cmp::Ordering::Less;\n    regex::X::n()\n}\n",
         []),  # a full path; a crate needs no `use`
        ("a.rs", "use super::*;\nfn f() -> u8 {\n    Anything::new()\n}\n", []),
        ("a.rs", "fn f() -> u8 {\n    Missing::new()\n}\nmod tests {\n    use super::*;\n"
         "    fn t() {\n        let _ = Hidden::new();\n    }\n}\n", [("Missing", 1)]),
        # Rust: a function whose body ends without its value
        ("a.rs", "fn f(xs: &[u8]) -> Vec<u8> {\n    let mut v = Vec::new();\n"
         "    for x in xs {\n        v.push(*x);\n    }\n}\n", [("return f", 0)]),
        ("a.rs", "fn f(a: u8) -> u8 {\n    let b = a + 1;\n}\n", [("return f", 0)]),
        ("a.rs", "fn f(a: u8) -> u8 {\n    while a > 0 {}\n}\n", [("return f", 0)]),
        ("a.rs", "fn f(a: u8) -> u8 {\n    if a > 0 { return 1; } else { return 2; }\n}\n", []),
        ("a.rs", "fn f(a: u8) -> u8 {\n    loop {\n        return a;\n    }\n\n"
         "    fn helper() {}\n}\n", []),  # an item after the value is no statement
        ("a.rs", "fn f(a: u8) -> u8 {\n    panic!(\"no\");\n}\n", []),
        ("a.rs", "fn f(a: u8) -> u8 {\n    std::process::exit(1);\n}\n", []),  # may diverge
        ("a.rs", "fn f(a: &mut u8) {\n    *a += 1;\n}\nfn g() -> () {\n    let x = 1;\n}\n",
         []),
        # Rust: arms that mix a value and (), and () assigned to a name that holds a value
        ("a.rs", "fn f(a: u8, mut b: u8) -> u8 {\n    let c = match a {\n        0 => 1,\n"
         "        _ => b = 2,\n    };\n    c\n}\n", [("mixed match_expression", 1)]),
        ("a.rs", "fn f(a: u8) -> u8 {\n    if a > 0 { 1 } else { let z = 2; }\n}\n",
         [("return f", 0), ("mixed if_expression", 1)]),
        ("a.rs", "fn f(a: u8) -> u8 {\n    match a {\n        0 => return 1,\n"
         "        _ => { if a > 2 { 3 } else { panic!() } }\n    }\n}\n", []),
        ("a.rs", "fn f(s: &str) -> u8 {\n    let mut state = 0;\n    for c in s.chars() {\n"
         "        state = match c {\n            'a' => state = 1,\n"
         "            _ => return 0,\n        };\n    }\n    state\n}\n",
         [("assigns nothing state", 3)]),
        ("a.rs", "fn f(a: u8) -> u8 {\n    let mut n = 0;\n    match a {\n"
         "        0 => n = 1,\n        _ => n += 2,\n    }\n    n\n}\n", []),
    ],
)  # fmt: skip
def test_what_the_compiler_would_refuse_is_found(
    name: str, source: str, expected: list[tuple[str, int]]
) -> None:
    assert found(name, source) == expected


def test_nothing_is_found_in_code_that_builds() -> None:
    """The benchmark's 24 programs in four languages and their 176 mutants (every one builds:
    the mutants fail their tests, not the compiler), and this repository's C, Rust,
    JavaScript and TypeScript samples."""
    programs, cases = quality_benchmark()
    docs = [p.document() for p in programs.values()]
    docs += [programs[f"{c['language']}/{c['program']}"].document(c["buggy"]) for c in cases]
    assert len(docs) == 200
    for path in [*REPO.glob("tests/fixtures/languages/*"), *REPO.glob("bench/completion/*")]:
        if path.suffix in (".c", ".rs", ".js", ".ts", ".tsx"):
            docs.append(document_of(path.name, path.read_text()))
    for doc in docs:
        assert build_errors(doc, 0, len(doc.source)) == [], doc.uri


def _edit(source: str, old: str, new: str) -> Edit:
    """The whole definition (the file's last `}`), with `old` replaced by `new`, as a fix."""
    end = source.rindex("}") + 1
    assert old in source
    return Edit(0, end, source[:end].replace(old, new))


BALANCE = """long balance_point(const long *a, size_t n) {
    long before = 0;
    for (size_t i = 0; i < n; i++) {
        before += a[i];
    }
    return -1;
}
"""

WRAP = """fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for word in text.split_whitespace() {
        if word.len() <= width {
            lines.push(word.to_string());
        }
    }
    lines
}
"""

LEXER = """fn is_number(text: &str) -> bool {
    let mut state = 0;
    for c in text.chars() {
        state = match (state, c) {
            (0, '0'..='9') => 1,
            (1, '.') => 2,
            _ => return false,
        };
    }
    state == 1
}
"""


CSV = """function split(line) {
  const fields = [];
  let field = "";
  for (const ch of line) {
    if (ch === ",") {
      fields.push(field);
      field = "";
    } else {
      field += ch;
    }
  }
  fields.push(field);
  return fields;
}
"""


@pytest.mark.parametrize(
    ("name", "source", "old", "new", "reason"),
    [
        # the shapes of what the default model answered on the benchmark's dev cases
        ("b.c", BALANCE, "before += a[i];", "if (before > LONG_MAX - a[i]) return -1;\n"
         "        before += a[i];", "it uses `LONG_MAX` at line 4, which needs `#include <limits.h>`"),
        ("b.c", BALANCE, "return -1;", "return before > 0 ? (long)n : -1;", None),
        ("w.rs", WRAP, "    lines\n}", "}", "it leaves `wrap` at line 1 without a value to return"),
        ("w.rs", WRAP, "let mut lines = Vec::new();", "let mut lines = VecDeque::new();",
         "it uses `VecDeque` at line 2, which nothing in the file declares or imports"),
        ("w.rs", WRAP, "word.len() <= width", "word.len() < width", None),
        ("l.rs", LEXER, "(1, '.') => 2,", "(1, '.') => state = 2,",
         "it gives a value in some of the `match` arms at line 4 and nothing"),
        ("l.rs", LEXER, "(0, '0'..='9') => 1,\n            (1, '.') => 2,",
         "(0, '0'..='9') => state = 1,\n            (1, '.') => state = 2,",
         "it assigns nothing (`()`) to `state` at line 4"),
        ("l.rs", LEXER, "(1, '.') => 2,", "(1, '.') | (2, '0'..='9') => 2,", None),
        ("c.js", CSV, "let field = \"\";", "let field = \"\";\n  let fields = [];",
         "it declares `fields` at line 4 a second time in the same block"),
        ("c.js", CSV, "let field = \"\";", "let field = \"\";\n  fields.length = 0;", None),
    ],
)  # fmt: skip
def test_a_fix_that_would_not_build_is_refused(
    name: str, source: str, old: str, new: str, reason: str | None
) -> None:
    said = verify(document_of(name, source), _edit(source, old, new), code_change=True)
    assert (said is None) if reason is None else (said or "").startswith(reason), said


def test_an_error_already_there_is_not_held_against_a_fix() -> None:
    """Only errors the edit adds count: a file that uses `LONG_MAX` without its header (it may
    come from where the tree cannot look) still gets a fix that leaves that use alone."""
    source = "long f(long a) {\n    long b = LONG_MAX;\n    return a < b ? a : 0;\n}\n"
    doc = document_of("c.c", source)
    assert [e.key for e in build_errors(doc, 0, len(doc.source))] == ["LONG_MAX"]
    assert verify(doc, _edit(source, "a < b", "a <= b"), code_change=True) is None
    said = verify(doc, _edit(source, "a < b ? a : 0", "a < b ? a : INT_MAX"), code_change=True)
    assert said is not None and "`INT_MAX`" in said
