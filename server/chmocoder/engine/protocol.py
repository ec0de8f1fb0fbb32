"""The model daemon's wire protocol: length-prefixed msgpack maps, validated with pydantic.

Frame: 4-byte big-endian length, then a msgpack map with a "type" key.
Client -> daemon: hello, generate, cancel, count, stats, shutdown.
Daemon -> client: hello, token, done, error, count_result, stats_result.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Annotated, Any, Literal

import msgpack
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from chmocoder.engine.types import (
    ChatMessage,
    GenerationParams,
    GenerationResult,
    Infill,
    ModelInfo,
    Priority,
)

PROTOCOL_VERSION = 3
"""2: GenerationParams.n and GenerationResult.others (several samples in one request).
3: GenerationParams.score_from and GenerationResult.scores (how likely a prompt's tokens are)."""
MAX_FRAME = 8 * 1024 * 1024
_LENGTH = struct.Struct(">I")


class ProtocolError(Exception):
    """A peer sent something that is not a valid frame; the connection is closed."""


class Hello(BaseModel):
    type: Literal["hello"] = "hello"
    protocol: int
    client: str = ""
    model: ModelInfo | None = None
    pid: int | None = None


class Generate(BaseModel):
    type: Literal["generate"] = "generate"
    id: int
    prompt: str | list[ChatMessage] | Infill
    params: GenerationParams = GenerationParams()
    priority: Priority = Priority.INTERACTIVE
    timeout_ms: int | None = Field(default=None, ge=1)
    """The request fails with code "deadline" if not finished this long after it was sent."""


class Token(BaseModel):
    type: Literal["token"] = "token"
    id: int
    text: str


class Done(BaseModel):
    type: Literal["done"] = "done"
    id: int
    result: GenerationResult


class Error(BaseModel):
    type: Literal["error"] = "error"
    id: int | None = None
    code: str
    message: str


class Cancel(BaseModel):
    type: Literal["cancel"] = "cancel"
    id: int


class Count(BaseModel):
    type: Literal["count"] = "count"
    id: int
    text: str


class CountResult(BaseModel):
    type: Literal["count_result"] = "count_result"
    id: int
    tokens: int


class StatsRequest(BaseModel):
    type: Literal["stats"] = "stats"


class Stats(BaseModel):
    type: Literal["stats_result"] = "stats_result"
    model: ModelInfo
    pid: int
    clients: int
    queued: int
    running: bool
    completed: int
    joined: int
    preempted: int
    cancelled: int
    rss_bytes: int
    uptime_s: float


class Shutdown(BaseModel):
    type: Literal["shutdown"] = "shutdown"


Frame = Annotated[
    Hello
    | Generate
    | Token
    | Done
    | Error
    | Cancel
    | Count
    | CountResult
    | StatsRequest
    | Stats
    | Shutdown,
    Field(discriminator="type"),
]
_FRAME: TypeAdapter[Any] = TypeAdapter(Frame)


def encode(frame: BaseModel) -> bytes:
    payload: bytes = msgpack.packb(frame.model_dump(mode="json"), use_bin_type=True)
    if len(payload) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(payload)} bytes is over the {MAX_FRAME} byte limit")
    return _LENGTH.pack(len(payload)) + payload


def decode(payload: bytes) -> Any:
    try:
        data = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except (msgpack.UnpackException, ValueError) as exc:
        raise ProtocolError(f"not a msgpack frame: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("a frame must be a msgpack map")
    try:
        return _FRAME.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ProtocolError(
            f"invalid {data.get('type', 'untyped')!r} frame: {where}: {first['msg']}"
        ) from None


async def read_frame(reader: asyncio.StreamReader) -> Any:
    """The next frame; raises EOFError at a clean end, ProtocolError on garbage."""
    try:
        header = await reader.readexactly(_LENGTH.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError("connection closed inside a frame header") from None
        raise EOFError from None
    (length,) = _LENGTH.unpack(header)
    if length > MAX_FRAME:
        raise ProtocolError(f"frame of {length} bytes is over the {MAX_FRAME} byte limit")
    try:
        payload = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise ProtocolError("connection closed inside a frame") from None
    return decode(payload)
