"""The workspace symbol index: definitions of every source file under a root, built lazily."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pathspec

from chmocoder.analysis.document import Document
from chmocoder.analysis.languages import LanguageRegistry
from chmocoder.analysis.symbols import Definition, definitions
from chmocoder.sources import NotASource, read_source_file

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1_000_000
MAX_FILES = 50_000
ALWAYS_SKIPPED = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".tox"}
)
"""Directories nobody wants indexed, ignored or not."""

ProgressCallback = Callable[[int, int], None]
"""(files indexed so far, files found so far)"""


class WorkspaceIndex:
    """Definitions by name across a workspace. Safe to query while it is being built."""

    def __init__(
        self,
        root: Path,
        registry: LanguageRegistry,
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_files: int = MAX_FILES,
    ) -> None:
        self.root = root.resolve()
        self.registry = registry
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self._by_file: dict[str, list[Definition]] = {}
        self._by_name: dict[str, list[Definition]] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.skipped: dict[str, str] = {}
        """relative path -> why it was not indexed (too big, binary, unreadable)."""

    # --- building -------------------------------------------------------------------

    def start(self, on_progress: ProgressCallback | None = None) -> None:
        """Index in a background thread; lookups answer from what is indexed so far."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._build, args=(on_progress,), name="chmocoder-index", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def _build(self, on_progress: ProgressCallback | None) -> None:
        started = time.monotonic()
        indexed = found = 0
        try:
            for path in self.source_files():
                if self._stop.is_set():
                    return
                found += 1
                self.update_file(path)
                indexed += 1
                if on_progress and indexed % 200 == 0:
                    on_progress(indexed, found)
                time.sleep(0)  # let the server's thread have the interpreter
            if on_progress:
                on_progress(indexed, found)
            log.info(
                "indexed %d files (%d definitions) in %.1f s",
                indexed,
                self.definition_count(),
                time.monotonic() - started,
            )
        except Exception:
            log.exception("workspace indexing failed under %s", self.root)
        finally:
            self._done.set()

    def source_files(self) -> Iterator[Path]:
        """Files under the root that have a known language and are not ignored by git."""
        specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
        count = 0
        for directory, subdirs, files in os.walk(self.root):
            here = Path(directory)
            specs = [(d, s) for d, s in specs if d == here or d in here.parents]
            ignore_file = here / ".gitignore"
            if ignore_file.is_file():
                try:
                    lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                    specs.append((here, pathspec.GitIgnoreSpec.from_lines(lines)))
                except OSError as exc:
                    log.warning("cannot read %s: %s", ignore_file, exc)
            subdirs[:] = sorted(
                d
                for d in subdirs
                if d not in ALWAYS_SKIPPED and not _ignored(specs, here / d, is_dir=True)
            )
            for name in sorted(files):
                path = here / name
                if self.registry.spec_for(path=name) is None or _ignored(specs, path, is_dir=False):
                    continue
                count += 1
                if count > self.max_files:
                    log.warning(
                        "workspace has over %d source files: the rest is not indexed",
                        self.max_files,
                    )
                    return
                yield path

    # --- per-file updates -----------------------------------------------------------

    def update_file(self, path: Path, source: bytes | None = None) -> None:
        """(Re)index one file, from `source` if given (an open editor buffer), else disk."""
        relative = self._relative(path)
        if relative is None:
            return
        support = self.registry.lookup(path=path.name)
        if support is None:
            return
        if source is None:
            reason, source = _read_source(path, self.max_file_bytes)
            if reason:
                self.skipped[relative] = reason
                self._replace(relative, [])
                return
        assert source is not None
        document = Document(path.as_uri(), source, language=support)
        found = [replace(d, path=relative) for d in definitions(document)]
        self.skipped.pop(relative, None)
        self._replace(relative, found)

    def remove_file(self, path: Path) -> None:
        relative = self._relative(path)
        if relative is not None:
            self._replace(relative, [])

    def _replace(self, relative: str, found: list[Definition]) -> None:
        with self._lock:
            for old in self._by_file.pop(relative, []):
                same = self._by_name.get(old.name, [])
                same[:] = [d for d in same if d.path != relative]
                if not same:
                    self._by_name.pop(old.name, None)
            if found:
                self._by_file[relative] = found
                for d in found:
                    self._by_name.setdefault(d.name, []).append(d)

    def _relative(self, path: Path) -> str | None:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None

    # --- queries --------------------------------------------------------------------

    def lookup(self, name: str) -> list[Definition]:
        """Definitions with this name, ordered by path then position."""
        with self._lock:
            found = list(self._by_name.get(name, ()))
        return sorted(found, key=lambda d: (d.path or "", d.span.start_byte))

    def file_count(self) -> int:
        with self._lock:
            return len(self._by_file)

    def definition_count(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._by_file.values())


def _ignored(specs: list[tuple[Path, pathspec.GitIgnoreSpec]], path: Path, *, is_dir: bool) -> bool:
    for base, spec in specs:
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(relative):
            return True
    return False


def _read_source(path: Path, limit: int) -> tuple[str | None, bytes | None]:
    """(reason it is skipped, None) or (None, bytes)."""
    try:
        return None, read_source_file(path, limit)
    except NotASource as exc:
        return exc.reason, None
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}", None
