"""chmocoder explain | fix | review | ask | stats: the server's pipeline, without an editor.

Text streams to stdout as the model writes it; on a terminal a spinner shows
on stderr until the first words arrive. Settings come from CHMOCODER_*
variables, then flags.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import itertools
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from chmocoder import checks, compose
from chmocoder.analysis.context import Focus
from chmocoder.analysis.document import Document
from chmocoder.analysis.symbols import definitions_at
from chmocoder.analysis.syntax import syntax_problems
from chmocoder.assist.edits import apply, syntax_fix
from chmocoder.assist.explain_error import ExplainError
from chmocoder.assist.results import Edit, Fix, ReportedError, describe_all
from chmocoder.assist.review import ReviewState
from chmocoder.checks import CheckError, WorkingCopy
from chmocoder.cli_errors import ToolError, check_patched, parse_errors
from chmocoder.cli_files import (
    LocationError,
    ProgressBar,
    first_column,
    load_file,
    offset_of,
    parse_location,
)
from chmocoder.config import Settings
from chmocoder.engine.stats import StatsStore
from chmocoder.engine.types import EngineError
from chmocoder.sources import NotASource, read_source_file


def settings_from(args: argparse.Namespace) -> Settings:
    settings, problems = Settings.from_env()
    flags = {
        name: getattr(args, name)
        for name in ("model", "runtime", "endpoint", "n_ctx", "n_threads", "max_tokens", "temperature",
                     "audience", "cache_dir", "allow_risky")
        if getattr(args, name, None) not in (None, False)
    }  # fmt: skip
    if flags:  # only the flags given: the rest stays as the environment set it
        from pydantic.alias_generators import to_camel

        wire = {
            to_camel(name): str(value) if name == "cache_dir" else value
            for name, value in flags.items()
        }
        settings, more = Settings.from_wire({**settings.to_wire(), **wire})
        problems = problems + more
    for problem in problems:
        print(f"chmocoder: {problem}", file=sys.stderr)
    return settings


class Session:
    """One CLI run: the file, its document, the assistant."""

    def __init__(self, args: argparse.Namespace, path: Path) -> None:
        self.settings = settings_from(args)
        self.path = path
        self.doc, self.notes, lookup = load_file(path, index=not getattr(args, "no_index", False))
        self.progress = ProgressBar("assembling the model (once)")
        parts = compose.build(self.settings, workspace=lookup, on_progress=lambda: self.progress,
                              on_wait=lambda what: print(f"chmocoder: {what}", file=sys.stderr))  # fmt: skip
        self.stats, self.engine, self.assistant = parts.stats, parts.engine, parts.assistant
        self.completer, self.engines = parts.completer, parts.engines()


async def _close(session: Session) -> None:
    session.progress.close()
    for engine in session.engines:
        await engine.close()
    session.stats.flush()


class Printer:
    """Streams text to stdout; a spinner on stderr until the first piece (terminals only)."""

    def __init__(self) -> None:
        self.started = False
        self.spinning = sys.stderr.isatty()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Printer:
        if self.spinning:
            self._task = asyncio.create_task(self._spin())
        return self

    async def _spin(self) -> None:
        for frame in itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"):
            sys.stderr.write(f"\r{frame} waiting for the model…")
            sys.stderr.flush()
            await asyncio.sleep(0.1)

    def _stop_spinner(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def __call__(self, piece: str) -> None:
        self._stop_spinner()
        self.started = True
        sys.stdout.write(piece)
        sys.stdout.flush()
        if piece:
            Printer.open_line = not piece.endswith("\n")

    open_line = False
    """Streamed text that did not end its line (an error then starts on a new one)."""

    async def __aexit__(self, *exc: object) -> None:
        self._stop_spinner()


def run_task(
    args: argparse.Namespace, work: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
) -> int:
    try:
        return asyncio.run(work(args))
    except EngineError as exc:
        if Printer.open_line:  # partial output: end its line before the error
            print(flush=True)
        print(f"chmocoder: {exc.message}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


def read_checked(path: Path) -> bytes:
    """FILE's bytes; LocationError says in one line why it cannot be worked on."""
    try:
        return read_source_file(path)
    except NotASource as exc:
        raise LocationError(f"{exc}: not sent to the model") from None
    except FileNotFoundError:
        raise LocationError(f"{path}: no such file") from None
    except OSError as exc:
        raise LocationError(f"{path}: cannot read it ({exc.strerror})") from None


