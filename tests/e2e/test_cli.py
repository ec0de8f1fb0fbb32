"""The command line, run as users run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.common import FIXTURES, run_cli

SAMPLE = FIXTURES / "languages" / "sample.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args)


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("chmocoder ")


def test_context_text_output() -> None:
    result = run("context", f"{SAMPLE}:18:13", "--no-index")
    assert result.returncode == 0, result.stderr
    assert "Method `area` (lines 16-19)" in result.stdout
    assert "Cursor: line 18, on `clamp`" in result.stdout
    assert "def clamp(value, low, high):" in result.stdout


def test_context_json_output() -> None:
    result = run("context", f"{SAMPLE}:18", "--json", "--budget", "200")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["definition"]["name"] == "area"
    assert data["parents"][0]["name"] == "Circle"
    assert data["token_count"] <= 200
    assert data["rendered"].startswith("File: ")


def test_context_with_the_doc_comment_as_an_explanation_sees_it(tmp_path: Path) -> None:
    source = tmp_path / "kv.rs"
    source.write_text(
        "/// The last value.\nfn last(v: &[i32]) -> Option<i32> {\n    v.last().copied()\n}\n"
    )
    plain = run("context", f"{source}:3", "--no-index")
    shown = run("context", f"{source}:3", "--no-index", "--doc-comment")
    assert plain.returncode == shown.returncode == 0, plain.stderr + shown.stderr
    assert "Function `last` (lines 2-4):\nfn last" in plain.stdout
    assert "Function `last` (lines 1-4):\n/// The last value.\nfn last" in shown.stdout


def test_context_uses_workspace_index(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "lib.py").write_text("def far_helper(x):\n    '''Do far things.'''\n    return x\n")
    main = tmp_path / "main.py"
    main.write_text("def run():\n    return far_helper(2)\n")
    result = run("context", f"{main}:2", "--json")
    data = json.loads(result.stdout)
    assert [(r["name"], r["origin"]) for r in data["references"]] == [("far_helper", "lib.py")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["context", "nope.py"], "expected FILE:LINE"),
        (["context", "missing.py:3"], "No such file"),
        (["context", f"{SAMPLE}:0"], "1-based"),
        (["context", f"{SAMPLE}:3", "--budget", "5"], "too small"),
    ],
)
def test_context_errors(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_doctor_lists_every_grammar() -> None:
    result = run("doctor")
    assert result.returncode == 0, result.stdout
    for language in ("python", "tsx", "c_sharp", "lua"):
        assert f"ok       {language}" in result.stdout
    assert "  python        ok       compile() (built in)" in result.stdout
    assert "  c             ok       " in result.stdout  # the C compiler set-up needs


def test_model_info_and_errors(tiny_model: Path, tmp_path: Path) -> None:
    result = run("model", "info", str(tiny_model))
    assert result.returncode == 0, result.stderr
    assert "architecture  llama" in result.stdout and "context       8192 tokens" in result.stdout
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"<html>not a model</html>")
    bad = run("model", "info", str(junk))
    assert bad.returncode == 1 and "junk.gguf: not a GGUF file" in bad.stderr
    assert run("model", "pull", "llama3").returncode == 2


def test_model_pull_assembles_an_installed_model_into_the_cache(tmp_path: Path) -> None:
    """gemma3-270m is installed with the test command; the default model need not be."""
    env = {**__import__("os").environ, "CHMOCODER_CACHE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "chmocoder", "model", "pull", "gemma3-270m"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.parent == tmp_path / "models" and path.stat().st_size > 200_000_000
    assert "ready (from the installed packages)" in result.stderr
