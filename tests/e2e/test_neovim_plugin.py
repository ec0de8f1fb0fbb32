"""The Neovim plugin (neovim/) in a real headless Neovim against the real server and the tiny model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..support.common import REPO
from .nvim import NVIM, nvim, nvim_env, requires_nvim, run_script

pytestmark = requires_nvim
__all__ = ["nvim"]  # the fixture, used by name


def test_plugin_attaches_hovers_fixes_and_streams_answers(
    tiny_model: Path, tmp_path: Path, nvim: str
) -> None:
    source = tmp_path / "broken.py"
    source.write_text((REPO / "examples" / "broken.py").read_text())
    result = run_script(
        "nvim_plugin.lua", nvim_env(tmp_path, tiny_model, CHMO_FILE=str(source)), nvim
    )
    assert result["bad_setup"] is False
    assert any(
        '`answer_window` must be "float" or "split"' in n["message"]
        for n in result["notifications"]
    )
    assert result["setup"] is True and result["attached"] is True
    assert result["hover"].startswith("**function** `average`") and "\n---\n" in result["hover"]
    assert result["fixed"] is True, result
    assert result["applied"] == "ChMOCoder: Close `(` at the end of line 4"
    assert result["answered"] is True, result["answer"]
    assert result["answer"].startswith("# Q: What does this return for an empty list?\n\n")
    assert result["answer_updates"] >= 1 and result["answer_filetype"] == "markdown"
    assert result["windows"] == 2  # the answer opened in a split ("answer_window": "split")
    assert result["explained"] is True and result["explanation"].startswith("# Explain")


def test_checkhealth_reports_server_runtimes_and_model(
    tiny_model: Path, tmp_path: Path, nvim: str
) -> None:
    report = run_script("nvim_health.lua", nvim_env(tmp_path, tiny_model), nvim)["report"]
    assert "ChMOCoder" in report
    assert "server command:" in report
    assert (
        "llama-cpp" in report and "ok       python" in report
    )  # runtimes and grammars from doctor
    assert "qwen2.5-coder-1.5b" in report and "gemma3-270m" in report  # the catalogue
    assert "chmocoder doctor: runtime, grammars and model checked" in report
    assert "inline completion: " in report and "accept with <M-l>" in report


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_hover_screenshot_in_a_terminal(tiny_model: Path, tmp_path: Path) -> None:
    """A real (not headless) Neovim in tmux shows the hover; the screen is saved as the test's output."""
    settings = {"model": str(tiny_model), "nCtx": 2048, "maxTokens": 24, "daemonIdleS": 5,
                "cacheDir": str(tmp_path / "cache"), "review": {"mode": "off"}}  # fmt: skip
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "CHMO_NVIM": NVIM or "nvim",
    }
    screen = subprocess.run(
        [str(REPO / "tests/e2e/nvim_screenshot.sh"), str(REPO / "examples/shapes.py"), "19", "8", "8",
         json.dumps(settings), json.dumps([sys.executable, "-m", "chmocoder", "serve"])],
        capture_output=True, text=True, timeout=120, env=env, check=True,
    ).stdout  # fmt: skip
    (tmp_path / "neovim-hover.txt").write_text(screen)
    assert "def area(self) -> float:" in screen  # the file
    assert (
        "method" in screen and "area" in screen and "in `Circle`" in screen
    ) or "Circle" in screen
    assert "─" in screen or "│" in screen or "---" in screen  # the hover window


def test_vim_lsp_enable_with_the_shipped_config(tiny_model: Path, tmp_path: Path) -> None:
    """Neovim 0.11's vim.lsp.enable("chmocoder") finds lsp/chmocoder.lua on the runtimepath."""
    from .nvim import NEOVIMS, REQUIRED

    binary = NEOVIMS.get("nvim-0.11")
    if binary is None:
        if REQUIRED:
            pytest.fail("Neovim 0.11 is required here and missing")
        pytest.skip("Neovim 0.11 is not installed")
    source = tmp_path / "broken.py"
    source.write_text((REPO / "examples" / "broken.py").read_text())
    env = nvim_env(tmp_path, tiny_model, CHMO_FILE=str(source))
    result = run_script("nvim_enable.lua", env, binary)
    assert result["attached"] is True and "python" in result["filetypes"]
    assert result["panel"] is True  # the shipped config declares the answer panel
    assert result["hover"].startswith("**function** `average`") and "\n---\n" in result["hover"]
    assert result["diagnosed"] is True  # the unclosed `(` on line 4


def test_inline_completion_as_virtual_text_accepted_with_its_key(
    tiny_fim_model: Path, tmp_path: Path, nvim: str
) -> None:
    source = tmp_path / "area.py"
    source.write_text("x = 1\nunit_area = \n")
    env = nvim_env(tmp_path, tiny_fim_model, CHMO_FILE=str(source))
    result = run_script("nvim_inline.lua", env, nvim)
    assert result["bad_inline"] is False and result["setup"] is True and result["attached"]
    assert result["mapped"]  # <M-l> in Insert mode
    assert result["shown"] is True, result
    suggestion = result["suggestion"]
    assert suggestion.strip() and result["virtual"] == suggestion.split("\n")[0]
    assert result["mark_at"] == [1, 12]  # right after the cursor
    assert result["cleared"] is True  # any change clears it
    assert result["rest"] == suggestion[1:]  # typing through: the rest, from the server's memory
    assert result["line"] == "unit_area = " + suggestion  # accepted
    assert result["cursor"] == [2, 12 + len(suggestion)] and result["after_accept"] is None
