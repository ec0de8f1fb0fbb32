"""Fill in the middle on a model server (runtime openai), against llama-cpp-python's own
OpenAI-compatible server on the tiny model with fill-in-the-middle tokens; and a server
that is busy (429/503) before it answers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from chmocoder.engine.engine import Engine
from chmocoder.engine.runtimes import openai_fim
from chmocoder.engine.types import EngineError, GenerationParams, Infill

from ..support.common import engine_config
from ..support.openai_server import busy_server, llama_cpp_server

GAP = Infill(prefix="def add(a, b):\n    return ", suffix="\n\nprint(add(1, 2))\n", path="m.py")
GREEDY = GenerationParams(max_tokens=12, temperature=0.0, repeat_penalty=1.0, seed=1)


@pytest.fixture(scope="module")
def fim_server(tiny_fim_model: Path) -> Iterator[str]:
    with llama_cpp_server(tiny_fim_model) as url:
        yield url


async def _fill(config_fields: dict[str, object], tmp_path: Path) -> tuple[str, Engine]:
    engine = Engine(engine_config(cache_dir=tmp_path / "cache", use_cache=False, **config_fields))
    try:
        info = await engine.start()
        assert info.infill
        result = await engine.generate("complete", GAP, GREEDY)
        return result.text, engine
    finally:
        await engine.close()


async def test_auto_finds_the_layout_and_fills_as_the_local_runtime_does(
    fim_server: str, tiny_fim_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """llama_cpp.server has no /infill; its tokenizer reads the Qwen markers as single
    tokens: `auto` writes that layout as the prompt, and under greedy decoding the server's
    suggestion is the local runtime's, token for token."""
    caplog.set_level(logging.INFO, "chmocoder")
    remote, _ = await _fill({"runtime": "openai", "endpoint": fim_server}, tmp_path)
    said = [r.getMessage() for r in caplog.records if "fills in the middle" in r.getMessage()]
    assert said and said[0].endswith("by /v1/completions with the qwen fill-in-the-middle layout")
    local, _ = await _fill({"model": str(tiny_fim_model), "n_ctx": 2048, "idle_s": 5}, tmp_path)
    assert remote and remote == local


async def test_suffix_and_off(fim_server: str, tmp_path: Path) -> None:
    """`suffix` sends the gap's two sides as prompt and suffix (the server lays them out);
    `off` has the model fill nothing, and says why."""
    text, _ = await _fill(
        {"runtime": "openai", "endpoint": fim_server, "endpoint_fim": "suffix"}, tmp_path
    )
    assert isinstance(text, str)
    engine = Engine(engine_config(runtime="openai", endpoint=fim_server, endpoint_fim="off",
                                  cache_dir=tmp_path / "off"))  # fmt: skip
    info = await engine.start()
    assert not info.infill
    with pytest.raises(EngineError, match="no way to fill in the middle"):
        await engine.generate("complete", GAP, GREEDY)
    await engine.close()


def test_layouts_keep_the_users_text_from_spelling_markers() -> None:
    qwen = openai_fim.LAYOUTS[0]
    gap = Infill(prefix="x = '<|fim_middle|>'\n", suffix="<|fim_prefix|>y\n", path="a.py",
                 files=(("b.py", "def b(): ...\n"),))  # fmt: skip
    assert qwen.render(gap) == (
        "<|file_sep|>b.py\ndef b(): ...\n\n<|file_sep|>a.py\n"
        "<|fim_prefix|>x = ''\n<|fim_suffix|>y\n<|fim_middle|>"
    )
    llama = next(layout for layout in openai_fim.LAYOUTS if layout.name == "codellama")
    assert llama.render(Infill(prefix="a", suffix="b")) == "<PRE> a <SUF>b <MID>"
    path, body = openai_fim.request(openai_fim.FimWay("infill"), gap, "", {
        "model": "m", "max_tokens": 5, "temperature": 0.0, "top_p": 1.0, "stop": ["\n\n"]})  # fmt: skip
    assert path == "/infill" and body["input_extra"] == [
        {"filename": "b.py", "text": "def b(): ...\n"}
    ]
    assert body["n_predict"] == 5 and body["cache_prompt"] and body["stop"] == ["\n\n"]


async def test_a_busy_server_is_asked_again_within_the_deadline(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """503, then 429, then the answer: the request waits and asks again (the log says so);
    with a deadline too short for the pauses, it fails as busy."""
    caplog.set_level(logging.WARNING, "chmocoder")
    with busy_server(2) as url:
        engine = Engine(engine_config(runtime="openai", endpoint=url, endpoint_fim="off",
                                      cache_dir=tmp_path, use_cache=False))  # fmt: skip
        waits: list[str] = []
        engine.on_wait = waits.append
        result = await engine.generate("explain", "say ok", GREEDY)
        assert result.text == "ok"
        busy = [r.getMessage() for r in caplog.records if "is busy" in r.getMessage()]
        assert len(busy) == 2 and "(503)" in busy[0] and "(429)" in busy[1]
        assert waits == ["model server busy (503): asking again in 0.5 s",
                         "model server busy (429): asking again in 1.0 s"]  # fmt: skip
        await engine.close()
    with busy_server(5) as url:
        hurried = Engine(engine_config(runtime="openai", endpoint=url, endpoint_fim="off",
                                       cache_dir=tmp_path, use_cache=False,
                                       request_timeout_s=0.4))  # fmt: skip
        with pytest.raises(EngineError) as error:
            await hurried.generate("explain", "say ok", GREEDY)
        assert error.value.code == "busy" and "busy (503)" in error.value.message
        await hurried.close()


def test_doctor_says_what_the_server_offers_and_what_is_used(fim_server: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "chmocoder", "doctor", "--endpoint", fim_server],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    lines = dict(
        (line[:18].strip(), line[18:].strip())
        for line in done.stdout.splitlines()
        if line[:1] != " "
    )
    assert done.returncode == 0, done.stderr
    assert lines["models"] == "tiny" and lines["chat completions"] == "yes"
    assert lines["infill (/infill)"] == "no" and lines["tokenize"] == "yes"
    assert "inline completion" in done.stdout and "qwen fill-in-the-middle layout" in done.stdout
    nobody = subprocess.run(
        [sys.executable, "-m", "chmocoder", "doctor", "--endpoint", "http://127.0.0.1:9/v1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert nobody.returncode == 1 and "cannot be reached" in nobody.stderr


def test_the_way_is_decided_by_what_the_server_answers() -> None:
    """find_way's order (infill, then a layout the tokenizer knows or the model's name,
    then suffix), and a server that does not answer stops the probing: nothing is
    concluded from silence."""

    def server(answers: dict[str, int]):  # type: ignore[no-untyped-def]
        def probe(path: str, body: dict[str, object]) -> tuple[int, object]:
            return answers.get(path, 404), None

        return probe

    assert openai_fim.find_way(server({"/infill": 200}), "any", "auto") == openai_fim.FimWay(
        "infill"
    )
    by_name = openai_fim.find_way(server({}), "qwen2.5-coder-7b", "auto")
    assert by_name is not None and by_name.layout is not None and by_name.layout.name == "qwen"
    suffix = openai_fim.find_way(server({"/completions": 200}), "mystery", "auto")
    assert suffix == openai_fim.FimWay("suffix")
    assert openai_fim.find_way(server({}), "mystery", "auto") is None
    assert openai_fim.find_way(server({"/infill": 200}), "any", "suffix") is None
    with pytest.raises(openai_fim.Unanswered):
        openai_fim.find_way(server({"/infill": 0}), "any", "auto")
