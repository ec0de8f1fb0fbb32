"""Every language-server feature over stdio, real runtime on the tiny model, Neovim's and VS Code's
client capabilities."""

from __future__ import annotations

import ast
import asyncio
import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from ..support.common import model_calls, options, wait_for_diagnostics

CLIENTS = ["neovim", "visual-studio-code"]

MAIN = """def clamp(value, low, high):
    return max(low, min(value, high))


def area(radius):
    r = clamp(radius, 0, 100)
    return 3.14 * r * r


class Shape:
    def scaled(self, factor):
        return area(factor)
"""
BROKEN_C = "int f(void) {\n    int x = 1\n    return x;\n}\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("features")
    (root / "main.py").write_text(MAIN)
    (root / "broken.c").write_text(BROKEN_C)
    return root


@pytest.fixture(params=CLIENTS)
async def client(
    request: pytest.FixtureRequest,
    lsp: LanguageClient,
    workspace: Path,
    tiny_model: Path,
) -> LanguageClient:
    capabilities = client_capabilities(request.param)
    capabilities.experimental = {"chmocoder": {"markdownPanel": True}}
    await lsp.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=workspace.as_uri(),
            initialization_options=options(tiny_model, lsp.cache),  # type: ignore[attr-defined]
        )
    )
    return lsp


def open_doc(client: LanguageClient, path: Path, language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=path.read_text()
            )
        )
    )
    return uri


def hover_text(hover: types.Hover | None) -> str:
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


async def test_hover_shows_facts_then_the_explanation(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "main.py")
    position = types.Position(line=5, character=9)  # `clamp` in area()
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri), position=position)
    )
    text = hover_text(hover)
    facts, _, explanation = text.partition("\n\n---\n\n")
    assert facts.startswith("**function** `area`") and "def area(radius):" in facts
    assert explanation.strip() and "still writing" not in explanation
    assert hover is not None and hover.range is not None and hover.range.start.line == 4
    again = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri), position=position)
    )
    assert hover_text(again) == text
    assert model_calls(client, 1) == [("explain", 0)]  # the second hover was answered from memory


async def test_hover_outside_definitions_and_unknown_documents(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "main.py")
    blank = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri), position=types.Position(2, 0)
        )
    )
    assert blank is None
    unknown = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier("file:///nowhere.py"),
            position=types.Position(0, 0),
        )
    )
    assert unknown is None
    past_end = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri), position=types.Position(999, 999)
        )
    )
    assert past_end is None or hover_text(past_end)


async def test_slow_hover_returns_facts_and_the_next_one_the_explanation(
    client: LanguageClient, workspace: Path, tiny_model: Path
) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings=options(tiny_model, client.cache, maxTokens=3000, hover={"timeoutMs": 10})  # type: ignore[attr-defined]
        )
    )
    uri = open_doc(client, workspace / "main.py")
    position = types.Position(line=11, character=10)  # in Shape.scaled
    params = types.HoverParams(text_document=types.TextDocumentIdentifier(uri), position=position)
    first = hover_text(await client.text_document_hover_async(params))
    assert "still writing the explanation" in first and "`scaled`" in first
    for _ in range(200):
        await asyncio.sleep(0.1)
        if ("explain", 0) in model_calls(client):
            break
    later = hover_text(await client.text_document_hover_async(params))
    assert "still writing" not in later and later.startswith(first.split("\n\n---")[0])
    assert model_calls(client, 1) == [
        ("explain", 0)
    ]  # the generation went on; the next hover had it


async def test_edit_cancels_the_work_in_progress(
    client: LanguageClient, workspace: Path, tiny_model: Path
) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings=options(tiny_model, client.cache, maxTokens=6000)
        )  # type: ignore[attr-defined]
    )
    uri = open_doc(client, workspace / "main.py")
    asking = asyncio.ensure_future(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="chmocoder.ask", arguments=[uri, None, "Tell me everything."]
            )
        )
    )
    for _ in range(500):  # wait until the model is writing (shown text waits for sentences)
        await asyncio.sleep(0.02)
        if any(
            getattr(r, "message", "") and "tokens" in r.message
            for reports in client.progress_reports.values()
            for r in reports
        ):
            break
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
                    text="# edited\n",
                )
            ],
        )
    )
    answer = await asyncio.wait_for(asking, 30)
    assert "document changed" in answer["markdown"]
    model_calls(client, 1)  # statistics are written in the background: wait for the row
    with sqlite3.connect(client.cache / "stats.sqlite3") as db:  # type: ignore[attr-defined]
        task, cancelled, tokens = db.execute(
            "SELECT task, cancelled, completion_tokens FROM calls"
        ).fetchone()

    assert (task, cancelled) == ("ask", 1) and tokens < 6000


