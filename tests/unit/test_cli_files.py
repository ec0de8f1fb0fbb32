"""The command line's file helpers: locations and offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from chmocoder.cli_files import LocationError, offset_of, parse_location


def test_location_parsing() -> None:
    assert parse_location("a/b.py:3") == (Path("a/b.py"), 3, None)
    assert parse_location("C:/x.py:3:7") == (Path("C:/x.py"), 3, 7)
    with pytest.raises(LocationError):
        parse_location("a.py")


def test_offset_of_columns_are_characters() -> None:
    source = "x = 1\nnamé = 'ü'\n".encode()
    assert source[offset_of(source, 2, 8) :].startswith("'ü'".encode())
    assert offset_of(source, 2, None) == source.index(b"nam")
    assert offset_of(source, 99, 1) == len(source)
