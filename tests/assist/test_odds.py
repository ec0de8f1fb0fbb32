"""odds.py on the real runtime (llama.cpp, through the daemon) with the tiny model: the line
the model expects and a version's surprisal are what raw llama-cpp-python gives for the
same text. (The tiny model's greedy text is "9"s that never end a line, so its expected line
is None: what the model writes, and which line it writes, are tested on recorded answers in
test_assistant.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.assist.generation import AssistSettings, Generation
from chmocoder.assist.odds import EXPECTED_TOKENS, expected_line, surprisal_of, token_odds
from chmocoder.engine.engine import Engine
from chmocoder.engine.types import Priority

from ..support.common import engine_config

CODE = """import sys


def clamp(x, low, high):
    if x < low:
        return low
    return min(x, high)
"""


@pytest.fixture
async def gen(tiny_model: Path, tmp_path: Path) -> AsyncIterator[Generation]:
    engine = Engine(
        engine_config(model=str(tiny_model), cache_dir=tmp_path / "cache", n_ctx=2048, idle_s=20)
    )
    yield Generation(engine, AssistSettings())
    if engine.daemon is not None:
        await engine.daemon.shutdown_daemon()
    await engine.close()


def _raw(model: Path) -> object:
    from llama_cpp import Llama

    return Llama(str(model), n_ctx=1024, n_threads=1, logits_all=True, verbose=False)


async def test_the_expected_line_and_a_versions_surprisal_are_the_models(
    gen: Generation, tiny_model: Path
) -> None:
    import numpy as np

    doc = Document("file:///c.py", CODE.encode(), language=LanguageRegistry().lookup(path="c.py"))
    start = CODE.index("def clamp")
    odds = await token_odds(gen, doc, start, len(CODE), "fix", "clamp", Priority.INTERACTIVE)
    # the definition's whole lines (without the last line break), after the lines before it
    assert odds is not None and odds.text == CODE.rstrip("\n")
    assert odds.head == start and odds.row0 == 0
    row = CODE.count("\n", 0, CODE.index("return min"))
    line = CODE.split("\n")[row]
    # the line's most surprising token, by the daemon's odds
    line_start = CODE.index(line)
    on_line = [
        (o, n)
        for o, e, n in odds.tokens()
        if line_start <= o < line_start + len(line) and CODE[o:e].strip()
    ]
    at = max(on_line, key=lambda t: t[1])[0]

    llm = _raw(tiny_model)
    tokens = llm.tokenize(CODE[:at].encode(), add_bos=True)  # type: ignore[attr-defined]
    llm.eval(tokens)  # type: ignore[attr-defined]
    written = b""
    for _ in range(EXPECTED_TOKENS):
        token = int(np.argmax(llm.scores[llm.n_tokens - 1]))  # type: ignore[attr-defined]
        if token == llm.token_eos():  # type: ignore[attr-defined]
            break
        written += llm.detokenize([token])  # type: ignore[attr-defined]
        if b"\n" in written:
            break
        llm.eval([token])  # type: ignore[attr-defined]
    said = written.decode("utf-8", "ignore")
    want = CODE[line_start:at] + said.split("\n", 1)[0] if "\n" in said else None
    if want is not None and (not want.strip() or want == line):
        want = None
    got = await expected_line(gen, doc, odds, row, "fix", Priority.INTERACTIVE)
    assert got == want

    # a version of the definition: the sum of its tokens' -ln p after the same lines before
    version = odds.text[start:].replace("min(x, high)", "max(x, high)")
    nats = await surprisal_of(gen, odds, version, "fix", "a version", Priority.INTERACTIVE)
    text = CODE[:start] + version
    whole = llm.tokenize(text.encode(), add_bos=True)  # type: ignore[attr-defined]
    llm.reset()  # type: ignore[attr-defined]
    llm.eval(whole)  # type: ignore[attr-defined]
    logits = np.asarray(llm.scores[: len(whole)], dtype=np.float64)  # type: ignore[attr-defined]
    top = logits.max(axis=1)
    norm = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
    head = len(llm.tokenize(CODE[:start].encode(), add_bos=True))  # type: ignore[attr-defined]
    raw = sum(float(norm[i - 1] - logits[i - 1, whole[i]]) for i in range(head, len(whole)))
    assert nats == pytest.approx(raw, rel=1e-3)
    same = await surprisal_of(gen, odds, odds.text[start:], "fix", "as it is", Priority.INTERACTIVE)
    assert same == pytest.approx(sum(n for _, n in odds.scores), rel=1e-6)