async def test_code_actions_are_instant_and_syntax_fix_needs_no_model(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "broken.c", "c")
    diagnostics = await wait_for_diagnostics(client, uri, 1)
    missing = [d for d in diagnostics if d.message == "missing `;`"]
    assert missing, diagnostics
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=missing[0].range,
            context=types.CodeActionContext(diagnostics=missing),
        )
    )
    assert actions is not None
    # (lsprotocol's client-side converter reads a CodeAction carrying a command as a Command)
    titles = [a.title for a in actions]

    assert titles[0] == "ChMOCoder: Insert missing `;`"
    assert "ChMOCoder: Explain `f`" in titles and "ChMOCoder: Add docstring to `f`" in titles
    instant = actions[0]
    assert isinstance(instant, types.CodeAction) and instant.edit is not None
    edits = instant.edit.document_changes or []
    text_edit = edits[0].edits[0] if edits else instant.edit.changes[uri][0]  # type: ignore[index, union-attr]
    assert text_edit.new_text == ";" and text_edit.range.start == types.Position(1, 13)
    for action in actions[1:]:
        assert getattr(action, "edit", None) is None  # the model runs on resolve

    assert model_calls(client) == []


async def test_resolve_runs_the_model_and_rejects_a_broken_edit(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "main.py")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(start=types.Position(1, 4), end=types.Position(1, 4)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions is not None
    simplify = next(
        a
        for a in actions
        if isinstance(a, types.CodeAction) and a.title.startswith("ChMOCoder: Simplify")
    )
    resolved = await client.code_action_resolve_async(simplify)
    assert resolved.edit is None  # the tiny model writes noise: it does not parse
    assert resolved.disabled is not None and resolved.disabled.reason
    assert any("was not applied" in m.message for m in client.messages)
    # three candidates (each rejected: noise), then the reason
    assert [task for task, _ in model_calls(client, 3)] == ["simplify"] * 3


async def test_review_calls_the_model_only_for_changed_definitions(
    client: LanguageClient, workspace: Path, tiny_model: Path
) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings=options(tiny_model, client.cache, maxTokens=700, temperature=0.0)
        )  # type: ignore[attr-defined]
    )
    uri = open_doc(client, workspace / "main.py")
    first = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="chmocoder.review", arguments=[{"uri": uri}])
    )
    assert (
        first["modelCalls"] == 3
    )  # clamp, area, Shape.scaled (the class is reviewed through its method)
    again = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="chmocoder.review", arguments=[{"uri": uri}])
    )
    assert again["modelCalls"] == 0
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(6, 11), end=types.Position(6, 15)),
                    text="3.14159",
                )
            ],
        )
    )
    third = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="chmocoder.review", arguments=[{"uri": uri}])
    )
    assert third["modelCalls"] == 1  # only area() changed
    diagnostics = await wait_for_diagnostics(client, uri, 2)
    reviews = [d for d in diagnostics if d.code == "review"]
    assert len(reviews) == third["findings"]
    for d in reviews:
        assert d.source == "chmocoder" and d.message


async def test_review_on_save(client: LanguageClient, workspace: Path, tiny_model: Path) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings=options(
                tiny_model, client.cache, maxTokens=700, temperature=0.0, review={"mode": "onSave"}
            )  # type: ignore[attr-defined]
        )
    )
    uri = open_doc(client, workspace / "main.py")
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri))
    )
    reviews = await _reviewed(client, uri)
    assert reviews >= 3  # a sample per definition at least (stopped once no line can agree)
    assert [t for t, _ in model_calls(client, at_least=reviews)].count("review") == reviews
    await wait_for_diagnostics(client, uri, 1)  # published (pushed or pulled) once it was over
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri))
    )
    assert await _reviewed(client, uri, after=1) == 0  # nothing changed: no new calls
    assert [t for t, _ in model_calls(client)].count("review") == reviews


