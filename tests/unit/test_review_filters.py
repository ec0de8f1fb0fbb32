"""Review findings are shown only if they pass the filters: confident enough, quoting code that
is on (or moved to) their line, with a message that is a sentence, not repeating another."""

from __future__ import annotations

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist.edits import changed_rows
from chmocoder.assist.review import (
    ReviewFinding,
    filter_findings,
    is_sentence,
    review_units,
)

REGISTRY = LanguageRegistry()
SOURCE = (
    "import os\n"
    "\n"
    "def mean(values):\n"
    "    total = sum(values)\n"
    "    return total / (len(values) - 1)\n"
    "\n"
    "class Box:\n"
    "    def size(self):\n"
    "        return 1\n"
    "\n"
    "print(mean([1, 2]))\n"
)


def doc() -> Document:
    return Document("file:///m.py", SOURCE.encode(), language=REGISTRY.lookup(path="m.py"))


def finding(line: int, quote: str, message: str, confidence: int = 100) -> ReviewFinding:
    return ReviewFinding(
        line=line, quote=quote, severity="warning", message=message, confidence=confidence
    )


def test_units_are_functions_methods_and_module_code_not_containers() -> None:
    units = {(u.kind, u.name): u for u in review_units(doc())}
    assert set(units) == {("function", "mean"), ("method", "size"), ("module", "module-level code")}
    module = units[("module", "module-level code")]
    assert module.text == "   11| print(mean([1, 2]))"  # imports, blanks and definitions left out


def test_filters() -> None:
    d = doc()
    unit = next(u for u in review_units(d) if u.name == "mean")
    kept = filter_findings(
        d,
        unit,
        [
            finding(5, "len(values) - 1", "The divisor is one less than the count."),
            finding(
                3, "total = sum(values)", "The sum is taken before the loop ends."
            ),  # moved to 4
            finding(4, "}, {", "}, {"),  # not a sentence
            finding(4, "total", "It might overflow for very big lists.", confidence=60),
            finding(5, "(len(values) - 1)", "The divisor is one less than the count!"),  # repeat
            finding(5, "values.sort()", "The list is sorted in place and changes."),  # not there
        ],
    )
    assert [(row + 1, f.message) for row, f in kept] == [
        (5, "The divisor is one less than the count."),
        (4, "The sum is taken before the loop ends."),
    ]


def test_sentences_and_changed_rows() -> None:
    assert is_sentence("The loop stops one element early.")
    assert not is_sentence("}, {") and not is_sentence("off by one")
    old = ["def f(x):", "    y = x", "    return y + 1"]
    new = ["def f(x):", "    y = x", "    return y - 1"]
    assert changed_rows(old, new) == {2: "return y - 1"}
    assert changed_rows(old, old) == {}
