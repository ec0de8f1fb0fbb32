"""The completer at its own boundary: recorded fill-in-the-middle answers in, what is shown
out (block ends, guards), and what is answered without the model (typing through, a gap
seen before, a model that cannot fill in the middle)."""

from __future__ import annotations

import logging

import pytest

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist.completion import Completer, CompleterSettings
from chmocoder.engine.types import GenerationParams
from tests.support.recorded import RecordedEngine

REGISTRY = LanguageRegistry()
SETTINGS = CompleterSettings(budget_ms=500, max_tokens=64, prefix_tokens=512, suffix_tokens=128)

SOURCE = "def fib(n):\n    if n < 2:\n        \n    return fib(n - 1) + fib(n - 2)\n"
CURSOR = SOURCE.index("        \n") + 8


def doc_of(text: str, version: int = 0) -> Document:
    return Document(
        "file:///fib.py", text.encode(), version=version, language=REGISTRY.lookup(path="fib.py")
    )


async def test_the_model_fills_the_gap_and_the_block_end_stops_it() -> None:
    engine = RecordedEngine(["return n\n    else:\n        return 0"])
    completer = Completer(engine, SETTINGS)
    result = await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
    assert (result.text, result.source) == ("return n", "model")
    assert (
        "<prefix>def fib(n):" in engine.prompts[0]
        and "<suffix>\n    return fib" in engine.prompts[0]
    )
    params: GenerationParams = engine.params[0]
    assert params.temperature == 0.0 and params.max_tokens == SETTINGS.max_tokens


async def test_typing_through_a_suggestion_is_answered_from_memory() -> None:
    engine = RecordedEngine(["return n"])
    completer = Completer(engine, SETTINGS)
    await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
    for typed in ("r", "re", "ret", "return "):
        text = SOURCE[:CURSOR] + typed + SOURCE[CURSOR:]
        result = await completer.complete(doc_of(text), CURSOR + len(typed), "fib.py")
        assert (result.text, result.source) == ("return n"[len(typed) :], "typed")
    assert len(engine.prompts) == 1  # one model call for the whole suggestion
    assert completer.counts.typed == 4 and completer.counts.model == 1


async def test_a_gap_seen_before_is_answered_from_memory_and_a_new_one_asks_the_model() -> None:
    engine = RecordedEngine(["return n", " = 1"])
    completer = Completer(engine, SETTINGS)
    await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
    typed = SOURCE[:CURSOR] + "x" + SOURCE[CURSOR:]  # not what was suggested: the model
    other = await completer.complete(doc_of(typed), CURSOR + 1, "fib.py")
    assert (other.text, other.source) == (" = 1", "model")
    again = await completer.complete(doc_of(SOURCE, version=5), CURSOR, "fib.py")  # backspace
    assert (again.text, again.source) == ("return n", "cache")
    assert len(engine.prompts) == 2


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("   ", "only whitespace"),
        ("return fib(n - 1) + fib(n - 2)", "it repeats the code after the cursor"),
        ("return (n", "it would make the syntax worse"),
    ],
)
async def test_refused_answers_show_nothing_and_are_not_asked_again(
    answer: str, reason: str
) -> None:
    engine = RecordedEngine([answer])
    completer = Completer(engine, SETTINGS)
    result = await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
    assert (result.text, result.reason) == ("", reason)
    again = await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
    assert (again.text, again.source) == ("", "cache")
    assert completer.counts.refused == {reason: 1}


async def test_a_model_without_fill_in_the_middle_tokens_gets_no_completion_and_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = RecordedEngine([], infill=False)
    completer = Completer(engine, SETTINGS)
    with caplog.at_level(logging.INFO, logger="chmocoder.assist.completion"):
        for _ in range(3):
            result = await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
            assert result.text == "" and "cannot fill in the middle" in result.reason
    said = [r for r in caplog.records if "fill-in-the-middle" in r.getMessage()]
    assert len(said) == 1 and not engine.prompts


async def test_the_time_budget_stops_generation_at_a_whole_line() -> None:
    long_answer = "total = 0\n        " + "total += 1\n        " * 200
    engine = RecordedEngine([long_answer])
    completer = Completer(engine, CompleterSettings(0, 4096, 512, 128))
    result = await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
    assert result.text == "total = 0"  # stopped on its first pieces, cut to whole lines


