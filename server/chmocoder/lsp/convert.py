"""Client positions (UTF-16 by default, UTF-8 or UTF-32 when negotiated) <-> byte offsets."""

from __future__ import annotations

import bisect

from lsprotocol import types

from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import Span


def _line_bytes(doc: Document, line: int) -> tuple[int, bytes]:
    starts = doc.line_starts
    start = starts[line]
    end = starts[line + 1] if line + 1 < len(starts) else len(doc.source)
    return start, doc.source[start:end].rstrip(b"\r\n")


def to_offset(doc: Document, position: types.Position, encoding: str) -> int:
    """The byte offset of a client position; past the end of a line or file clamps."""
    starts = doc.line_starts
    if position.line >= len(starts):
        return len(doc.source)
    start, line = _line_bytes(doc, position.line)
    column = max(0, position.character)
    if encoding == types.PositionEncodingKind.Utf8:
        prefix = line[:column].decode("utf-8", errors="ignore").encode("utf-8")
    else:
        text = line.decode("utf-8", errors="replace")
        if encoding == types.PositionEncodingKind.Utf32:
            prefix = text[:column].encode("utf-8")
        else:
            units = text.encode("utf-16-le")[: 2 * column]
            prefix = units.decode("utf-16-le", errors="ignore").encode("utf-8")
    return start + len(prefix)


def to_position(doc: Document, offset: int, encoding: str) -> types.Position:
    offset = max(0, min(offset, len(doc.source)))
    starts = doc.line_starts
    line = bisect.bisect_right(starts, offset) - 1
    prefix = doc.source[starts[line] : offset].decode("utf-8", errors="replace")
    if encoding == types.PositionEncodingKind.Utf8:
        character = len(prefix.encode("utf-8"))
    elif encoding == types.PositionEncodingKind.Utf32:
        character = len(prefix)
    else:
        character = len(prefix.encode("utf-16-le")) // 2
    return types.Position(line=line, character=character)


def to_range(doc: Document, span: Span, encoding: str) -> types.Range:
    return byte_range(doc, span.start_byte, span.end_byte, encoding)


def byte_range(doc: Document, start: int, end: int, encoding: str) -> types.Range:
    """The client range of bytes [start, end)."""
    return types.Range(start=to_position(doc, start, encoding), end=to_position(doc, end, encoding))


def to_offsets(doc: Document, range_: types.Range, encoding: str) -> tuple[int, int]:
    """A client range as (start, end) byte offsets; a reversed range is put in order."""
    start = to_offset(doc, range_.start, encoding)
    end = to_offset(doc, range_.end, encoding)
    return (start, end) if start <= end else (end, start)