async def _reviewed(client: LanguageClient, uri: str, after: int = 0) -> int:
    """The model calls of the document's review number `after` + 1, once the server says it
    is over (its log line)."""
    said = f"review of {uri}: "
    for _ in range(1200):
        done = [m.message for m in client.log_messages if said in m.message]
        if len(done) > after:
            return int(done[after].split(said, 1)[1].split(" model calls", 1)[0])
        await asyncio.sleep(0.05)
    raise AssertionError(f"review {after + 1} of {uri} did not finish")


async def test_ask_streams_keeps_the_conversation_and_forgets_it(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "main.py")
    selection = {"start": {"line": 4, "character": 0}, "end": {"line": 6, "character": 0}}
    first = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="chmocoder.ask",
            arguments=[{"uri": uri, "range": selection, "question": "What is r?"}],
        )
    )
    assert first["markdown"] and first["turn"] == 1
    states = [m.state for m in client.status]  # type: ignore[attr-defined]
    assert states[:2] == ["loading", "ready"]  # the first request loaded the model
    assert client.status[1].tokensPerSecond > 0  # type: ignore[attr-defined]
    streamed = [m for m in client.markdown if m.id == first["id"]]  # type: ignore[attr-defined]
    assert streamed[-1].done is True and streamed[-1].markdown == first["markdown"]

    follow = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="chmocoder.ask", arguments=[uri, selection, "And why 100?"]
        )
    )
    assert follow["turn"] == 2
    cleared = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="chmocoder.clearHistory", arguments=[{"uri": uri}])
    )
    assert cleared == {"removed": 2}
    third = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="chmocoder.ask", arguments=[uri, selection, "What is r?"]
        )
    )
    assert third["turn"] == 1


async def test_bad_command_arguments_are_invalid_params(
    client: LanguageClient, workspace: Path
) -> None:
    uri = open_doc(client, workspace / "main.py")
    for arguments in (
        [{"uri": uri}],
        [{"question": "x"}],
        [{"uri": "file:///closed.py", "question": "x"}],
    ):
        with pytest.raises(Exception, match=r"question|uri|not open"):
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="chmocoder.ask", arguments=arguments)
            )
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri), position=types.Position(1, 10)
        )
    )
    assert hover is not None  # and the server goes on


async def test_changing_the_model_takes_effect_without_restart(
    client: LanguageClient, workspace: Path, tiny_model: Path
) -> None:
    uri = open_doc(client, workspace / "main.py")
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(1, 10)
    )
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={**options(tiny_model, client.cache), "model": "/nonexistent/model.gguf"}  # type: ignore[attr-defined]
        )
    )
    broken = hover_text(await client.text_document_hover_async(params))
    assert "No explanation" in broken and "does not exist" in broken
    assert any("does not exist" in m.message for m in client.messages)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=options(tiny_model, client.cache))  # type: ignore[attr-defined]
    )
    fixed = hover_text(await client.text_document_hover_async(params))
    assert "No explanation" not in fixed and fixed.count("\n---\n") == 1


async def test_opening_a_document_and_asking_for_actions_warm_the_hover_prompt(
    client: LanguageClient, workspace: Path, tiny_model: Path
) -> None:
    """The start of a hover's prompt is evaluated ahead, in the background: once for the
    file when it opens, once for a definition where code actions are asked for; asking
    again at the same place warms nothing more. Each warming's end (or its "in flight
    already") is logged: the test waits for those, not for a fixed time."""
    settings = options(tiny_model, client.cache, warm=True, logLevel="debug")  # type: ignore[attr-defined]
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings))
    uri = open_doc(client, workspace / "main.py")
    assert await _logged(client, f"hover warming of {uri}:", (": ended",), 1)
    assert [task for task, _ in model_calls(client, at_least=1)] == ["warm"]
    where = types.Range(types.Position(4, 4), types.Position(4, 4))
    for _ in range(2):
        await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri),
                range=where,
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
    area = f"hover warming of {uri} for function area"
    # the second request finds the first in flight ("in flight already"), or ended already
    # (then the prompt's start is known to be warm): either way the model is asked once
    settled = await _logged(client, area, (": ended", ": in flight already"), 2)
    assert settled[-1].endswith(": ended")
    assert [task for task, _ in model_calls(client, at_least=2)] == ["warm", "warm"]
    # a runtime that keeps no evaluated state is not warmed for
    settings = options(
        tiny_model, client.cache, warm=True, runtime="ctransformers", logLevel="debug"
    )  # type: ignore[attr-defined]
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    more = (workspace / "more.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=more, language_id="python", version=1,
                text="import os\n\n\ndef f():\n    return os.sep\n",
            )
        )
    )  # fmt: skip
    await _logged(client, f"no hover warming of {more}", ("",), 1)
    assert [task for task, _ in model_calls(client)] == ["warm", "warm"]


