"""Edits are verified before they are offered: a definition's edit replaces exactly that
definition, with nothing beside it but comments (model output is untrusted text)."""

from __future__ import annotations

import pytest

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist.edits import extract_description, line_span, verify
from chmocoder.assist.results import Edit

REGISTRY = LanguageRegistry()

PY = "import math\n\n\ndef area(r):\n    return 3 * r * r\n\n\ndef other():\n    return 1\n"
JS = "/** Area. */\nexport function area(r) {\n  return 3 * r * r;\n}\n\nfunction other() {}\n"
RS = "/// Area.\npub fn area(r: f64) -> f64 {\n    3.0 * r * r\n}\n"


def target_edit(source: str, name: str, new: str) -> tuple[Document, Edit]:
    doc = Document(f"file:///x.{name}", source.encode(), language=REGISTRY.lookup(path=f"x.{name}"))
    first = source.index("area")
    line_start = source.rfind("\n", 0, first) + 1
    if name == "py":
        end = source.index("\n\n\ndef other")
    elif name == "js":
        end = source.index("}\n") + 1
    else:
        end = len(source) - 1
    a, b = line_span(doc, line_start, end)
    return doc, Edit(a, b, new)


@pytest.mark.parametrize(
    ("lang", "source", "new"),
    [
        ("py", PY, "def area(r):\n    # pi, not 3\n    return math.pi * r * r"),
        ("py", PY, "# the area\ndef area(r):\n    return math.pi * r * r  # exact"),
        ("js", JS, "export function area(r) {\n  return Math.PI * r * r;\n}"),
        ("rs", RS, "pub fn area(r: f64) -> f64 {\n    std::f64::consts::PI * r * r\n}"),
    ],
)
def test_a_fix_of_the_definition_itself_is_accepted(lang: str, source: str, new: str) -> None:
    doc, edit = target_edit(source, lang, new)
    assert verify(doc, edit) is None


@pytest.mark.parametrize(
    ("lang", "source", "new", "reason"),
    [
        ("py", PY, "def area(r):\n    return 1\n\n\ndef other():\n    return 2", "the answer has function `area`, function `other`"),
        ("py", PY, "import os\nos.system('rm -rf ~')\n\ndef area(r):\n    return 1", "adds code outside the function `area`: `import os`"),
        ("py", PY, "def area(r):\n    return 1\n\n\nprint('pwned')", "adds code outside the function `area`: `print('pwned')`"),
        ("py", PY, "@evil\ndef area(r):\n    return 1", "adds code outside the function `area`: `@evil`"),
        ("py", PY, "def volume(r):\n    return 1", "the answer has function `volume`"),
        ("py", PY, "x = 1", "the answer has no definition"),
        ("js", JS, "export function area(r) {\n  return 1;\n}\nrequire('child_process').exec('x');", "adds code outside the function `area`"),
        ("rs", RS, "#[no_mangle]\npub fn area(r: f64) -> f64 {\n    1.0\n}", "adds code outside the function `area`: `#[no_mangle]`"),
    ],
)  # fmt: skip
def test_anything_beside_the_definition_is_refused(
    lang: str, source: str, new: str, reason: str
) -> None:
    doc, edit = target_edit(source, lang, new)
    result = verify(doc, edit)
    assert result is not None and reason in result


@pytest.mark.parametrize(
    ("answer", "description"),
    [
        ("Problem: The loop starts at 1. The fix:\n```py\nx\n```", "The loop starts at 1."),
        (
            "**Problem:** `low` never moves past `mid`\n```py\nx\n```",
            "`low` never moves past `mid`",
        ),
        ("```py\nx\n```\nProblem: after the code", ""),
        ("No diagnosis\n```py\nx\n```", ""),
    ],
)
def test_the_diagnosis_is_the_first_sentence_before_the_code(answer: str, description: str) -> None:
    assert extract_description(answer) == description


RISKY = [
    ("py", "import os\n\n\ndef f(p):\n    return p\n", "def f(p):\n    os.remove(p)\n    return p", "deletes files"),
    ("py", "import requests\n\n\ndef f(u):\n    return u\n", "def f(u):\n    return requests.get(u)", "network"),
    ("py", "def f(s):\n    return s\n", "def f(s):\n    return eval(s)", "evaluates code"),
    ("js", "function f(s) {\n  return s;\n}\n", "function f(s) {\n  return require('child_process').execSync(s);\n}", "runs a command"),
    ("js", "function f(s) {\n  return s;\n}\n", "function f(s) {\n  return new Function(s)();\n}", "evaluates code"),
    ("go", "package m\n\nfunc f(s string) string {\n\treturn s\n}\n", "func f(s string) string {\n\texec.Command(\"sh\", \"-c\", s).Run()\n\treturn s\n}", "runs a command"),
    ("rs", "fn f() {\n}\n", "fn f() {\n    std::process::Command::new(\"sh\").spawn().unwrap();\n}", "runs a command"),
    ("java", "class A {\n  void f() {\n  }\n}\n", "class A {\n  void f() {\n    Runtime.getRuntime().exec(\"id\");\n  }\n}", "runs a command"),
    ("c", "int f(void) {\n  return 0;\n}\n", "int f(void) {\n  return system(\"id\");\n}", "runs a command"),
    ("rb", "def f(x)\n  x\nend\n", "def f(x)\n  `id`\n  x\nend", "runs a command"),
    ("php", "<?php\nfunction f($x) {\n  return $x;\n}\n", "function f($x) {\n  return shell_exec($x);\n}", "runs a command"),
    ("sh", "f() {\n  echo hi\n}\n", "f() {\n  rm -rf \"$HOME\"\n}", "deletes files"),
    ("lua", "function f(x)\n  return x\nend\n", "function f(x)\n  return os.execute(x)\nend", "runs a command"),
]  # fmt: skip


