"""Fill in the middle on the real runtime: the model's own tokens from its tokenizer, text
tokenized apart from them, through the daemon; runtimes without it refuse clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from chmocoder.engine.engine import Engine
from chmocoder.engine.runtimes.base import LoadSettings
from chmocoder.engine.runtimes.llama_cpp import LlamaCppRuntime
from chmocoder.engine.types import EngineError, GenerationParams, Infill

from ..support.common import engine_config
from ..support.tiny_model import FIM_TOKENS

SETTINGS = LoadSettings(n_ctx=1024, n_threads=1)


def test_the_gap_sits_between_the_tokenizers_fill_tokens(tiny_fim_model: Path) -> None:
    runtime = LlamaCppRuntime(tiny_fim_model, SETTINGS)
    try:
        assert runtime.info.infill
        text = runtime.llm._model.token_get_text
        tokens, stops = runtime.render(Infill(prefix="ab", suffix="cd"))
        named = [text(t) for t in tokens]
        pre, suf, mid = named.index(FIM_TOKENS[0]), named.index(FIM_TOKENS[1]), named[-1]
        assert tokens[0] == runtime.llm.token_bos() and pre == 1 < suf and mid == FIM_TOKENS[2]
        assert stops == []
        # text that spells a fill token stays text: one middle token, the model's own
        spelled, _ = runtime.render(Infill(prefix="x = '<|fim_middle|>'", suffix=""))
        assert [text(t) for t in spelled].count(FIM_TOKENS[2]) == 1
        with_files, _ = runtime.render(
            Infill(prefix="a", suffix="b", path="main.py", files=(("util.py", "def f(): ..."),))
        )
        separators = [i for i, t in enumerate(with_files) if text(t) == FIM_TOKENS[3]]
        assert len(separators) == 2 and separators[1] < [text(t) for t in with_files].index(
            FIM_TOKENS[0]
        )
    finally:
        runtime.close()


def test_a_model_without_fill_tokens_says_so(tiny_model: Path) -> None:
    runtime = LlamaCppRuntime(tiny_model, SETTINGS)
    try:
        assert not runtime.info.infill
        with pytest.raises(EngineError) as caught:
            runtime.generate(Infill(prefix="a", suffix="b"), GenerationParams(), lambda _: True)
        assert caught.value.code == "infill-unsupported"
    finally:
        runtime.close()


async def test_an_infill_goes_through_the_daemon(tiny_fim_model: Path, tmp_path: Path) -> None:
    engine = Engine(engine_config(model=str(tiny_fim_model), n_ctx=1024, n_threads=1,
                                  cache_dir=tmp_path, idle_s=5.0))  # fmt: skip
    try:
        info = await engine.start()
        assert info.infill
        pieces: list[str] = []
        result = await engine.generate(
            "complete",
            Infill(prefix="def f(", suffix=")\n"),
            GenerationParams(max_tokens=8, temperature=0.0),
            on_token=pieces.append,
            use_cache=False,
        )
        assert result.usage.completion_tokens == 8 and "".join(pieces) == result.text
    finally:
        await engine.close()