def _locate(args: argparse.Namespace) -> tuple[Path, int, int | None] | None:
    try:
        path, line, column = parse_location(args.location)
        lines = read_checked(path).count(b"\n") + 1  # before indexing and connecting
        if line > lines:
            raise LocationError(f"line {line} is past the end of {path} ({lines} lines)")
        return path, line, column
    except LocationError as exc:
        print(f"chmocoder: {exc}", file=sys.stderr)
        return None


def _open(args: argparse.Namespace, *, line_end: bool = False) -> tuple[Session, int] | None:
    """The session for FILE:LINE[:COL] and the cursor's byte offset (no COL: the line's
    first non-blank character, or its end with `line_end`); None (reported) if bad."""
    located = _locate(args)
    if located is None:
        return None
    path, line, column = located
    session = Session(args, path)
    if column is None and line_end:
        return session, session.doc.row_span(line - 1)[1]
    return session, offset_of(session.doc.source, line, column)


async def explain(args: argparse.Namespace) -> int:
    opened = _open(args)
    if opened is None:
        return 2
    session, offset = opened
    path = session.path
    focus = Focus.at(session.doc, offset)
    if args.error:
        return await _explain_errors(session, focus, args.error)
    facts = session.assistant.facts(focus)
    if facts:
        print(facts + "\n")
    async with Printer() as printer:
        result = await session.assistant.explain(focus, path=str(path), on_token=printer)
    if not printer.started:
        print(result.markdown, end="")
    print()
    await _close(session)
    return 0


async def _explain_errors(session: Session, focus: Focus, messages: list[str]) -> int:
    line = session.doc.source.count(b"\n", 0, focus.offset) + 1
    errors = [ReportedError(line, m) for m in messages if m.strip()]
    if not errors:
        print("chmocoder: --error needs a message", file=sys.stderr)
        return 2
    async with Printer() as printer:
        task = ExplainError(session.assistant.gen)
        result = await task.explain(focus, errors, path=str(session.path), on_token=printer)
    if not printer.started:
        print(result.markdown, end="")
    print()
    await _close(session)
    return 0


async def complete(args: argparse.Namespace) -> int:
    """The insertion at FILE:LINE:COL on stdout (no COL: the end of the line); exit 1 with
    the reason on stderr when the model has nothing to add (or cannot fill in the middle)."""
    opened = _open(args, line_end=True)
    if opened is None:
        return 2
    session, offset = opened
    try:
        result = await session.completer.complete(session.doc, offset, str(session.path))
    finally:
        await _close(session)
    if not result.text:
        print(f"chmocoder: no completion: {result.reason}", file=sys.stderr)
        return 1
    print(result.text)
    return 0


async def ask(args: argparse.Namespace) -> int:
    if not args.question.strip():
        print("chmocoder: a question is required", file=sys.stderr)
        return 2
    opened = _open(args)
    if opened is None:
        return 2
    session, offset = opened
    path = session.path
    async with Printer() as printer:
        answer = await session.assistant.ask(
            session.doc,
            offset,
            offset,
            args.question,
            path=str(path),
            scope=session.doc.uri,
            on_token=printer,
        )
    if not printer.started:
        print(answer.markdown, end="")
    print()
    await _close(session)
    return 0


async def fix(args: argparse.Namespace) -> int:
    if args.errors is not None:
        return await _fix_errors(args)
    if args.location is None:
        print("chmocoder: fix needs FILE:LINE, or --errors FILE|-", file=sys.stderr)
        return 2
    opened = _open(args)
    if opened is None:
        return 2
    session, start = opened
    try:
        with contextlib.ExitStack() as stack:
            return await _fix_at(args, session, start, stack)
    finally:
        await _close(session)