def _whole(source: str, ext: str, new: str) -> tuple[Document, Edit]:
    doc = Document(f"file:///x.{ext}", source.encode(), language=REGISTRY.lookup(path=f"x.{ext}"))
    first_line = new.split("\n", 1)[0]
    start = source.index(first_line.split("(")[0])
    start = source.rfind("\n", 0, start) + 1
    return doc, Edit(start, len(source.rstrip("\n")), new)


@pytest.mark.parametrize(("ext", "source", "new", "kind"), RISKY)
def test_an_edit_that_adds_a_risky_call_is_refused(
    ext: str, source: str, new: str, kind: str
) -> None:
    doc, edit = _whole(source, ext, new)
    reason = verify(doc, edit)
    assert reason is not None and kind in reason, reason
    assert verify(doc, edit, allow_risky=True) is None


def test_a_risky_call_already_there_is_not_flagged() -> None:
    source = "def f(cmd):\n    os.system(cmd)\n    return 0\n"
    doc, edit = _whole(source, "py", "def f(cmd):\n    os.system(cmd)\n    return 1")
    assert verify(doc, edit) is None
    doc, edit = _whole(
        source, "py", "def f(cmd):\n    os.system(cmd)\n    os.system(cmd)\n    return 1"
    )
    assert verify(doc, edit) is not None  # a second one is new


def test_ordinary_calls_with_risky_names_elsewhere_pass() -> None:
    source = "import re\n\n\ndef f(model, items):\n    return model\n"
    new = "def f(model, items):\n    model.eval()\n    items.remove(1)\n    return re.compile('x')"
    doc, edit = _whole(source, "py", new)
    assert verify(doc, edit) is None


@pytest.mark.parametrize(
    ("new", "ok"),
    [
        ("LIMIT = 20", True),
        ("LIMIT = 20  # was 10", True),
        ("LIMIT = 20\nimport os", False),
        ("LIMIT = 20\nprint('hi')", False),
        ("def LIMIT():\n    pass", False),
    ],
)
def test_module_level_edits_keep_their_statements(new: str, ok: bool) -> None:
    source = "import math\n\nLIMIT = 10\n\n\ndef f():\n    return LIMIT\n"
    doc = Document("file:///m.py", source.encode(), language=REGISTRY.lookup(path="m.py"))
    start = source.index("LIMIT = 10")
    reason = verify(doc, Edit(start, start + len("LIMIT = 10"), new))
    assert (reason is None) == ok, reason


def test_every_language_has_risk_patterns_that_compile() -> None:
    import re
    import tomllib

    from chmocoder.analysis.languages import grammars_dir
    from chmocoder.analysis.risks import KINDS

    table = tomllib.loads((grammars_dir() / "risks.toml").read_text())
    assert set(table) == set(REGISTRY.specs)
    for language, entry in table.items():
        assert set(entry) <= {*KINDS, "nodes", "inherits"}, language
        for kind in KINDS:
            for pattern in entry.get(kind, ()):
                re.compile(pattern)


@pytest.mark.parametrize(
    ("lang", "source", "new"),
    [
        ("py", PY, "def area(r):\n    # the area of a circle\n    return 3 * r * r"),
        ("js", JS, "export function area(r) {\n  return 3 * r * r; // pi?\n}"),
        ("rs", RS, "pub fn area(r: f64) -> f64 {\n    /* pi */ 3.0 *  r * r\n}"),
    ],
)
def test_a_fix_that_changes_only_comments_or_spacing_is_no_change(
    lang: str, source: str, new: str
) -> None:
    doc, edit = target_edit(source, lang, new)
    assert verify(doc, edit, code_change=True) == "the model changed only comments or spacing"
    assert verify(doc, edit) is None  # a docstring or doc comment is such an edit, and fine
    changed = Edit(edit.start, edit.end, new.replace("r * r", "r * r * r"))
    assert verify(doc, changed, code_change=True) is None


SUM_C = """long sum(const int *a, int n) {
    long total = 0;
    for (int i = 0; i < n; i++) {
        n += a[i];
    }
    return total;
}
"""
CURSOR_ROW = 3  # `n += a[i];`, within the definition


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ("n += a[i];", "total += a[i];", True),
        ("n += a[i];", "n += a[i];  // the sum", False),  # a comment is no change of the code
        ("        n += a[i];", "        // add it\n        n += a[i];", False),
        # a statement inserted right before the line changes it (a missing guard, base case)
        ("        n += a[i];", "        if (a[i] < 0) break;\n        n += a[i];", True),
        # wrapping the line in a new block leaves its code as it was
        ("        n += a[i];", "        if (i < n) {\n            n += a[i];\n        }", False),
        ("long total = 0;", "long total = 1;", False),  # another line
    ],
)
def test_the_cursors_line_counts_as_changed_only_when_its_code_is(
    before: str, after: str, changed: bool
) -> None:
    from chmocoder.assist.edits import code_changed_rows

    doc = Document("file:///x.c", SUM_C.encode(), language=REGISTRY.lookup(path="x.c"))
    end = SUM_C.rindex("}") + 1
    edit = Edit(0, end, SUM_C[:end].replace(before, after))
    assert (CURSOR_ROW in code_changed_rows(doc, edit)) is changed
