"""A real headless Neovim (Debian's 0.7) attaches the server to a buffer, hovers, and applies a Fix."""

from __future__ import annotations

from pathlib import Path

from ..support.common import REPO
from .nvim import nvim, nvim_env, requires_nvim, run_script

pytestmark = requires_nvim
__all__ = ["nvim"]  # the fixture, used by name


def test_neovim_attaches_hovers_and_applies_a_fix(
    tiny_model: Path, tmp_path: Path, nvim: str
) -> None:
    source = tmp_path / "broken.py"
    source.write_text((REPO / "examples" / "broken.py").read_text())
    result = run_script(
        "nvim_hover_fix.lua", nvim_env(tmp_path, tiny_model, CHMO_FILE=str(source)), nvim
    )
    assert result["attached"] is True
    # with the `(` on line 4 unclosed, tree-sitter's recovery makes `average` run to the end
    assert result["hover"].startswith("**function** `average`"), result

    assert "\n\n---\n\n" in result["hover"]  # facts, then the model's explanation
    assert result["diagnosed"] is True and result["line_diagnostics"] >= 1
    assert "ChMOCoder: Close `(` at the end of line 4" in result["titles"]
    assert result["applied"] == "ChMOCoder: Close `(` at the end of line 4"
    assert result["line4"] == "    return sum(numbers) / len(numbers)"
