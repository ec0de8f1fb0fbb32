"""explain / fix / review / ask / stats from the command line, on the real runtime with the tiny model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.common import REPO, run_cli


@pytest.fixture
def env(tiny_model: Path, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CHMOCODER_MODEL": str(tiny_model),
        "CHMOCODER_N_CTX": "2048",
        "CHMOCODER_N_THREADS": "1",
        "CHMOCODER_MAX_TOKENS": "16",
        "CHMOCODER_DAEMON_IDLE_S": "3",
        "CHMOCODER_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env)


def test_explain_prints_facts_then_the_explanation(env: dict[str, str]) -> None:
    result = run(env, "explain", "examples/shapes.py:19", "--no-index")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("**method** `area` in `Circle`")
    assert "def area(self) -> float:" in result.stdout
    assert "The method `area`" in result.stdout  # the base-model lead, then the tiny model's noise
    assert "waiting for the model" not in result.stderr  # no spinner when stderr is not a terminal


def test_fix_prints_a_diff_and_apply_writes_it_with_a_backup(
    env: dict[str, str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text((REPO / "examples" / "broken.py").read_text())
    result = run(env, "fix", f"{broken}:4")
    assert result.returncode == 0, result.stderr
    assert (
        "-    return sum(numbers) / len(numbers\n+    return sum(numbers) / len(numbers)\n"
        in result.stdout
    )
    assert "no model needed" in result.stderr
    assert (
        broken.read_text() == (REPO / "examples" / "broken.py").read_text()
    )  # not applied without --apply
    applied = run(env, "fix", f"{broken}:4", "--apply")
    assert applied.returncode == 0
    assert "len(numbers)\n" in broken.read_text()
    assert (tmp_path / "broken.py.orig").read_text() == (
        REPO / "examples" / "broken.py"
    ).read_text()


def test_fix_that_the_model_gets_wrong_is_refused(env: dict[str, str]) -> None:
    result = run(env, "fix", "examples/shapes.py:19", "--no-index")
    assert result.returncode == 1
    assert "no fix offered:" in result.stderr and result.stdout == ""


def test_review_lists_problems_and_exits_1(env: dict[str, str]) -> None:
    result = run(
        env,
        "review",
        "examples/broken.py",
        "--no-index",
        "--max-tokens",
        "300",
        "--temperature",
        "0",
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert "examples/broken.py:4:30: error: unclosed `(`" in lines
    for line in lines:
        path, row, column, rest = line.split(":", 3)
        assert path == "examples/broken.py" and row.isdigit() and column.isdigit()
        assert rest.split(":")[0].strip() in ("error", "warning", "info")


def test_clean_file_review_with_no_definitions_exits_0(env: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "constants.py"
    empty.write_text("ANSWER = 42\n")
    result = run(env, "review", str(empty), "--no-index")
    assert (result.returncode, result.stdout) == (0, "")


def test_ask_and_stats(env: dict[str, str]) -> None:
    asked = run(env, "ask", "examples/shapes.py:19", "What does area return?", "--no-index")
    assert asked.returncode == 0, asked.stderr and asked.stdout.strip()
    stats = run(env, "stats")
    assert stats.returncode == 0
    header, *rows = stats.stdout.splitlines()
    assert header.split()[:3] == ["task", "calls", "p50"]
    assert any(row.split()[0] == "ask" and row.split()[1] == "1" for row in rows)


def test_missing_model_is_a_clear_error(env: dict[str, str]) -> None:
    result = run(
        {**env, "CHMOCODER_MODEL": "/no/such/model.gguf"},
        "explain",
        "examples/shapes.py:19",
        "--no-index",
    )
    assert result.returncode == 3
    assert "model file /no/such/model.gguf does not exist" in result.stderr


def test_bad_flags(env: dict[str, str]) -> None:
    result = run(env, "explain", "examples/shapes.py:19", "--temperature", "9", "--no-index")
    assert "temperature" in result.stderr  # named, and the default used
    assert run(env, "ask", "examples/shapes.py:19", "  ").returncode == 2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a directory, not a file"),
        (lambda p: p.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00"), "looks like a binary file"),
        (lambda p: p.write_text("x = 1\n"), "line 40 is past the end"),
    ],
)
def test_bad_files_get_their_own_message(
    env: dict[str, str], tmp_path: Path, make, message: str
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "thing.py"
    make(target)
    result = run(env, "explain", f"{target}:40", "--no-index")
    assert result.returncode == 2 and message in result.stderr and result.stdout == ""


def test_complete_prints_the_insertion_and_says_why_there_is_none(
    env: dict[str, str], tiny_fim_model: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping list\n\n- apples\n- ")
    result = run({**env, "CHMOCODER_MODEL": str(tiny_fim_model)}, "complete", f"{notes}:4")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and result.stdout.endswith("\n")
    assert notes.read_text() == "Shopping list\n\n- apples\n- "  # printed, never written
    none = run(env, "complete", f"{notes}:4:3")  # the tiny model has no fill-in-the-middle tokens
    assert none.returncode == 1 and none.stdout == ""
    assert "no completion: chmocoder-tiny-llama cannot fill in the middle" in none.stderr
    bad = run(env, "complete", f"{notes}:99")
    assert bad.returncode == 2 and "past the end" in bad.stderr


def test_fix_errors_reads_a_checkers_output_and_fixes_per_definition(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Two errors in one function are one fix, the other function's its own, worked from the
    file's end up; the tiny model's fixes are noise, so none is offered (exit 1)."""
    code = tmp_path / "calc.py"
    code.write_text(
        "def add(a, b):\n    total = a + b\n    return totl\n\n\ndef neg(x):\n    return -y\n"
    )
    output = tmp_path / "mypy.txt"
    output.write_text(
        f'{code}:2: error: Unsupported operand types for + ("int" and "str")  [operator]\n'
        f'{code}:3: error: Name "totl" is not defined  [name-defined]\n'
        f"{code}(7,13): error TS2304: Cannot find name 'y'.\n"
        "Found 3 errors in 1 file (checked 1 source file)\n"
    )
    result = run(env, "fix", "--errors", str(output), "--no-index")
    assert result.returncode == 1, result.stderr
    said = [line for line in result.stderr.splitlines() if "fixing" in line]
    assert said == [
        f"chmocoder: {code}:7: fixing 1 error",
        f"chmocoder: {code}:2-3: fixing 2 errors",
    ]
    assert result.stderr.count("no fix offered") == 2
    assert code.read_text().endswith("return -y\n")  # nothing written

    nothing = tmp_path / "empty.txt"
    nothing.write_text("All checks passed!\n")
    empty = run(env, "fix", "--errors", str(nothing))
    assert empty.returncode == 2 and "no path:line: message lines" in empty.stderr
    both = run(env, "fix", f"{code}:2", "--errors", str(output))
    assert both.returncode == 2 and "not both" in both.stderr
    unplaced = run(env, "fix", "--errors", str(output), "--check", "mypy --strict")
    assert unplaced.returncode == 2 and "{file}" in unplaced.stderr


