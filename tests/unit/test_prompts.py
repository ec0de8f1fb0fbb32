"""Prompt text per task and audience, for chat-tuned and base models."""

from __future__ import annotations

import pytest

from chmocoder.assist.prompts import AUDIENCE_GUIDE, edit_prompt, explain_prompt
from chmocoder.engine.types import ChatMessage

MATERIAL = "File: a.py (python)\n\nFunction `f` (lines 1-2):\ndef f(x):\n    return x\n"


@pytest.mark.parametrize(
    ("audience", "expected", "absent"),
    [
        ("beginner", ["explain every technical term", "worked example"], ["terse"]),
        ("intermediate", ["inputs and outputs", "side effects"], ["worked example", "terse"]),
        ("expert", ["terse", "edge cases"], ["worked example", "explain every technical term"]),
    ],
)
def test_chat_explain_prompt_per_audience(
    audience: str, expected: list[str], absent: list[str]
) -> None:
    prompt, lead, stop = explain_prompt(MATERIAL, "function", "f", audience).build(chat=True)  # type: ignore[arg-type]
    assert isinstance(prompt, list) and [m.role for m in prompt] == ["system", "user"]
    system, user = prompt[0].content, prompt[1].content
    for text in expected:
        assert text in system
    for text in absent:
        assert text not in system
    assert user.startswith(MATERIAL) and user.rstrip().endswith("Explain the function `f`.")
    assert lead == "" and stop == ()


@pytest.mark.parametrize(
    ("audience", "lead"),
    [
        (
            "beginner",
            "Explanation for a beginner, with terms explained and a worked example: The function `f`",
        ),
        ("intermediate", "Explanation: The function `f`"),
        ("expert", "Explanation for an expert, in one or two sentences: The function `f`"),
    ],
)
def test_base_model_explain_prompt_ends_in_a_lead(audience: str, lead: str) -> None:
    prompt, visible, stop = explain_prompt(MATERIAL, "function", "f", audience).build(chat=False)  # type: ignore[arg-type]
    assert isinstance(prompt, str)
    assert prompt.startswith(MATERIAL) and prompt.endswith(lead)
    assert visible == lead and "\n\n\n" in stop


def test_stable_text_comes_first() -> None:
    """Two requests about the same code share their prefix (KV cache reuse)."""
    a, _, _ = explain_prompt(MATERIAL, "function", "f", "expert").build(chat=False)
    b, _, _ = edit_prompt(MATERIAL, "python", "def f(x):", "fix", "expert").build(chat=False)
    assert isinstance(a, str) and isinstance(b, str)
    assert a[: len(MATERIAL)] == b[: len(MATERIAL)] == MATERIAL


def test_focus_on_the_identifier() -> None:
    prompt, _, _ = explain_prompt(MATERIAL, "function", "f", "intermediate", focus="x").build(
        chat=True
    )
    assert isinstance(prompt[1], ChatMessage) and "Pay attention to `x`." in prompt[1].content  # type: ignore[index]


def test_edit_prompt_asks_for_one_block_of_the_target() -> None:
    prompt, lead, stop = edit_prompt(
        MATERIAL, "python", "def f(x):\n    return x", "docstring", "expert"
    ).build(chat=False)
    assert isinstance(prompt, str) and "Target code:\n```python\ndef f(x):" in prompt
    assert lead.endswith("```python\n") and stop == ("```",)


def test_fix_prompt_gives_the_evidence_and_asks_for_a_diagnosis() -> None:
    prompt, _, _ = edit_prompt(
        MATERIAL,
        "python",
        "def f(x):\n    return x",
        "fix",
        "intermediate",
        problems=("line 2: returns the input unchanged",),
        cursor="    return x",
        callers=("y = f(3)",),
    ).build(chat=True)
    assert isinstance(prompt, list)
    system, user = prompt[0].content, prompt[1].content
    assert "`Problem: `" in system and "doc comment" in system and "one ```python block" in system
    assert "Known problems:\n- line 2: returns the input unchanged" in user
    assert "It is called like this:\ny = f(3)" in user
    assert "The user's cursor is on this line, where they suspect the bug: `return x`" in user
    assert user.rstrip().endswith("```")  # the target comes last


def test_audience_guides_differ() -> None:
    assert len(set(AUDIENCE_GUIDE.values())) == 3