async def _fix_at(
    args: argparse.Namespace, session: Session, start: int, stack: contextlib.ExitStack
) -> int:
    """A fix at FILE:LINE; with --check, only a candidate the user's command passes on
    (three more, told what it printed, if none of the first three does: EditCode.edit)."""
    path, doc = session.path, session.doc
    line = doc.source.count(b"\n", 0, start) + 1
    line_end = doc.source.find(b"\n", start)
    line_end = len(doc.source) if line_end < 0 else line_end
    detail = args.problem or ""
    accept, told = None, ""
    if args.check is not None:
        try:
            copy = stack.enter_context(WorkingCopy(Path.cwd(), path, args.check))
            first = await checks.first_run(copy, doc.source)
        except CheckError as exc:
            print(f"chmocoder: {exc}", file=sys.stderr)
            return 2
        if first.passed:
            print("chmocoder: the check passes on the file as it is, so it cannot tell a fix "
                  "from a wrong one: give a command that fails because of the bug (a failing "
                  "test)", file=sys.stderr)  # fmt: skip
            return 2
        told = checks.told(first)

        async def accept(edit: Edit) -> str | None:
            return await checks.passes(copy, apply(doc, edit))

    result = None
    for problem in syntax_problems(doc):
        certain = syntax_fix(doc, problem) if problem.span.start[0] == line - 1 else None
        if certain is None or certain.edit is None:
            continue
        if accept is None or await accept(certain.edit) is None:
            result = certain
            break
    if result is not None:
        print(f"chmocoder: {result.title} (from the parse tree, no model needed)", file=sys.stderr)
    else:
        result = await session.assistant.edit(
            doc, "fix", start, line_end, detail=detail, path=str(path), accept=accept,
            told_after=told,
        )  # fmt: skip
    return _offer(args, path, doc, result)


def _offer(
    args: argparse.Namespace, path: Path, doc: Document, result: Fix, where: str = ""
) -> int:
    """A fix's outcome: the reason there is none (exit 1), else its diagnosis (stderr), its
    diff (stdout) and, with --apply, it written (exit 4 if it could not be)."""
    said = f"chmocoder: {where}: " if where else "chmocoder: "
    if result.edit is None:
        print(f"{said}no fix offered: {result.rejected}", file=sys.stderr)
        return 1
    if result.description:
        print(f"{said}{result.description}", file=sys.stderr)
    if result.caveat:
        print(f"{said}less sure: {result.caveat}", file=sys.stderr)
    patched = apply(doc, result.edit)
    old = doc.source.decode("utf-8", errors="replace").splitlines(keepends=True)
    new = patched.decode("utf-8", errors="replace").splitlines(keepends=True)
    sys.stdout.writelines(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}"))
    if args.apply:
        from chmocoder.cli_apply import EXIT_NOT_APPLIED, ApplyError, apply_fix

        try:
            applied = apply_fix(path, doc, result.edit)
        except ApplyError as exc:
            print(f"{said}{exc}", file=sys.stderr)
            return EXIT_NOT_APPLIED
        moved = " (re-anchored: the file had changed)" if applied.reanchored else ""
        print(f"chmocoder: applied to {path}{moved} (backup: {applied.backup})", file=sys.stderr)
    return 0


async def _fix_errors(args: argparse.Namespace) -> int:
    """A verified fix per definition (per line outside any) for the errors a checker
    printed, told every error there; each file's fixes are worked from its end up, so that
    a fix applied (--apply) leaves the lines of the next where the checker saw them.
    Exit 0: every group fixed; 1: some not; 2: nothing to read; 4: a fix not applied."""
    if args.location is not None:
        print("chmocoder: give FILE:LINE or --errors, not both", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if args.errors == "-" else Path(args.errors).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"chmocoder: cannot read {args.errors}: {exc}", file=sys.stderr)
        return 2
    errors = parse_errors(text)
    if args.check is not None and "{file}" not in args.check:
        print("chmocoder: --check needs {file} where the file goes", file=sys.stderr)
        return 2
    if not errors:
        print("chmocoder: no path:line: message lines in the checker's output", file=sys.stderr)
        return 2
    by_file: dict[Path, list[ToolError]] = {}
    for error in errors:
        by_file.setdefault(error.path, []).append(error)
    status = 0
    for path, found in by_file.items():
        try:
            read_checked(path)
        except LocationError as exc:
            print(f"chmocoder: {exc}", file=sys.stderr)
            status = max(status, 1)
            continue
        session = Session(args, path)
        try:
            doc = session.doc
            lines = doc.source.count(b"\n") + 1
            groups: dict[tuple[int, int], list[ToolError]] = {}
            for error in found:
                if error.line > lines:
                    print(f"chmocoder: {path}:{error.line}: past the end ({lines} lines)",
                          file=sys.stderr)  # fmt: skip
                    status = max(status, 1)
                    continue
                at = offset_of(doc.source, error.line, None)
                chain = definitions_at(doc, at)
                span = (chain[0].span.start_byte, chain[0].span.end_byte) if chain else (at, at)
                groups.setdefault(span, []).append(error)
            for span in sorted(groups, reverse=True):
                group = groups[span]
                outcome = await _fix_group(args, session, path, group, found)
                status = max(status, outcome)
        finally:
            await _close(session)
    return status


