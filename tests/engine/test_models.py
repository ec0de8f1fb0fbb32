"""GGUF header checks and model provisioning: one-line reasons, never a native crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from chmocoder.engine.gguf_header import GGUFError, read_header
from chmocoder.engine.models import check_model, fingerprint, resolve_model
from chmocoder.engine.runtimes import LoadSettings, load_runtime
from chmocoder.engine.types import EngineError


def test_header_of_the_tiny_model(tiny_model: Path) -> None:
    header = read_header(tiny_model)
    assert (header.version, header.architecture, header.context_length) == (3, "llama", 8192)
    assert header.name == "chmocoder-tiny-llama"


def test_header_of_gemma(gemma_model: Path) -> None:
    header = read_header(gemma_model)
    assert header.architecture == "gemma3" and header.context_length == 32768


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a GGUF file"),
        (b"PK\x03\x04 a zip file", "not a GGUF file"),
        (b"GGUF\x09\x00\x00\x00" + b"\0" * 16, "version 9 is not supported"),
        (b"GGUF\x03\x00\x00\x00\x01", "truncated in the header"),
    ],
)
def test_bad_files_get_one_line_reasons(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(GGUFError) as error:
        read_header(path)
    assert reason in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_model_is_refused_before_loading(
    tiny_model: Path, tmp_path: Path, keep: float
) -> None:
    data = tiny_model.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(EngineError) as error:
        load_runtime("llama-cpp", cut, LoadSettings(n_ctx=2048, n_threads=0))
    assert error.value.code in ("model-invalid", "model-load")
    assert "cut.gguf" in error.value.message


def test_header_truncated_in_metadata(tiny_model: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_model.read_bytes()[:2000])
    with pytest.raises(EngineError, match="truncated"):
        check_model(cut)


def test_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="is a directory"):
        check_model(tmp_path)
    with pytest.raises(EngineError, match="does not exist"):
        resolve_model(str(tmp_path / "nope.gguf"), tmp_path)


def test_fingerprint_follows_content(tiny_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.gguf"
    copy.write_bytes(tiny_model.read_bytes())
    assert fingerprint(copy) == fingerprint(tiny_model)
    copy.write_bytes(tiny_model.read_bytes()[:-1] + b"\x01")
    assert fingerprint(copy) != fingerprint(tiny_model)
