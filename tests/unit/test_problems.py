"""A statement that computes a value and drops it (`best;` where `return best;` was meant) is
a known problem; statements that may do something (calls, `delete`, overloaded operators,
what a `try` or `with` is there to catch, macros) never are."""

from __future__ import annotations

import pytest

from chmocoder.analysis.problems import known_problems, unused_values
from tests.support.common import document_of, quality_benchmark


def found(name: str, source: str) -> list[tuple[str, int]]:
    doc = document_of(name, source)
    return [(u.text, u.row) for u in unused_values(doc, 0, len(doc.source))]


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("a.c", "int f(int a) {\n  if (a > 0) {\n    a;\n  }\n  a == 1;\n  (void)a;\n"
         "  a++;\n  g(a) + 1;\n  PY_RETURN;\n  return a;\n}\n", [("a", 2), ("a == 1", 4)]),
        ("a.js", "function f(a, o) {\n  'use strict';\n  a;\n  a && g();\n  a + 1;\n"
         "  delete o.k;\n  void a;\n  try { missing; } catch (e) {}\n  return a;\n}\n",
         [("a", 2), ("a + 1", 4)]),
        ("a.py", "def f(a):\n    \"\"\"Doc.\"\"\"\n    a\n    a // 2\n    ...\n    0.0\n"
         "    with raises(ZeroDivisionError):\n        a\n    try:\n        name\n"
         "    except NameError:\n        pass\n", [("a", 2), ("0.0", 5)]),
        ("a.cpp", "int f(int a) {\n  std::cout << a;\n  a;\n  return a;\n}\n", [("a", 2)]),
        ("a.rs", "fn f(a: i32) -> i32 {\n    if a > 0 {\n        a;\n    }\n    a + 1;\n    a\n}\n",
         [("a", 2), ("a + 1", 4)]),
        ("a.go", "package a\nfunc f(a int) int {\n\treturn a\n}\n", []),
        ("a.c", "int f(int a) {\n  a;\n  return a\n}\n", []),  # does not parse: left alone
    ],
)  # fmt: skip
def test_a_dropped_value_is_found(name: str, source: str, expected: list[tuple[str, int]]) -> None:
    assert found(name, source) == expected


def test_known_problems_come_by_line_with_a_hint() -> None:
    source = "def f(xs):\n    out = sorted(xs)\n    total\n    return ordered\n"
    assert known_problems(document_of("a.py", source), 0, len(source)) == [
        "line 3: `total` is used but nothing in the file defines it",
        "line 3: the value of `total` is computed and not used, so this statement does "
        "nothing (a missing `return` or assignment?)",
        "line 4: `ordered` is used but nothing in the file defines it",
    ]


def test_the_benchmark_programs_have_none_and_its_missing_returns_are_found() -> None:
    programs, cases = quality_benchmark()
    for program in programs.values():
        doc = program.document()
        assert unused_values(doc, 0, len(doc.source)) == [], program.key
    rows: dict[str, list[int]] = {}
    for case in cases:
        doc = programs[f"{case['language']}/{case['program']}"].document(case["buggy"])
        found = unused_values(doc, 0, len(doc.source))
        if found:
            rows[case["id"]] = [u.row + 1 for u in found]
            assert case["kind"] == "return" and rows[case["id"]] == [case["bug_line"]]
    # 18 of the 23 missing returns (the rest drop a call's or an attribute's value)
    assert len(rows) == 18
