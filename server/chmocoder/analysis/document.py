"""An open document: bytes, tree and version, with incremental edits and bounded parsing."""

from __future__ import annotations

import bisect
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

LINE_BREAK = re.compile(rb"\r\n|\r|\n")
"""Lines as editors count them (the LSP's rule): a line ends at \\r\\n, \\r or \\n."""


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


def edit_tree(tree: Tree, source: bytes, start: int, old_end: int, new_text: bytes) -> None:
    """Tell `tree` (parsed from `source`) that bytes [start, old_end) became `new_text`."""
    start_point = point_at(source, start)
    tree.edit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=start + len(new_text),
        start_point=start_point,
        old_end_point=point_at(source, old_end),
        new_end_point=advance_point(start_point, new_text),
    )


def parse_bounded(
    parser: Parser, source: bytes, old_tree: Tree | None, limits: ParseLimits
) -> tuple[Tree | None, str | None]:
    """Parse within the size and time limits. Returns (tree, None) or (None, reason).

    The time limit needs tree-sitter's read callback (its progress callback is ignored
    for a bytestring), and py-tree-sitter 0.25/0.26 never releases what that callback
    returns: each bounded parse leaks about the document's size. So only the parses that
    can be slow go through here; `Document.reparse` sends the rest to `parser.parse(bytes)`.
    """
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


UNBOUNDED_EDIT_BYTES = 64 * 1024
"""An incremental reparse skips the time limit when the bytes changed since the last parse
are fewer than this and that parse took under a tenth of the limit: such a reparse costs
at most about what a full parse of the text did, and a pasted block of pathological
nesting is larger."""


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
        self._line_starts: list[int] | None = None
        self._changed_bytes = 0
        self._parse_seconds = 0.0
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
            edit_tree(self.tree, self.source, start, old_end, new_text)
        old = self.source
        self.source = old[:start] + new_text + old[old_end:]
        if self._line_starts is not None:
            self._line_starts = _edited_line_starts(
                self._line_starts, self.source, start, old_end, len(new_text)
            )
        self._changed_bytes += max(len(new_text), old_end - start)
        self._stale = True
        self.cache.clear()

    def replace(self, text: bytes) -> None:
        """A full replacement (full-text sync). Applied as one edit of the span between the
        common prefix and suffix, so the tree and line starts are kept up to date, not rebuilt."""
        old = self.source
        limit = min(len(old), len(text))
        prefix = _common_length(old, text, limit, from_end=False)
        suffix = _common_length(old, text, limit - prefix, from_end=True)
        self.apply_edit(prefix, len(old) - suffix, text[prefix : len(text) - suffix])

    def reparse(self) -> None:
        """Bring the tree up to date with the bytes (incrementally when there is a tree)."""
        if not self._stale:
            return
        self._stale = False
        if self._parser is None:
            self.tree, self.refusal = None, None
            return
        started = time.monotonic()
        if (
            self.tree is not None
            and self._changed_bytes < UNBOUNDED_EDIT_BYTES
            and self._parse_seconds < self.limits.max_seconds / 10
            and len(self.source) <= self.limits.max_bytes
        ):
            self.tree = self._parser.parse(self.source, self.tree)
        else:
            self.tree, self.refusal = parse_bounded(
                self._parser, self.source, self.tree, self.limits
            )
        self._parse_seconds = time.monotonic() - started
        self._changed_bytes = 0

    @property
    def line_starts(self) -> list[int]:
        """Byte offsets where each line starts (lines end at \\r\\n, \\r or \\n), kept up to
        date edit by edit: a keystroke costs a look at its own lines and a shift of the rest,
        not a scan of the document."""
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in LINE_BREAK.finditer(self.source))]
        return self._line_starts

    def row_span(self, row: int) -> tuple[int, int]:
        """Byte range of a tree-sitter row (rows end at b"\\n"), without its line break;
        a row past the end is the last one."""
        starts = self.cache.get("row_starts")
        if starts is None:
            if b"\r" not in self.source:  # then rows and lines are the same
                starts = self.line_starts
            else:
                starts = [0] + [m.end() for m in re.finditer(rb"\n", self.source)]
            self.cache["row_starts"] = starts
        assert isinstance(starts, list)
        row = max(0, min(row, len(starts) - 1))
        end = starts[row + 1] - 1 if row + 1 < len(starts) else len(self.source)
        return starts[row], end

    def text(self, start: int, end: int) -> str:
        return self.source[start:end].decode("utf-8", errors="replace")


def _edited_line_starts(
    starts: list[int], source: bytes, start: int, old_end: int, inserted: int
) -> list[int]:
    """`starts` of the text before the edit [start, old_end) -> `inserted` bytes, brought up
    to date for `source` (the text after it). Only the lines the edit touches are scanned:
    from the start of the line before the edit (a \\r there may join a \\n the edit puts
    first) to the first line start after it; the starts after that only move."""
    delta = inserted - (old_end - start)
    first = max(0, bisect.bisect_right(starts, max(start - 1, 0)) - 1)
    low = starts[first]
    after = bisect.bisect_right(starts, old_end)
    high = starts[after] + delta if after < len(starts) else len(source)
    middle = [m.end() for m in LINE_BREAK.finditer(source, low, high)]
    if after < len(starts):
        middle = [end for end in middle if end < high]
    return starts[: first + 1] + middle + [s + delta for s in starts[after:]]


def _common_length(a: bytes, b: bytes, limit: int, *, from_end: bool) -> int:
    """How many bytes (at most `limit`) `a` and `b` share at their start, or at their end;
    found by halving, so with a few memory compares rather than a loop over bytes."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        same = (
            a[len(a) - middle :] == b[len(b) - middle :] if from_end else a[:middle] == b[:middle]
        )
        low, high = (middle, high) if same else (low, middle - 1)
    return low