async def test_in_the_indentation_the_prompt_ends_at_the_line_start_and_the_answer_is_not_indented_twice() -> (
    None
):
    engine = RecordedEngine(["\n        return n\n    return 1"])
    completer = Completer(engine, SETTINGS)
    result = await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
    assert result.text == "return n"
    assert "if n < 2:\n<suffix>" in engine.prompts[0]  # not "if n < 2:\n        <suffix>"


async def test_a_generation_stopped_by_the_time_budget_is_cut_to_whole_lines_even_if_it_says_stop() -> (
    None
):
    answer = "total = 0\n        total += fib(n - 1) and more and more" + " x" * 400
    engine = RecordedEngine(
        [answer]
    )  # stopped by its caller, it reports "stop", as the engine does
    completer = Completer(engine, CompleterSettings(0, 4096, 512, 128))
    result = await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
    assert result.text == "total = 0"


async def test_when_a_suggestion_parses_worse_its_first_line_alone_may_be_shown() -> None:
    engine = RecordedEngine(
        ["return n\n        if (x"]
    )  # its second line opens what nothing closes
    completer = Completer(engine, SETTINGS)
    result = await completer.complete(doc_of(SOURCE), CURSOR, "fib.py")
    assert (result.text, result.reason) == ("return n", "")


async def test_a_line_is_never_cut_short_by_the_time_budget() -> None:
    """The budget runs out inside the only line: the line is finished (`/ 100`, not `/ 1`)."""
    source = "def to_cents(x):\n    return \n"
    engine = RecordedEngine(["round(x * 100) / 100\n\n\ndef other():\n    pass\n"])
    completer = Completer(engine, CompleterSettings(0, 4096, 512, 128))
    result = await completer.complete(doc_of(source), source.index("return ") + 7, "fib.py")
    assert result.text == "round(x * 100) / 100"


async def test_a_line_the_token_limit_cuts_is_not_shown() -> None:
    source = "def to_cents(x):\n    return \n"
    engine = RecordedEngine(["round(x * 100) / 100\n"])
    completer = Completer(engine, CompleterSettings(500, 3, 512, 128))  # 12 characters
    result = await completer.complete(doc_of(source), source.index("return ") + 7, "fib.py")
    assert (result.text, result.reason) == ("", "cut short before its first line ended")


async def test_warming_evaluates_what_comes_before_the_line_once() -> None:
    """The warm-up is the completion prompt up to the cursor's line (other files, the prefix
    to the line's start), once; the completion then sends the same start."""
    engine = RecordedEngine(["x", "return n"])
    completer = Completer(engine, SETTINGS)
    typed = SOURCE[:CURSOR] + "ret" + SOURCE[CURSOR:]
    assert await completer.warm(doc_of(typed), CURSOR + 3, "fib.py")
    assert not await completer.warm(doc_of(typed), CURSOR + 3, "fib.py")  # done already
    await completer.complete(doc_of(typed), CURSOR + 3, "fib.py")
    warm, fill = engine.prompts
    start = warm.split("<suffix>")[0]
    assert start.endswith("if n < 2:\n") and fill.startswith(start)
    assert engine.params[0].max_tokens == 1


async def test_the_suggestion_after_an_accepted_one_is_ready_ahead() -> None:
    """When a suggestion is shown, the one that follows its acceptance is computed in the
    background; accepting it then is answered from memory."""
    source = "def total(xs):\n    \n"
    cursor = source.index("    \n") + 4
    engine = RecordedEngine(["result = 0", "\n    return result"])
    completer = Completer(engine, SETTINGS)
    shown = await completer.complete(doc_of(source), cursor, "fib.py")
    assert shown.text == "result = 0"
    await completer.follow(doc_of(source), cursor, shown.text, "fib.py")
    accepted = source[:cursor] + shown.text + source[cursor:]
    after = await completer.complete(doc_of(accepted, version=2), cursor + 10, "fib.py")
    assert (after.source, after.text) == ("cache", "\n    return result")
    assert len(engine.prompts) == 2
