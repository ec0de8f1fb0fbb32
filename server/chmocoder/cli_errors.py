"""Reading the errors a checker printed (`chmocoder fix --errors FILE|-`): the common
`path:line[:col]: message` lines of ruff, mypy, pyright (`path:line:col - error: ...`),
go vet, gcc,
clang and rustc's short format, and `path(line,col): message` of `tsc --pretty false`.
A `note:` line adds to the error before it on the same line (mypy, gcc); other lines
(summaries, source excerpts) are skipped."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from chmocoder.checks import TIMEOUT_S, run_command

_COLON = re.compile(  # pyright's text output has " - " where the others have ":"
    r"^(?P<path>[^\s:(][^:(]*?):(?P<line>\d+)(?::(?P<col>\d+))?(?::|\s+-)\s*(?P<msg>\S.*)$"
)
_PARENS = re.compile(r"^(?P<path>[^\s(][^(]*?)\((?P<line>\d+),(?P<col>\d+)\):\s*(?P<msg>\S.*)$")
_NOTE = re.compile(r"^(?:note|help)\b:?\s*", re.IGNORECASE)
_CODE_AT_END = re.compile(  # mypy's "... [arg-type]", pyright's "... (reportArgumentType)"
    r"\s+(?:\[(?P<code>[\w.-]+)\]|\((?P<rule>report\w+)\))$"
)
_CODE_IN_KIND = re.compile(  # "error[E0308]:", "error TS2322:", "warning:"; ruff's "F821 "
    r"^(?:(?:error|warning)(?:\[(?P<rust>\w+)\]| (?P<ts>TS\d+))?:\s*|(?P<ruff>[A-Z]{1,4}\d{2,4})\s+)"
)


@dataclass
class ToolError:
    path: Path
    line: int
    """1-based."""
    message: str
    code: str = ""
    notes: list[str] = field(default_factory=list)


def parse_errors(text: str, base: Path | None = None) -> list[ToolError]:
    """The errors in a checker's output, in order (paths relative to `base`, default the
    working folder)."""
    base = base or Path.cwd()
    found: list[ToolError] = []
    for raw in text.splitlines():
        line = raw.strip()
        match = _COLON.match(line) or _PARENS.match(line)
        if match is None:
            continue
        path = base / match["path"].strip()
        number = int(match["line"])
        message = match["msg"].strip()
        if _NOTE.match(message):
            previous = found[-1] if found else None
            if previous is not None and previous.path == path and previous.line == number:
                previous.notes.append(_NOTE.sub("", message))
            continue
        code = ""
        kind = _CODE_IN_KIND.match(message)
        if kind is not None:
            code = kind["rust"] or kind["ts"] or kind["ruff"] or ""
            message = message[kind.end() :].removeprefix("[*] ")  # "fixable", says ruff
        end = _CODE_AT_END.search(message)
        if end is not None:
            code = code or end["code"] or end["rule"]
            message = message[: end.start()]
        if message:
            found.append(ToolError(path, number, message, code))
    return found


def check_patched(
    command: str, path: Path, patched: bytes, fixing: list[ToolError], known: list[ToolError]
) -> str | None:
    """Run the checker `command` ({file}: the file) on `patched`, written to a copy beside
    `path` (so that its imports and includes resolve as they do for the file), with
    checks.py's time limit (the checker and what it started are stopped after). None when
    none of the errors being fixed is left and nothing is reported that was not before
    (`known`: every error the checker reported for the file), else why not."""
    copy = path.with_name(f".chmocoder-check-{os.getpid()}-{path.name}")
    words = [word.replace("{file}", str(copy)) for word in shlex.split(command)]
    try:
        copy.write_bytes(patched)
        status, printed = run_command(words, None, TIMEOUT_S)
    except OSError as exc:
        return f"the checker could not run: {exc}"
    finally:
        copy.unlink(missing_ok=True)
    if status is None:
        return f"the checker took longer than {TIMEOUT_S:g} s and was stopped"
    text = printed.decode("utf-8", errors="replace")
    found = [e for e in parse_errors(text) if e.path.name == copy.name]
    fixing_messages = {e.message for e in fixing}
    left = [e for e in found if e.message in fixing_messages]
    if left:
        return f"the checker still reports: {left[0].message}"
    known_messages = {e.message for e in known}
    new = [e for e in found if e.message not in known_messages]
    if new:
        return f"the checker now reports: {new[0].message}"
    return None