async def _logged(client, about: str, endings: tuple[str, ...], count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The first `count` log messages about `about` that end one of `endings`, in order;
    fails if they do not come within 30 s."""
    for _ in range(600):
        found = [
            m.message
            for m in client.log_messages
            if about in m.message and m.message.endswith(endings)
        ]
        if len(found) >= count:
            return found[:count]
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} log messages about {about}")


async def test_any_tools_errors_get_one_fix_and_an_explanation(
    client: LanguageClient, workspace: Path, tiny_model: Path
) -> None:
    """Errors and warnings of another tool (here as mypy and pyright report them) on one
    line: one fix that is told them all, and "Explain these errors", which the model
    answers with the messages in its prompt. A hint is left alone."""
    settings = options(tiny_model, client.cache, logPrompts=True)  # type: ignore[attr-defined]
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings))
    uri = open_doc(client, workspace / "main.py")
    line = 5  # r = clamp(radius, 0, 100)
    at = types.Range(types.Position(line, 4), types.Position(line, 29))
    found = [
        types.Diagnostic(range=at, message='Argument 1 to "clamp" has incompatible type "str"',
                         severity=types.DiagnosticSeverity.Error, source="mypy", code="arg-type"),
        types.Diagnostic(range=at, message='"r" is not accessed',
                         severity=types.DiagnosticSeverity.Warning, source="Pyright"),
        types.Diagnostic(range=at, message="a hint", severity=types.DiagnosticSeverity.Hint,
                         source="Pyright"),
    ]  # fmt: skip
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=at,
            context=types.CodeActionContext(diagnostics=found),
        )
    )
    assert actions is not None
    by_title = {a.title: a for a in actions}
    fix = by_title['ChMOCoder: Fix “Argument 1 to "clamp" has incompatible type "str"” and 1 more']
    assert isinstance(fix, types.CodeAction)
    assert list(fix.diagnostics or ()) == found[:2]
    assert isinstance(fix.data, dict)
    assert "line 6: mypy [arg-type]: Argument 1" in fix.data["detail"]
    assert 'line 6: Pyright: "r" is not accessed' in fix.data["detail"]
    explain = by_title["ChMOCoder: Explain these errors"]
    # pygls's client reads a CodeAction that has a command and no edit as a Command, with
    # the action's command object, printed, as its command: read it back
    assert isinstance(explain, types.Command)
    arguments = ast.literal_eval(explain.command)["arguments"]
    assert [e["source"] for e in arguments[0]["errors"]] == ["mypy", "Pyright"]
    assert not any("a hint" in title for title in by_title)

    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="chmocoder.explainErrors", arguments=arguments)
    )
    assert result["markdown"].startswith("> line 6: mypy [arg-type]: Argument 1")
    assert ("explain-error", 0) in model_calls(client, at_least=1)
    prompts = [m.message for m in client.log_messages if "task=explain-error" in m.message]
    assert (
        prompts
        and 'The editor reports:\\nline 6: mypy [arg-type]: Argument 1 to "clamp"' in prompts[0]
    )

    nothing = [{**arguments[0], "errors": []}]
    with pytest.raises(Exception, match="at least one error is required"):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="chmocoder.explainErrors", arguments=nothing)
        )

    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is not None or resolved.disabled is not None  # the tiny model's text
    fixes = [m.message for m in client.log_messages if "task=fix" in m.message]
    assert fixes and "Problems the editor reports:\\nline 6: mypy [arg-type]" in fixes[0]
