"""The `fix.check` setting over stdio, real runtime on the tiny model: the user's check runs
in a copy of the workspace folder when a Fix action is resolved (checks.py)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from ..support.common import code_actions, initialize, model_calls, options

CALC = 'def double(x):\n    """Twice x."""\n    return x + 3\n'
CHECK = """import os, sys
with open(sys.argv[1], "a") as seen:
    seen.write(os.getcwd() + "\\n")
from calc import double
got = double(2)
print(f"double(2) returned {got}, expected 4")
sys.exit(0 if got == 4 else 1)
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    (root / "check.py").write_text(CHECK)
    return root


@pytest.fixture
async def client(lsp: LanguageClient, workspace: Path, tiny_model: Path) -> LanguageClient:
    init = options(tiny_model, lsp.cache, logPrompts=True)  # type: ignore[attr-defined]
    return await initialize(lsp, workspace, init)  # type: ignore[no-any-return]


async def resolve_fix(
    client: LanguageClient, workspace: Path, tiny_model: Path, check: str
) -> types.CodeAction:
    """The Fix action at `return x + 3`, resolved with `fix.check` set to `check`."""
    settings = options(tiny_model, client.cache, logPrompts=True)  # type: ignore[attr-defined]
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams({**settings, "fix": {"check": check}})
    )
    uri = (workspace / "calc.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=CALC)
        )
    )
    at = types.Range(types.Position(2, 12), types.Position(2, 12))
    actions = await code_actions(client, uri, at)
    fix = next(
        a
        for a in actions
        if isinstance(a, types.CodeAction) and a.title.startswith("ChMOCoder: Fix")
    )
    return await client.code_action_resolve_async(fix)


def fix_prompts(client: LanguageClient) -> list[str]:
    return [m.message for m in client.log_messages if "task=fix" in m.message]


async def test_a_failing_check_runs_in_a_copy_and_its_output_is_told_to_the_fix(
    client: LanguageClient, workspace: Path, tmp_path: Path, tiny_model: Path
) -> None:
    """The check fails on the file as it is: it ran in a copy of the workspace (removed
    after), the file itself untouched, and what it printed is in the second round's prompt
    (the tiny model's candidates are noise, so six are drawn and none is offered)."""
    seen = tmp_path / "seen.txt"
    check = shlex.join([sys.executable, "check.py", str(seen)])
    resolved = await resolve_fix(client, workspace, tiny_model, check)
    assert resolved.edit is None and resolved.disabled is not None
    copies = seen.read_text().split()
    assert copies and all(Path(c) != workspace and not Path(c).exists() for c in copies)
    assert (workspace / "calc.py").read_text() == CALC
    # the Fix action starts at the definition's first line: its odds first (the line to
    # start from), then the candidates
    assert [task for task, _ in model_calls(client, 7)] == ["fix"] * 7
    prompts = fix_prompts(client)
    assert "A test fails; it printed:\\ndouble(2) returned 5, expected 4" in prompts[-1]
    assert "A test fails" not in prompts[0]


async def test_a_passing_check_guards_the_fix_without_a_second_round(
    client: LanguageClient, workspace: Path, tmp_path: Path, tiny_model: Path
) -> None:
    (workspace / "check.py").write_text("import sys\nsys.exit(0)\n")
    resolved = await resolve_fix(
        client, workspace, tiny_model, shlex.join([sys.executable, "check.py"])
    )
    assert resolved.edit is None and resolved.disabled is not None
    assert [task for task, _ in model_calls(client, 4)] == ["fix"] * 4  # the odds, 3 candidates
    assert not any("A test fails" in p for p in fix_prompts(client))


async def test_a_check_that_cannot_run_disables_the_fix_with_the_reason(
    client: LanguageClient, workspace: Path, tiny_model: Path
) -> None:
    resolved = await resolve_fix(client, workspace, tiny_model, "no-such-command-anywhere --x")
    assert resolved.edit is None and resolved.disabled is not None
    assert "fix.check: the command could not run" in resolved.disabled.reason
    assert any("could not run" in m.message for m in client.messages)
    assert model_calls(client) == []  # refused before any model ran
