"""explain / fix / review / ask / stats from the command line, on the real runtime with the tiny model."""

from __future__ import annotations

import os
import subprocess
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
