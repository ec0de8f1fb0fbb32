"""A real headless Neovim (Debian's 0.7) attaches the server to a buffer, hovers, and applies a Fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(
    NVIM is None and not os.environ.get("CHMOCODER_REQUIRE_E2E"),  # CI sets it: there it must run
    reason="Neovim is not installed (.ci/run installs Debian's neovim)",
)


def test_neovim_attaches_hovers_and_applies_a_fix(tiny_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "broken.py"
    source.write_text((REPO / "examples" / "broken.py").read_text())
    result_file = tmp_path / "result.json"
    env = {
        **os.environ,
        "CHMO_FILE": str(source),
        "CHMO_ROOT": str(tmp_path),
        "CHMO_OUT": str(result_file),
        "CHMO_CMD": json.dumps([sys.executable, "-m", "chmocoder", "serve"]),
        "CHMO_INIT": json.dumps(
            {
                "model": str(tiny_model),
                "nCtx": 2048,
                "nThreads": 1,
                "maxTokens": 24,
                "daemonIdleS": 5,
                "cacheDir": str(tmp_path / "cache"),
                "review": {"mode": "off"},
            }
        ),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }
    assert NVIM is not None
    subprocess.run(
        [
            NVIM,
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-n",
            "-c",
            f"luafile {REPO / 'tests/e2e/nvim_hover_fix.lua'}",
        ],
        env=env,
        timeout=240,
        check=False,
        capture_output=True,
    )
    result = json.loads(result_file.read_text())
    assert "lua_error" not in result, result["lua_error"]
    assert result["attached"] is True
    # with the `(` on line 4 unclosed, tree-sitter's recovery makes `average` run to the end
    assert result["hover"].startswith("**function** `average`"), result

    assert "\n\n---\n\n" in result["hover"]  # facts, then the model's explanation
    assert result["diagnosed"] is True and result["line_diagnostics"] >= 1
    assert "ChMOCoder: Close `(` at the end of line 4" in result["titles"]
    assert result["applied"] == "ChMOCoder: Close `(` at the end of line 4"
    assert result["line4"] == "    return sum(numbers) / len(numbers)"
