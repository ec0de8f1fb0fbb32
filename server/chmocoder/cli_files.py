"""What both command-line modules share: FILE:LINE[:COL] locations, reading and loading a file,
and the progress bar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chmocoder.analysis.context import DefinitionLookup
    from chmocoder.analysis.document import Document


class LocationError(ValueError):
    pass


def parse_location(text: str) -> tuple[Path, int, int | None]:
    """FILE:LINE[:COL] with 1-based numbers -> (path, line, column or None)."""
    parts = text.rsplit(":", 2)
    numbers: list[int] = []
    while len(parts) > 1 and parts[-1].isdigit() and len(numbers) < 2:
        numbers.insert(0, int(parts.pop()))
    if not numbers:
        raise LocationError(f"expected FILE:LINE[:COL], got {text!r}")
    path = Path(":".join(parts))
    line, column = numbers[0], numbers[1] if len(numbers) > 1 else None
    if line < 1 or (column is not None and column < 1):
        raise LocationError("line and column are 1-based")
    return path, line, column


def read_source(path: Path) -> tuple[bytes, list[str]]:
    """The file as valid UTF-8 bytes, and notes on what had to be replaced. Raises OSError
    (sources.NotASource: not a regular file, too big, binary)."""
    from chmocoder.sources import read_source_file

    data = read_source_file(path)
    try:
        data.decode("utf-8")
        return data, []
    except UnicodeDecodeError as exc:
        fixed = data.decode("utf-8", errors="replace").encode("utf-8")
        return fixed, [f"not valid UTF-8 (first bad byte at offset {exc.start}): shown as U+FFFD"]


def offset_of(source: bytes, line: int, column: int | None) -> int:
    """Byte offset of a 1-based line and character column; None: first non-blank character."""
    lines = source.split(b"\n")
    line = min(line, len(lines))
    start = sum(len(ln) + 1 for ln in lines[: line - 1])
    text = lines[line - 1].decode("utf-8", errors="replace")
    if column is None:
        column = first_column(text)
    return start + len(text[: column - 1].encode("utf-8"))


def first_column(text: str) -> int:
    """The 1-based column of a line's first non-blank character (as editors count them)."""
    return len(text) - len(text.lstrip()) + 1


def _project_root(path: Path) -> Path:
    for folder in [path.parent, *path.parent.parents]:
        if (folder / ".git").exists():
            return folder
    return path.parent


INDEX_WAIT_S = 10.0
"""How long a command waits for the workspace index; it uses what is indexed by then."""


def load_file(
    path: Path, *, index: bool, workspace: Path | None = None
) -> tuple[Document, list[str], DefinitionLookup | None]:
    """The file as a Document, notes on its bytes, and workspace definitions by name (unless not
    indexing): the folder given, else the file's git root, else its folder. Raises OSError."""
    from chmocoder.analysis.document import Document
    from chmocoder.analysis.index import WorkspaceIndex
    from chmocoder.analysis.languages import LanguageRegistry

    source, notes = read_source(path)
    registry = LanguageRegistry()
    doc = Document(path.resolve().as_uri(), source, language=registry.lookup(path=path.name))
    if not index:
        return doc, notes, None
    workspace_index = WorkspaceIndex(workspace or _project_root(path.resolve()), registry)
    workspace_index.start()
    workspace_index.wait(timeout=INDEX_WAIT_S)
    return doc, notes, workspace_index.lookup


class ProgressBar:
    """A one-line progress bar (bytes, rate, time left) on stderr when it is a terminal;
    elsewhere a line at the start and one at the end."""

    def __init__(self, title: str) -> None:
        import time

        self.title = title
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._last = 0.0
        self._said = False

    def __call__(self, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if not self._said:
            self._said = True
            if not self.tty:
                print(f"chmocoder: {self.title} ({total / 2**20:.0f} MiB)…", file=sys.stderr)
        if self.tty and (now - self._last >= 0.1 or done >= total):
            self._last = now
            elapsed = max(now - self.started, 1e-6)
            rate = done / elapsed
            left = (total - done) / rate if rate > 0 else 0
            share = done / total if total else 1.0
            bar = "#" * int(share * 24)
            sys.stderr.write(
                f"\r{self.title} [{bar:<24}] {done / 2**20:7.0f}/{total / 2**20:.0f} MiB "
                f"{rate / 2**20:6.1f} MiB/s ETA {left:4.0f} s"
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self._said and self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()
