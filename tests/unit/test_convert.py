"""Client positions in UTF-16, UTF-8 and UTF-32 <-> byte offsets."""

from __future__ import annotations

import pytest
from lsprotocol import types
from lsprotocol.types import PositionEncodingKind as Enc

from chmocoder.analysis.document import Document
from chmocoder.lsp.convert import to_offset, to_offsets, to_position

TEXT = "a😀b\r\nдва\rx\n\tz"
DOC = Document("file:///t.txt", TEXT.encode())


@pytest.mark.parametrize(
    ("encoding", "line", "character", "before"),
    [
        (Enc.Utf16, 0, 3, "a😀"),
        (Enc.Utf16, 0, 4, "a😀b"),
        (Enc.Utf32, 0, 2, "a😀"),
        (Enc.Utf8, 0, 5, "a😀"),
        (Enc.Utf16, 1, 2, "a😀b\r\nдв"),
        (Enc.Utf16, 2, 1, "a😀b\r\nдва\rx"),
        (Enc.Utf16, 3, 1, "a😀b\r\nдва\rx\n\t"),
        (Enc.Utf16, 0, 99, "a😀b"),  # past the end of the line: clamps to it
        (Enc.Utf16, 9, 0, TEXT),  # past the end of the file
        (Enc.Utf16, 0, 2, "a"),  # inside a surrogate pair: stays before it
    ],
)
def test_to_offset(encoding: str, line: int, character: int, before: str) -> None:
    assert to_offset(DOC, types.Position(line, character), encoding) == len(before.encode())


@pytest.mark.parametrize("encoding", [Enc.Utf16, Enc.Utf8, Enc.Utf32])
def test_round_trip_on_character_boundaries(encoding: str) -> None:
    for i in range(len(TEXT) + 1):
        if TEXT[i - 1 : i + 1] == "\r\n":
            continue  # between \r and \n is not a position a client can name
        offset = len(TEXT[:i].encode())
        assert to_offset(DOC, to_position(DOC, offset, encoding), encoding) == offset


def test_reversed_range_is_ordered() -> None:
    reversed_range = types.Range(start=types.Position(1, 2), end=types.Position(0, 1))
    start, end = to_offsets(DOC, reversed_range, Enc.Utf16)
    assert start < end


def test_line_starts_follow_edits_that_join_and_split_line_breaks() -> None:
    """Kept edit by edit (only the touched lines are scanned); random edits over text full
    of \\r, \\n and \\r\\n must give what a scan of the whole text gives."""
    import random

    from chmocoder.analysis.document import LINE_BREAK

    rnd = random.Random(7)
    pieces = [b"a", b"\n", b"\r", b"\r\n", b"bc", "é".encode()]
    for _ in range(500):
        doc = Document("file:///t.txt", b"".join(rnd.choices(pieces, k=rnd.randint(0, 30))))
        assert doc.line_starts[0] == 0
        for _ in range(8):
            start = rnd.randint(0, len(doc.source))
            end = rnd.randint(start, len(doc.source))
            doc.apply_edit(start, end, b"".join(rnd.choices(pieces, k=rnd.randint(0, 4))))
            scanned = [0, *(m.end() for m in LINE_BREAK.finditer(doc.source))]
            assert doc.line_starts == scanned, (doc.source, start, end)
    doc.replace(b"x\ny")
    assert doc.line_starts == [0, 2]
