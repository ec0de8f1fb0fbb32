"""A fix's candidate goes through its language's compiler before it is offered, when that
compiler is installed: a candidate that adds an error the compiler reports makes way for the
next one. The parse-tree checks (analysis/scopes.py, analysis/builds.py) see only what is
certain from the tree; a compiler also sees types that do not match and values used after
they moved, which is how most of the benchmark's broken builds on *test* look.

- C and C++: `cc` / `c++` with `-fsyntax-only` (gcc or clang: the program is checked and
  no code is generated), the source on standard input, the file's folder searched for
  `#include "..."`.
- Rust: `rustc --crate-type lib --emit=metadata` (what `cargo check` asks for: types and
  borrows checked, no code generated), the source on standard input, the edition from the
  nearest Cargo.toml (2021 when there is none). A module of a crate is compiled alone, so
  its `mod` and `crate::` paths do not resolve: those errors are the same before and after
  an edit, and only what an edit adds counts.
- Python: the built-in compile(), in this process: what the parser's tree does not refuse
  and the interpreter would (`return` outside a function, a repeated argument, ...).
Other languages have no compiler check.

Nothing the compiler is given is run, and nothing of the workspace chooses what runs: the
compiler is the one on PATH, and it runs in an empty temporary folder (so a
`rust-toolchain.toml` of the workspace cannot name another toolchain), with 10 s to finish.
A candidate that adds a file inclusion (`#include`, `include!`, `include_bytes!`, ...)
is not compiled, since the compiler would read the file it names (a fix's prompt asks for
none; the check says why it was skipped in the log).

Only errors an edit adds count: the file as it is is compiled too (once per version), and
errors are compared by their message, not their line, so code that does not build alone
(a header not found, a module of a crate) is never held against an edit that leaves it as
it is; and in a file that had errors, only a new one within the edit's lines counts (a
compiler stops at its first errors: mending one uncovers others the file had all along).
The setting `buildCheck` (default true) turns it off."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
import threading
import tomllib
import warnings
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from chmocoder.checks import run_command

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
COMPILERS = {"c": ("cc", "gcc", "clang"), "cpp": ("c++", "g++", "clang++"), "rust": ("rustc",)}
"""The compilers tried, in order, per language; Python's is compile(), in this process."""
LANGUAGES = frozenset({*COMPILERS, "python"})
_PREPROCESSOR_INCLUSION = re.compile(rb"#\s*(include|import|embed)\b")
_INCLUSION = {
    "c": _PREPROCESSOR_INCLUSION,
    "cpp": _PREPROCESSOR_INCLUSION,
    "rust": re.compile(rb"\binclude(_str|_bytes)?\s*!"),
}
"""What makes a compiler read a file the source names (Python's compile() reads none)."""
_GCC_LINE = re.compile(r"^(?P<file>.*?):(?P<row>\d+):(?:\d+:)? (?:fatal )?error: (?P<message>.*)$")


@dataclass(frozen=True)
class CompileError:
    key: str
    """What is compared before and after an edit: the message, without its place."""
    row: int | None
    """0-based row in the compiled file, None when the error is in another file."""
    message: str


class CompilerUnavailable(Exception):
    """No result: no compiler, or it did not finish (why, for the log)."""


def added_error(
    language: str | None,
    before: bytes,
    after: bytes,
    uri: str = "",
    rows: tuple[int, int] | None = None,
) -> str | None:
    """Why `after` (an edited `before`) would not compile where `before` would, as a clause
    after "it ..." (the first error it adds), else None. None too when the language has no
    compiler check, its compiler is not installed or did not finish, or `after` adds a file
    inclusion (the module's doc). `uri` is the document's (a file: URI gives the folder
    searched for includes and the Cargo.toml). `rows`: the first and last 0-based row of the
    edit in `after`. When `before` has errors of its own, a new error counts only within
    them: a compiler stops at its first errors (Python's at the first, rustc's after the
    phase that found them), so mending one of them lets it report others the file had all
    along, elsewhere; a file without errors has every new one held against the edit."""
    if language not in LANGUAGES:
        return None
    inclusion = _INCLUSION.get(language)
    if inclusion is not None and _count(inclusion, after) > _count(inclusion, before):
        log.info("build check skipped: the edit adds a file inclusion")
        return None
    path = _file_path(uri)
    try:
        old = _errors_cached(language, before, path)
        new = compile_errors(language, after, path)
    except CompilerUnavailable as exc:
        log.info("build check skipped: %s", exc)
        return None
    seen = Counter(e.key for e in old)
    for error in new:
        if seen[error.key] > 0:
            seen[error.key] -= 1
            continue
        if old and (rows is None or error.row is None or not rows[0] <= error.row <= rows[1]):
            continue
        where = f" at line {error.row + 1}" if error.row is not None else ""
        return f"would not compile: {error.message}{where}"
    return None


def _count(pattern: re.Pattern[bytes], source: bytes) -> int:
    return sum(1 for _ in pattern.finditer(source))


def _file_path(uri: str) -> str | None:
    parts = urlparse(uri)
    return url2pathname(parts.path) if parts.scheme == "file" else None


