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
