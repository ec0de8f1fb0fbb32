"""Reads and checks a GGUF file's header before any native loader sees it.

A truncated or non-GGUF file gets a one-line reason here instead of a crash
inside llama.cpp. Only the key-value section and the tensor index are read
(the `gguf` package maps the whole file through numpy, which the server does
not otherwise need).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
MAX_STRING = 64 * 1024 * 1024
MAX_ENTRIES = 1_000_000

# GGUF metadata value types
_SCALARS: dict[int, str] = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9


class GGUFError(ValueError):
    """The file is not a usable GGUF model; the message says why in one line."""


@dataclass
class GGUFHeader:
    version: int
    tensor_count: int
    metadata: dict[str, Any] = field(default_factory=dict)
    data_offset: int = 0
    last_tensor_offset: int = 0

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", ""))

    @property
    def context_length(self) -> int:
        value = self.metadata.get(f"{self.architecture}.context_length", 0)
        return int(value) if isinstance(value, int) else 0


def read_header(path: Path) -> GGUFHeader:
    """Parse and check the header; raise GGUFError with a one-line reason."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            header = _parse(f, skip_arrays=True)
    except GGUFError as exc:
        raise GGUFError(f"{path}: {exc}") from None

    except FileNotFoundError:
        raise GGUFError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise GGUFError(f"{path}: is a directory, not a GGUF file") from None
    except PermissionError:
        raise GGUFError(f"{path}: not readable (permission denied)") from None
    except (struct.error, EOFError):
        raise GGUFError(f"{path}: truncated in the header (file is {size} bytes)") from None
    if header.architecture == "unknown":
        raise GGUFError(f"{path}: GGUF header has no general.architecture")
    if header.tensor_count and header.data_offset + header.last_tensor_offset >= size:
        raise GGUFError(
            f"{path}: truncated: tensor data would start past the end of the file ({size} bytes)"
        )
    return header


def _read(f: BinaryIO, count: int) -> bytes:
    data = f.read(count)
    if len(data) != count:
        raise EOFError
    return data


def _unpack(f: BinaryIO, fmt: str) -> Any:
    return struct.unpack("<" + fmt, _read(f, struct.calcsize("<" + fmt)))[0]


def _string(f: BinaryIO) -> str:
    length = _unpack(f, "Q")
    if length > MAX_STRING:
        raise GGUFError(f"implausible string length {length} in the GGUF header")
    return _read(f, length).decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int, skip_arrays: bool) -> Any:
    if kind in _SCALARS:
        return _unpack(f, _SCALARS[kind])
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item_kind, count = _unpack(f, "I"), _unpack(f, "Q")
        if count > 64 * MAX_ENTRIES:
            raise GGUFError(f"implausible array length {count} in the GGUF header")
        if skip_arrays and item_kind in _SCALARS:
            f.seek(struct.calcsize("<" + _SCALARS[item_kind]) * count, 1)
            return None
        items = [_value(f, item_kind, skip_arrays) for _ in range(count)]
        return None if skip_arrays else items
    raise GGUFError(f"unknown metadata value type {kind} in the GGUF header")


def _parse(f: BinaryIO, *, skip_arrays: bool) -> GGUFHeader:
    magic = f.read(4)
    if magic != MAGIC:
        raise GGUFError(f"not a GGUF file (starts with {magic!r}, expected b'GGUF')")
    version = _unpack(f, "I")
    if version not in SUPPORTED_VERSIONS:
        raise GGUFError(f"GGUF version {version} is not supported (supported: 2, 3)")
    tensor_count, kv_count = _unpack(f, "Q"), _unpack(f, "Q")
    if tensor_count > MAX_ENTRIES or kv_count > MAX_ENTRIES:
        raise GGUFError("implausible tensor or metadata count in the GGUF header")
    header = GGUFHeader(version=version, tensor_count=tensor_count)
    for _ in range(kv_count):
        key = _string(f)
        header.metadata[key] = _value(f, _unpack(f, "I"), skip_arrays)
    last = 0
    for _ in range(tensor_count):
        _string(f)
        dims = _unpack(f, "I")
        if dims > 8:
            raise GGUFError(f"implausible tensor rank {dims} in the GGUF header")
        f.seek(8 * dims + 4, 1)  # dimensions, then the ggml type
        last = max(last, _unpack(f, "Q"))
    alignment = header.metadata.get("general.alignment", 32)
    alignment = alignment if isinstance(alignment, int) and alignment > 0 else 32
    position = f.tell()
    header.data_offset = position + (-position % alignment)
    header.last_tensor_offset = last
    return header