_CACHE: OrderedDict[tuple[str, str, str], list[CompileError]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 16


def _errors_cached(language: str, source: bytes, path: str | None) -> list[CompileError]:
    """compile_errors of a file as it is: every candidate of a fix compares with it."""
    key = (language, hashlib.sha256(source).hexdigest(), path or "")
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    found = compile_errors(language, source, path)
    with _CACHE_LOCK:
        _CACHE[key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


def compile_errors(language: str, source: bytes, path: str | None = None) -> list[CompileError]:
    """The errors the language's compiler reports for `source` (the text of the file at
    `path`, which need not be saved), in its order. Raises CompilerUnavailable."""
    if language == "python":
        return _python_errors(source, path)
    folder = Path(path).resolve().parent if path else None
    if language in ("c", "cpp"):
        compiler = (
            _which("c++", "g++", "clang++") if language == "cpp" else _which("cc", "gcc", "clang")
        )
        command = [compiler, "-fsyntax-only", "-x", "c++" if language == "cpp" else "c", "-"]
        if folder is not None:
            command[1:1] = ["-iquote", str(folder)]
        return _gcc_errors(_run(command, source))
    rustc = _which(*COMPILERS["rust"])
    edition = _rust_edition(folder)
    with tempfile.TemporaryDirectory(prefix="chmocoder-rustc-") as out:
        command = [
            rustc, "--edition", edition, "--crate-type", "lib", "--emit=metadata",
            "--error-format=json", "--cap-lints", "allow", "-o", str(Path(out) / "check.rmeta"), "-",
        ]  # fmt: skip
        return _rustc_errors(_run(command, source, cwd=out))


def available() -> dict[str, str | None]:
    """Per language with a check, the compiler it would use (None: none on PATH)."""
    found: dict[str, str | None] = {}
    for language, names in COMPILERS.items():
        try:
            found[language] = _which(*names)
        except CompilerUnavailable:
            found[language] = None
    return {**found, "python": "compile() (built in)"}


def _which(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise CompilerUnavailable(f"none of {', '.join(names)} is on PATH")


def _run(command: list[str], source: bytes, cwd: str | None = None) -> str:
    """What the compiler printed. It runs in an empty folder of its own (checks.run_command:
    after its time, it and what it started, such as gcc's cc1, are stopped)."""
    name = Path(command[0]).name
    with tempfile.TemporaryDirectory(prefix="chmocoder-cc-") as empty:
        try:
            status, printed = run_command(command, cwd or empty, TIMEOUT_S, stdin=source)
        except OSError as exc:
            raise CompilerUnavailable(f"{name} could not run: {exc}") from exc
    if status is None:
        raise CompilerUnavailable(f"{name} took more than {TIMEOUT_S:.0f} s")
    return printed.decode("utf-8", "replace")


def _gcc_errors(stderr: str) -> list[CompileError]:
    found = []
    for line in stderr.splitlines():
        m = _GCC_LINE.match(line)
        if m is None:
            continue
        mine = m["file"] in ("<stdin>", "-")
        message = m["message"].strip()
        key = message if mine else f"{Path(m['file']).name}: {message}"
        found.append(CompileError(key, int(m["row"]) - 1 if mine else None, message))
    return found


def _rustc_errors(stderr: str) -> list[CompileError]:
    found = []
    for line in stderr.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict) or item.get("level") != "error":
            continue
        message = str(item.get("message", ""))
        if message.startswith("aborting due to"):
            continue
        spans = [s for s in item.get("spans") or () if s.get("is_primary")]
        label = str(spans[0].get("label") or "") if spans else ""
        code = (item.get("code") or {}).get("code") or ""
        mine = bool(spans) and spans[0].get("file_name") == "<anon>"
        row = int(spans[0]["line_start"]) - 1 if mine else None
        shown = f"{message} ({label})" if label else message
        found.append(CompileError(f"{code} {message} {label}", row, shown))
    return found


def _rust_edition(folder: Path | None) -> str:
    """The edition of the nearest Cargo.toml's package (2015 when it names none, as Cargo
    reads it; a workspace's when it says `edition.workspace = true`), else 2021."""
    inherited = False
    for here in [folder, *folder.parents] if folder is not None else ():
        manifest = here / "Cargo.toml"
        if not manifest.is_file():
            continue
        try:
            data = tomllib.loads(manifest.read_text("utf-8"))
        except (OSError, ValueError):
            break
        package = data.get("package")
        workspace = data.get("workspace")
        shared = workspace.get("package") if isinstance(workspace, dict) else None
        for table in (shared,) if inherited else (package, shared):
            edition = table.get("edition") if isinstance(table, dict) else None
            if isinstance(edition, str):
                return edition
        if isinstance(package, dict) and not inherited:
            if "edition" not in package:
                return "2015"
            inherited = True  # `edition.workspace = true`: the workspace's manifest says
    return "2021"


def _python_errors(source: bytes, path: str | None) -> list[CompileError]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(source, path or "<edit>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            row = exc.lineno - 1 if exc.lineno else None
            return [CompileError(str(exc.msg), row, str(exc.msg))]
        except (ValueError, RecursionError, MemoryError) as exc:
            return [CompileError(type(exc).__name__, None, str(exc))]
    return []
