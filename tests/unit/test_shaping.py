"""Shaping streamed prose answers: repeats, pasted code, answers cut by their budget."""

from __future__ import annotations

import pytest

from chmocoder.assist.shaping import AnswerShaper, shape

CODE = "def area(self):\n    r = clamp(self.radius, 0.0, 1e9)\n    return math.pi * r * r"


def stream(
    text: str, source: str = "", size: int = 3, complete: bool = True
) -> tuple[str, str, AnswerShaper]:
    shown: list[str] = []
    shaper = AnswerShaper(shown.append, source)
    for i in range(0, len(text), size):
        if shaper(text[i : i + size]) is False:
            break
    final = shaper.finish(complete=complete)
    return "".join(shown), final, shaper


def test_repeated_paragraphs_stop_the_generation_and_are_never_shown() -> None:
    shown, final, shaper = stream("It adds.\n\nIt returns x.\n\nIt  adds.\n\nMore.")
    assert shaper.stopped and final == "It adds.\n\nIt returns x."
    assert "More" not in shown and shown.count("It adds") == 1


def test_a_near_repeat_counts_as_a_repeat() -> None:
    text = (
        "The method computes the area of the circle from its radius.\n\n"
        "The method computes the area of a circle from its radius!\n\nOther."
    )
    _, final, shaper = stream(text)
    assert shaper.stopped and final == "The method computes the area of the circle from its radius."


def test_a_repeated_sentence_inside_a_paragraph_is_cut() -> None:
    text = "It returns the area of the circle. It returns the area of the circle. And so on."
    _, final, _ = stream(text)
    assert final == "It returns the area of the circle."


def test_a_new_paragraph_that_begins_like_an_old_one_is_kept() -> None:
    _, final, shaper = stream("It adds.\n\nIt adds more than that.", size=2)
    assert final == "It adds.\n\nIt adds more than that." and not shaper.stopped


def test_code_pasted_back_is_dropped_other_code_is_kept() -> None:
    text = (
        "It computes the area.\n\n```python\n" + CODE + "\n```\n\nFor example:\n\n"
        "```python\nCircle(2).area()  # 12.57\n```\n\nThat is all."
    )
    shown, final, _ = stream(text, CODE)
    assert "clamp(self.radius" not in shown and "clamp(self.radius" not in final
    assert "Circle(2).area()" in final and final.endswith("That is all.")


def test_an_answer_cut_by_its_budget_ends_on_a_complete_sentence() -> None:
    shown, final, _ = stream(
        "It computes the area. It clamps the radius first, so a negativ", complete=False
    )
    assert final == "It computes the area." and shown == "It computes the area."


def test_unfinished_sentences_are_held_back_while_streaming() -> None:
    shown: list[str] = []
    shaper = AnswerShaper(shown.append)
    shaper("It computes the area. It clamps")
    assert "".join(shown) == "It computes the area."
    shaper(" the radius.\n- one")
    assert "".join(shown) == "It computes the area. It clamps the radius.\n"
    assert shaper.finish(complete=True) == "It computes the area. It clamps the radius.\n- one"


@pytest.mark.parametrize("final", [True, False])
def test_an_unclosed_code_block_is_not_shown(final: bool) -> None:
    text, _ = shape("Example:\n\n```python\nx = 1\n", final=final, complete=False)
    assert "x = 1" not in text
