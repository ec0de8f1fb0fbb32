"""Paths that are not source files, given to the command line or found in the workspace:
refused at once with the reason, never waited on, never read without a bound."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from chmocoder.analysis.index import WorkspaceIndex
from chmocoder.analysis.languages import LanguageRegistry

from ..support.common import FIXTURES, run_cli

SAMPLE = FIXTURES / "languages" / "sample.py"


def test_a_fifo_without_a_writer_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    for args in (("explain", f"{fifo}:1"), ("context", f"{fifo}:1", "--no-index")):
        result = run_cli(*args)
        assert result.returncode == 2, result
        assert "is a FIFO (named pipe), not a file" in result.stderr


def test_a_fifo_fed_without_end_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "flood.py"
    os.mkfifo(fifo)
    stop = threading.Event()

    def flood() -> None:
        fd = os.open(fifo, os.O_WRONLY)  # waits for the reader
        try:
            while not stop.is_set():
                os.write(fd, b"x = 1\n" * 10_000)
        except BrokenPipeError:
            pass
        finally:
            os.close(fd)

    writer = threading.Thread(target=flood, daemon=True)
    writer.start()
    try:
        result = run_cli("explain", f"{fifo}:1")
    finally:
        stop.set()
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # let a writer still waiting go
        writer.join(10)
    assert result.returncode == 2 and "FIFO" in result.stderr, result


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused() -> None:
    result = run_cli("context", "/dev/zero:1", "--no-index")
    assert result.returncode == 2 and "is a character device, not a file" in result.stderr


def test_nul_bytes_past_the_first_8_kib_mean_binary(tmp_path: Path) -> None:
    late = tmp_path / "late.py"
    late.write_bytes(b"x = 1\n" * 2000 + b"y = '\x00'\n")
    result = run_cli("explain", f"{late}:1")
    assert result.returncode == 2 and "binary file" in result.stderr
    result = run_cli("context", f"{late}:1", "--no-index")
    assert result.returncode == 2 and "binary file" in result.stderr


def test_the_index_skips_fifos_and_late_binaries(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "late.py").write_bytes(b"def f():\n    pass\n" * 1000 + b"\x00")
    (tmp_path / "good.py").write_text("def good():\n    return 1\n")
    index = WorkspaceIndex(tmp_path, LanguageRegistry())
    index.start()
    assert index.wait(timeout=20), "the index waited on a FIFO"
    assert index.skipped == {"pipe.py": "a FIFO (named pipe)", "late.py": "binary"}
    assert [d.name for d in index.lookup("good")] == ["good"]
    assert index.lookup("f") == []


def test_a_full_disk_is_one_warning_and_the_answer_still_comes(
    full_disk: Path, tiny_model: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    result = run_cli("ask", f"{SAMPLE}:18", "what does it return?", "--model", str(tiny_model),
                     "--cache-dir", str(full_disk), "--max-tokens", "8", "--n-ctx", "1024",
                     env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()  # the answer
    warnings = [line for line in result.stderr.splitlines() if "full" in line or "cannot" in line]
    assert len(warnings) == 1 and "the disk is full" in warnings[0], result.stderr
