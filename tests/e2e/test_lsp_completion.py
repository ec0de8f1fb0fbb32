"""Inline completion over stdio: the real server, the real runtime on the tiny model with
fill-in-the-middle tokens (its text is noise, but real text from a real generation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from ..support.common import model_calls, options

NOTES = "Shopping list\n\n- apples\n- "


def capabilities(declares_inline: bool) -> types.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None
    caps.text_document.inline_completion = (
        types.InlineCompletionClientCapabilities() if declares_inline else None
    )
    return caps


@pytest.fixture
def client(lsp: LanguageClient) -> LanguageClient:
    return lsp  # initialized by each test (`start`): the model and capabilities vary


async def start(
    client: LanguageClient, gguf: Path, tmp_path: Path, *, declares: bool = True, **extra: Any
) -> types.InitializeResult:
    return await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(declares),
            root_uri=tmp_path.as_uri(),
            initialization_options=options(gguf, client.cache, **extra),  # type: ignore[attr-defined]
        )
    )


def open_notes(client: LanguageClient, tmp_path: Path, text: str = NOTES) -> str:
    uri = (tmp_path / "notes.txt").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="plaintext", version=1, text=text
            )
        )
    )
    return uri


async def complete(
    client: LanguageClient,
    uri: str,
    position: types.Position,
    kind: types.InlineCompletionTriggerKind = types.InlineCompletionTriggerKind.Invoked,
) -> str | None:
    answer = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position,
            context=types.InlineCompletionContext(trigger_kind=kind),
        )
    )
    if answer is None:
        return None
    items = answer.items if isinstance(answer, types.InlineCompletionList) else answer
    assert len(items) == 1 and items[0].range == types.Range(position, position)
    text = items[0].insert_text
    assert isinstance(text, str)
    return text


def completions_asked(client: LanguageClient) -> int:
    return sum(1 for task, hit in model_calls(client) if task == "complete" and not hit)


async def test_a_suggestion_comes_from_the_model_and_typing_through_it_from_memory(
    client: LanguageClient, tiny_fim_model: Path, tmp_path: Path
) -> None:
    result = await start(client, tiny_fim_model, tmp_path)
    assert result.capabilities.inline_completion_provider is not None
    uri = open_notes(client, tmp_path)
    end = types.Position(line=3, character=2)
    suggestion = await complete(client, uri, end)
    assert suggestion and suggestion.strip() and "fim" not in suggestion
    assert len(model_calls(client, at_least=1)) >= 1 and completions_asked(client) == 1
    typed = suggestion[0]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(end, end), text=typed)
            ],
        )
    )
    after = types.Position(line=3, character=3)
    rest = await complete(client, uri, after, types.InlineCompletionTriggerKind.Automatic)
    assert rest == suggestion[1:]
    assert completions_asked(client) == 1  # no second model call


async def test_automatic_completion_can_be_turned_off(
    client: LanguageClient, tiny_fim_model: Path, tmp_path: Path
) -> None:
    await start(client, tiny_fim_model, tmp_path, completion={"enabled": False})
    uri = open_notes(client, tmp_path)
    end = types.Position(line=3, character=2)
    automatic = types.InlineCompletionTriggerKind.Automatic
    assert await complete(client, uri, end, automatic) is None
    assert await complete(client, uri, end) is not None  # asked for: answered


async def test_a_model_without_fill_in_the_middle_tokens_completes_nothing(
    client: LanguageClient, tiny_model: Path, tmp_path: Path
) -> None:
    result = await start(client, tiny_model, tmp_path, declares=False)
    assert result.capabilities.inline_completion_provider is None  # not declared: not offered
    uri = open_notes(client, tmp_path)
    assert await complete(client, uri, types.Position(line=3, character=2)) is None
    assert not client.messages  # a log line, not a message on every keystroke


async def test_completion_model_writes_the_ghost_text_while_the_main_model_answers_the_rest(
    client: LanguageClient, tiny_model: Path, tiny_fim_model: Path, tmp_path: Path
) -> None:
    """completion.model: a second model (its own daemon) fills in the middle; the main one,
    which cannot, would have completed nothing (the test above)."""
    await start(client, tiny_model, tmp_path, completion={"model": str(tiny_fim_model)})
    uri = open_notes(client, tmp_path)
    suggestion = await complete(client, uri, types.Position(line=3, character=2))
    assert suggestion and suggestion.strip()
    model_calls(client, at_least=1)  # written in the background
    assert completions_asked(client) == 1


async def test_a_model_server_writes_the_suggestion(
    client: LanguageClient, tiny_fim_model: Path, tmp_path: Path
) -> None:
    """Runtime openai on llama-cpp-python's own server: inline completion over LSP goes to
    the server (it has no /infill, so the model's layout is the prompt) with the same rules
    as locally (the suggestion ends at the block's end, typing through it is answered from
    memory); what the local runtime suggests on the same model and gap, the server does."""
    from ..support.openai_server import llama_cpp_server

    with llama_cpp_server(tiny_fim_model) as url:
        await start(client, tiny_fim_model, tmp_path, runtime="openai", endpoint=url, model="tiny")
        uri = open_notes(client, tmp_path)
        end = types.Position(line=3, character=2)
        remote = await complete(client, uri, end)
        assert remote and remote.strip() and "fim" not in remote
        assert len(model_calls(client, at_least=1)) >= 1 and completions_asked(client) == 1
        said = [m.message for m in client.log_messages if "fills in the middle by" in m.message]
        assert said and "qwen fill-in-the-middle layout" in said[0]
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=options(tiny_fim_model, client.cache))  # type: ignore[attr-defined]
    )
    local = await complete(client, uri, end)
    assert local == remote
