"""The suite's own fixtures: a test that fails before it initializes the server ends (fails)
instead of waiting for ever for a server nobody told to exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parent.parent.parent


def test_a_test_that_fails_before_initialize_ends(tmp_path: Path) -> None:
    failing = tmp_path / "test_fails_first.py"
    failing.write_text(
        "async def test_fails_before_initialize(lsp):\n    raise TypeError('boom')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-c", str(REPO / "pyproject.toml"), "-p", "tests.conftest", "-p", "no:cacheprovider",
         "--rootdir", str(REPO), str(failing)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:]
    assert "1 failed" in done.stdout and "TypeError: boom" in done.stdout