def _checked_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project whose test fails because of the bug in its code (examples/broken.py's
    unclosed bracket), run as `python test_stats.py`."""
    root = tmp_path / "proj"
    root.mkdir()
    code = root / "stats.py"
    code.write_text((REPO / "examples" / "broken.py").read_text())
    (root / "test_stats.py").write_text(
        "import stats\nassert stats.average([1, 2, 3]) == 2, 'average is wrong'\n"
    )
    return root, code


def test_fix_check_offers_a_fix_only_when_the_users_test_passes_with_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The parse tree's certain fix of the unclosed bracket makes the test pass: applied.
    A test the fix cannot satisfy refuses it, and the tiny model's candidates too: nothing
    written, the reason said."""
    root, code = _checked_project(tmp_path)
    before = code.read_text()
    test = f"{sys.executable} test_stats.py"
    fixed = run_cli("fix", "stats.py:4", "--check", test, "--apply", "--no-index", env=env,
                    cwd=root)  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr
    assert "no model needed" in fixed.stderr
    assert "len(numbers)\n" in code.read_text() and (root / "stats.py.orig").read_text() == before

    code.write_text(before)
    (root / "test_stats.py").write_text("import stats\nassert stats.median([1, 2]) == 1.5\n")
    refused = run_cli("fix", "stats.py:4", "--check", test, "--apply", "--no-index", env=env,
                      cwd=root)  # fmt: skip
    assert refused.returncode == 1, refused.stderr
    assert "no fix offered" in refused.stderr
    assert code.read_text() == before and refused.stdout == ""


def test_fix_check_refuses_a_check_that_cannot_tell_a_fix(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A test that passes on the buggy file, a command that does not exist, a file outside
    the working folder: each a clear error (exit 2) before any model runs, nothing written."""
    root, code = _checked_project(tmp_path)
    code.write_text("def average(numbers):\n    return sum(numbers) / len(numbers)\n")
    passing = run_cli("fix", "stats.py:2", "--check", f"{sys.executable} test_stats.py",
                      "--no-index", env=env, cwd=root)  # fmt: skip
    assert passing.returncode == 2 and "passes on the file as it is" in passing.stderr
    missing = run_cli("fix", "stats.py:2", "--check", "no-such-test-runner", "--no-index",
                      env=env, cwd=root)  # fmt: skip
    assert missing.returncode == 2 and "could not run" in missing.stderr
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    away = run_cli("fix", f"{code}:2", "--check", "false", "--no-index", env=env,
                   cwd=elsewhere)  # fmt: skip
    assert away.returncode == 2 and "outside it" in away.stderr
    assert code.read_text() == "def average(numbers):\n    return sum(numbers) / len(numbers)\n"


def test_explain_error_explains_what_a_tool_reported(env: dict[str, str]) -> None:
    result = run(env, "explain", "examples/shapes.py:19", "--no-index",
                 "--error", "Missing return statement  [return]")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("This error")  # the base-model lead, then the noise
    assert "**method**" not in result.stdout  # the error is explained, not the method