async def _fix_group(
    args: argparse.Namespace,
    session: Session,
    path: Path,
    group: list[ToolError],
    known: list[ToolError],
) -> int:
    doc = session.doc
    accept = None
    if args.check is not None:
        command = args.check

        async def accept(edit: Edit) -> str | None:
            patched = apply(doc, edit)
            return await asyncio.to_thread(check_patched, command, path, patched, group, known)

    reported = [ReportedError(e.line, e.message, "", e.code, tuple(e.notes)) for e in group]
    first, last = min(e.line for e in group), max(e.line for e in group)
    start = offset_of(doc.source, first, None)
    end = doc.row_span(last - 1)[1]
    where = f"{path}:{first}" + (f"-{last}" if last != first else "")
    count = f"{len(group)} error{'s' if len(group) > 1 else ''}"
    print(f"chmocoder: {where}: fixing {count}", file=sys.stderr)
    detail = "Problems the checker reports:\n" + describe_all(reported)
    result = await session.assistant.edit(
        doc, "fix", start, end, detail=detail, path=str(path), accept=accept
    )
    outcome = _offer(args, path, doc, result, where)
    if outcome == 0 and args.apply:  # the next fix is worked on the file as it now is
        session.doc = Document(doc.uri, read_checked(path), language=doc.language)
    return outcome


async def review(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        read_checked(path)
    except LocationError as exc:
        print(f"chmocoder: {exc}", file=sys.stderr)
        return 2
    session = Session(args, path)
    doc = session.doc
    lines: list[tuple[int, int, str, str]] = []
    for problem in syntax_problems(doc):
        lines.append(
            (problem.span.start[0] + 1, problem.span.start[1] + 1, "error", problem.message)
        )
    findings, _calls = await session.assistant.review(doc, ReviewState(), path=str(path))
    await _close(session)
    text_lines = doc.source.split(b"\n")
    for f in findings:
        column = first_column(text_lines[f.row].decode("utf-8", errors="replace"))
        lines.append((f.row + 1, column, f.severity, f.message))
    for row, column, severity, message in sorted(lines):
        print(f"{path}:{row}:{column}: {severity}: {message}")
    return 1 if lines else 0


def stats(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    store = StatsStore(settings.cache_dir / "stats.sqlite3", create=False)
    summary = store.summary()
    if not summary:
        print("no model calls recorded yet")
        return 0
    print(
        f"{'task':<10} {'calls':>6} {'p50 ms':>9} {'p95 ms':>9} {'tokens/s':>9} {'cache hits':>10} {'cancelled':>9} {'errors':>6}"
    )
    for s in summary:
        print(
            f"{s.task:<10} {s.count:>6} {s.p50_ms:>9.0f} {s.p95_ms:>9.0f} {s.tokens_per_second:>9.1f} "
            f"{s.cache_hit_rate:>10.0%} {s.cancelled:>9} {s.errors:>6}"
        )
    outcomes = store.outcomes()
    if outcomes:
        print(f"\n{'task':<10} {'outcome':<28} {'count':>6}")
        for task, outcome, count in outcomes:
            print(f"{task:<10} {outcome:<28} {count:>6}")
    return 0
