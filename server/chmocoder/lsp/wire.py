"""What our commands and code actions carry over the wire, validated with pydantic.

Imported by the handlers when they first run, not at start-up: pydantic is the largest
import after lsprotocol, and the answer to `initialize` needs none of it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError
from pygls.exceptions import JsonRpcInvalidParams

from chmocoder.assist.prompts import EditTask


class ActionData(BaseModel):
    """What a listed action carries to its resolve (byte offsets into that version)."""

    uri: str
    version: int
    task: EditTask
    start: int
    end: int
    detail: str = ""


class _Position(BaseModel):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class _Range(BaseModel):
    start: _Position
    end: _Position


class _Error(BaseModel):
    line: int = Field(ge=1)
    message: str = Field(min_length=1, max_length=10_000)
    source: str = ""
    code: str = ""
    related: list[str] = Field(default_factory=list, max_length=20)


class Target(BaseModel):
    uri: str
    range: _Range | None = None
    position: _Position | None = None
    question: str = ""
    errors: list[_Error] = Field(default_factory=list, max_length=50)
    """chmocoder.explain: the editor's errors to explain (else the code is explained)."""


def parse_target(args: tuple[Any, ...], *, needs_question: bool = False) -> Target:
    """Arguments as one object {uri, range|position, question}, or positional [uri, range, question]."""
    if len(args) == 1 and isinstance(args[0], dict):
        raw: dict[str, Any] = dict(args[0])
    else:
        raw = dict(zip(("uri", "range", "question"), args, strict=False))
    try:
        target = Target.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise JsonRpcInvalidParams(
            f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        ) from None
    if needs_question and not target.question.strip():
        raise JsonRpcInvalidParams("a question is required")
    return target
