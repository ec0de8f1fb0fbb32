"""bench/quality/mutants.py: the benchmark's committed cases stay sound (each mutant still
fails a check with the message it was made with; each correct program passes), and the
split is by program, fixed, about half each (Python, JavaScript and C here; Rust's compile
takes longer and runs with `mutants.py check`)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).parent.parent.parent / "bench" / "quality"


def _mutants():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(BENCH))
    try:
        import mutants
    finally:
        sys.path.remove(str(BENCH))
    return mutants


def test_the_cases_are_sound(capsys) -> None:  # type: ignore[no-untyped-def]
    assert _mutants().check({"python", "javascript", "c"}) == 0, capsys.readouterr().out


def test_the_split_is_by_program_and_near_half() -> None:
    mutants = _mutants()
    cases = mutants.load_cases()
    assert len(cases) >= 150 and len({c["language"] for c in cases}) >= 4
    split_of: dict[str, set[str]] = {}
    for case in cases:
        split_of.setdefault(f"{case['language']}/{case['program']}", set()).add(case["split"])
    assert all(len(splits) == 1 for splits in split_of.values())
    assert mutants._split(mutants.load_programs()) == {
        k: next(iter(v)) for k, v in split_of.items()
    }
    per = Counter(c["split"] for c in cases)
    assert per["test"] >= 0.4 * len(cases) and per["dev"] >= 0.4 * len(cases)


def test_a_mutant_the_checks_catch_says_how(tmp_path: Path) -> None:
    mutants = _mutants()
    program = next(p for p in mutants.load_programs() if p.key == "python/intervals")
    broken = program.code.replace("start <= merged[-1][1]", "start < merged[-1][1]")
    assert mutants.run_checks(program, program.code) == ("pass", "")
    status, message = mutants.run_checks(program, broken)
    assert status == "fail" and message.startswith(
        "merge([[1, 4], [4, 5]]) returned [[1, 4], [4, 5]]"
    )


def _assert_sound(rubrics: list[dict], facts: str) -> None:  # type: ignore[type-arg]
    """Each rubric is on a definition of its program; every pattern compiles, and none of its
    `facts` (the keys named) is stated by an answer that says nothing or only repeats the
    rubric's question, nor an unsupported claim by the question."""
    import re

    from chmocoder.analysis.symbols import definitions

    programs = {p.key: p for p in _mutants().load_programs()}
    empty = "It does what its name says."
    for rubric in rubrics:
        program = programs[rubric["program"]]
        assert rubric["function"] in {d.name for d in definitions(program.document())}, rubric
        question = rubric.get("question", "")
        for fact in (f for key in facts.split() for f in rubric.get(key, [])):
            for said in (empty, question) if question else (empty,):
                assert not any(re.search(rx, said, re.IGNORECASE) for rx in fact), (rubric, fact)
        for rx in rubric.get("unsupported", []):
            assert not (question and re.search(rx, question, re.IGNORECASE)), (rubric, rx)


def test_the_explanation_rubrics_are_sound() -> None:
    """At least 30 rubrics in both splits, facts that live only in a called helper in at least
    10 of them, each sound (_assert_sound)."""
    mutants = _mutants()
    rubrics = mutants.load_rubrics()
    assert len(rubrics) >= 30 and sum(1 for r in rubrics if r.get("helper")) >= 10
    assert len(mutants.load_rubrics("dev")) >= 12 and len(mutants.load_rubrics("test")) >= 12
    _assert_sound(rubrics, "facts helper")


def test_the_questions_are_sound() -> None:
    """Questions on both splits (ask_unseen.toml), each with a question and sound
    (_assert_sound: none of its facts is stated by the question repeated)."""
    mutants = _mutants()
    questions = mutants.load_rubrics(path=mutants.QUESTIONS)
    assert len(mutants.load_rubrics("dev", mutants.QUESTIONS)) >= 20
    assert len(mutants.load_rubrics("test", mutants.QUESTIONS)) >= 20
    assert all(q["question"].strip() for q in questions)
    _assert_sound(questions, "facts")
