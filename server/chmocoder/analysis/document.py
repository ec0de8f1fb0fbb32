"""An open document: bytes, tree and version, with incremental edits and bounded parsing."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from tree_sitter import Parser, Point, Tree

from chmocoder.analysis.languages import LanguageSupport

MAX_PARSE_BYTES = 4 * 1024 * 1024
"""Larger documents are not parsed: they get plain-text context only."""

MAX_PARSE_SECONDS = 1.5
"""A parse that runs longer is stopped (pathological nesting); the document falls back to text."""

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = MAX_PARSE_BYTES
    max_seconds: float = MAX_PARSE_SECONDS


def point_at(source: bytes, offset: int) -> Point:
    """The tree-sitter point (row, byte column) of a byte offset: rows end at b'\\n'."""
    row = source.count(b"\n", 0, offset)
    line_start = source.rfind(b"\n", 0, offset) + 1
    return Point(row, offset - line_start)


def advance_point(start: Point, text: bytes) -> Point:
    """The point reached after inserting `text` at `start`."""
    newlines = text.count(b"\n")
    if newlines == 0:
        return Point(start.row, start.column + len(text))
    return Point(start.row + newlines, len(text) - text.rfind(b"\n") - 1)


def parse_bounded(
    parser: Parser, source: bytes, old_tree: Tree | None, limits: ParseLimits
) -> tuple[Tree | None, str | None]:
    """Parse within the size and time limits. Returns (tree, None) or (None, reason)."""
    if len(source) > limits.max_bytes:
        return None, (
            f"not parsed: {len(source) / 2**20:.1f} MiB is over the "
            f"{limits.max_bytes / 2**20:g} MiB limit; using plain text around the cursor"
        )
    deadline = time.monotonic() + limits.max_seconds

    def read(offset: int, _point: Point) -> bytes:
        return source[offset : offset + _CHUNK]

    def over_time(_offset: int, _has_error: bool) -> bool:
        return time.monotonic() > deadline

    try:
        if old_tree is None:
            tree = parser.parse(read, progress_callback=over_time)
        else:
            tree = parser.parse(read, old_tree, progress_callback=over_time)
    except ValueError:
        parser.reset()
        return None, (
            f"not parsed: parsing took longer than {limits.max_seconds:g} s "
            "(deeply nested or unusual code); using plain text around the cursor"
        )
    return tree, None


class Document:
    """A source file as tree-sitter sees it. `language` is None for unknown languages."""

    def __init__(
        self,
        uri: str,
        text: bytes,
        *,
        version: int = 0,
        language: LanguageSupport | None = None,
        limits: ParseLimits | None = None,
    ) -> None:
        self.uri = uri
        self.version = version
        self.language = language
        self.limits = limits or ParseLimits()
        self.source = text
        self.tree: Tree | None = None
        self.refusal: str | None = None
        self._parser = Parser(language.language) if language else None
        self._stale = True
        self.cache: dict[str, object] = {}
        """Derived data (definitions, imports) for this version; emptied by every change."""
        self.reparse()

    @property
    def language_name(self) -> str | None:
        return self.language.name if self.language else None

    def apply_edit(self, start: int, old_end: int, new_text: bytes) -> None:
        """Replace bytes [start, old_end) with new_text and tell the tree about it.

        Several edits may be applied before one `reparse()` (an LSP didChange
        carries a list); each is in the coordinates of the text after the last.
        """
        if not 0 <= start <= old_end <= len(self.source):
            raise ValueError(
                f"edit range {start}..{old_end} is outside the document (0..{len(self.source)})"
            )
        if self.tree is not None:
            start_point = point_at(self.source, start)
            self.tree.edit(
                start_byte=start,
                old_end_byte=old_end,
                new_end_byte=start + len(new_text),
                start_point=start_point,
                old_end_point=point_at(self.source, old_end),
                new_end_point=advance_point(start_point, new_text),
            )
        self.source = self.source[:start] + new_text + self.source[old_end:]
        self._stale = True
        self.cache.clear()

    def replace(self, text: bytes) -> None:
        """A full replacement: the old tree is dropped."""
        self.source = text
        self.tree = None
        self._stale = True
        self.cache.clear()

    def reparse(self) -> None:
        """Bring the tree up to date with the bytes (incrementally when there is a tree)."""
        if not self._stale:
            return
        self._stale = False
        if self._parser is None:
            self.tree, self.refusal = None, None
            return
        self.tree, self.refusal = parse_bounded(self._parser, self.source, self.tree, self.limits)

    def row_span(self, row: int) -> tuple[int, int]:
        """Byte range of a tree-sitter row (rows end at b"\\n"), without its line break;
        a row past the end is the last one."""
        starts = self.cache.get("row_starts")
        if starts is None:
            starts = [0] + [m.end() for m in re.finditer(rb"\n", self.source)]
            self.cache["row_starts"] = starts
        assert isinstance(starts, list)
        row = max(0, min(row, len(starts) - 1))
        end = starts[row + 1] - 1 if row + 1 < len(starts) else len(self.source)
        return starts[row], end

    def text(self, start: int, end: int) -> str:
        return self.source[start:end].decode("utf-8", errors="replace")
