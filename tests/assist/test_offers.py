"""The assistant's offers at a place in a document (what the editor lists as code actions)."""

from __future__ import annotations

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.analysis.syntax import syntax_problems
from chmocoder.assist.offers import Reported, offers

SOURCE = b'''LIMIT = 3


def documented(x):
    """Twice x."""
    return 2 * x


def bare(values):
    return sorted(values
'''


def _doc(registry: LanguageRegistry) -> Document:
    return Document("file:///o.py", SOURCE, language=registry.support("python"))


def test_a_definition_gets_explain_fix_and_simplify_and_a_docstring_only_when_it_has_none(
    registry: LanguageRegistry,
) -> None:
    doc = _doc(registry)
    inside = SOURCE.index(b"return 2")
    titles = [(o.title, o.kind, o.task) for o in offers(doc, inside, inside, [])]
    assert titles == [
        ("Explain `documented`", "explain", None),
        ("Fix this function `documented`", "quickfix", "fix"),
        ("Simplify `documented`", "rewrite", "simplify"),
    ]
    fix = offers(doc, inside, inside, [])[1]
    assert (fix.start, fix.end) == (
        SOURCE.index(b"def documented"),
        SOURCE.index(b"\n\n\ndef bare"),
    )


def test_a_reported_syntax_error_gets_a_certain_fix_then_a_model_fix(
    registry: LanguageRegistry,
) -> None:
    doc = _doc(registry)
    problem = syntax_problems(doc)[0]
    reported = Reported(problem.span.start_byte, problem.span.end_byte, problem.message, True)
    found = offers(doc, problem.span.start_byte, problem.span.start_byte, [reported])
    certain, model = found[0], found[1]
    assert certain.edit is not None and certain.task is None and certain.answers == reported
    assert model.task == "fix" and model.detail == f"Problem: {problem.message}"
    assert any(o.title == "Add docstring to `bare`" for o in found)


def test_a_review_finding_passes_its_suggestion_to_the_fix(registry: LanguageRegistry) -> None:
    doc = _doc(registry)
    at = SOURCE.index(b"2 * x")
    finding = Reported(at, at + 5, "Doubles instead of halving.", False, "return x / 2")
    fix = offers(doc, at, at, [finding])[0]
    assert fix.detail == "Problem: Doubles instead of halving. Suggestion: return x / 2"
    assert fix.edit is None and fix.answers == finding


def test_outside_definitions_only_a_selection_can_be_explained(registry: LanguageRegistry) -> None:
    doc = _doc(registry)
    at = SOURCE.index(b"LIMIT")
    assert offers(doc, at, at, []) == []
    selected = offers(doc, at, at + 9, [])
    assert [(o.title, o.kind) for o in selected] == [("Explain the selection", "explain")]
