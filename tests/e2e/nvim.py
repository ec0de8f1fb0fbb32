"""Running a Lua script in a real headless Neovim against the real server (shared by the Neovim tests)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..conftest import REPO

NVIM = shutil.which("nvim")
requires_nvim = pytest.mark.skipif(
    NVIM is None and not os.environ.get("CHMOCODER_REQUIRE_E2E"),  # CI sets it: there it must run
    reason="Neovim is not installed (.ci/run installs Debian's neovim)",
)


def nvim_env(tmp_path: Path, tiny_model: Path, **extra: str) -> dict[str, str]:
    """The environment the scripts read: server command, settings on the tiny model, output file."""
    settings = {"model": str(tiny_model), "nCtx": 2048, "nThreads": 1, "maxTokens": 24, "daemonIdleS": 5,
                "cacheDir": str(tmp_path / "cache"), "review": {"mode": "off"}}  # fmt: skip
    return {
        **os.environ,
        "CHMO_OUT": str(tmp_path / "result.json"),
        "CHMO_ROOT": str(tmp_path),
        "CHMO_PLUGIN": str(REPO / "neovim"),
        "CHMO_CMD": json.dumps([sys.executable, "-m", "chmocoder", "serve"]),
        "CHMO_INIT": json.dumps(settings),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        **extra,
    }


def run_script(script: str, env: dict[str, str]) -> dict[str, Any]:
    """Run tests/e2e/SCRIPT headless; return what it wrote to CHMO_OUT (a Lua error fails the test)."""
    assert NVIM is not None, "nvim is required here"
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
            f"luafile {REPO / 'tests/e2e' / script}",
        ],
        env=env,
        timeout=280,
        check=False,
        capture_output=True,
    )
    result: dict[str, Any] = json.loads(Path(env["CHMO_OUT"]).read_text())
    assert "lua_error" not in result, result["lua_error"]
    return result
