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
