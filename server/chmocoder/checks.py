"""The user's own check (their tests, a build) decides which candidate fix is offered:
`chmocoder fix FILE:LINE --check CMD` on the command line, the `fix.check` setting in an
editor.

The command runs in a copy of the working folder (the folder `chmocoder` was started in;
in an editor, the workspace's folder), with the candidate in place of the file, so that
whatever the command imports, includes or builds sees the fix, and the user's files are
never written before they choose the fix. It first runs on the copy as it is. On the
command line it must fail there (a check that passes without a fix cannot tell a fix from
a wrong one: exit 2); in an editor, where the setting stands for every fix, a check that
passes guards against a fix that breaks it. What a failing run printed becomes the fix's
problem statement, as a test runner's report does for `fix --errors`. A candidate is kept
only if the command then exits 0.

This runs the candidate's code, which is what naming a test command asks for. The risk
screen (`edits.verify`) still refuses, before the command sees it, a candidate that adds
code running commands, evaluating code, deleting files or opening connections (unless
--allow-risky), as it does for every fix. Which command runs is the user's: over TCP
`fix.check` comes from where the server started, never from a client, and the VS Code
extension ignores it in a workspace the user has not trusted.

Decisions: folders of version control and caches (`.git`, `__pycache__`, ...) are not
copied; folders of installed packages and build output (`node_modules`, `.venv`,
`target`, ...) are linked, not copied, so that `.venv/bin/pytest` or `cargo test` find
them (a build writes its output there, as the user's own build would). A working folder
of more than `MAX_FILES` files or `MAX_BYTES` bytes is refused: run from the project's
folder. Each run may take `TIMEOUT_S` seconds; its whole process group is stopped after."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SKIPPED = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
     ".tox", ".nox", ".chmocoder"}
)  # fmt: skip
"""Not copied: version control and caches a check rebuilds."""
LINKED = frozenset({"node_modules", ".venv", "venv", "target", "_build", ".gradle"})
"""Linked, not copied: installed packages and build output."""
MAX_FILES = 20_000
MAX_BYTES = 500 * 1024 * 1024
TIMEOUT_S = 300.0
OUTPUT_LINES = 30
OUTPUT_CHARS = 2000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class CheckError(Exception):
    """The check cannot be used: why, for the user."""


@dataclass(frozen=True)
class CheckRun:
    passed: bool
    output: str
    """The end of what it printed (stdout, then stderr), with the copy's paths written as
    the working folder's, colours removed."""

    @property
    def last_line(self) -> str:
        lines = self.output.strip().splitlines()
        return lines[-1].strip() if lines else "(it printed nothing)"


class WorkingCopy:
    """A copy of `root` for running `command` on candidate versions of `path` (inside
    `root`). `{file}` in the command is the copy of `path`. A context manager: the copy is
    removed on leaving it."""

    def __init__(
        self,
        root: Path,
        path: Path,
        command: str,
        *,
        timeout: float = TIMEOUT_S,
        max_files: int = MAX_FILES,
        max_bytes: int = MAX_BYTES,
        label: str = "--check",
        hint: str = "run chmocoder from the project's folder",
    ) -> None:
        """`label` names the check in messages (the option or the setting), `hint` says
        what to do about a file outside `root` or a folder too large."""
        self.root = root.resolve()
        self.path = path.absolute().parent.resolve() / path.name  # a link stays the link
        if not self.path.is_relative_to(self.root):
            raise CheckError(
                f"{label} runs its command in a copy of the working folder ({self.root}), "
                f"and {path} is outside it: {hint}"
            )
        try:
            self.words = shlex.split(command)
        except ValueError as exc:
            raise CheckError(f"{label}: {exc}") from None
        if not self.words:
            raise CheckError(f"{label} needs a command")
        self.label, self.hint = label, hint
        self.timeout = timeout
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.place: Path | None = None
        self.copy: Path | None = None
        self.target = self.path

    def __enter__(self) -> WorkingCopy:
        self._measure()  # a second walk, of stat calls only, so a folder too large is refused
        # before anything is written, not after copying up to the limit
        self.place = Path(tempfile.mkdtemp(prefix="chmocoder-check-"))
        try:
            self.copy = self.place / (self.root.name or "root")
            self._copy_tree()
            self.target = self.copy / self.path.relative_to(self.root)
            if self.target.is_symlink():  # written in the copy, never through to the file
                self.target.unlink()
            if not self.target.parent.resolve().is_relative_to(self.copy.resolve()):
                raise CheckError(
                    f"{self.label}: {self.path} is in a linked folder, so its copy would be "
                    "the file itself"
                )
        except BaseException:
            shutil.rmtree(self.place, ignore_errors=True)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.place is not None:
            shutil.rmtree(self.place, ignore_errors=True)

    def run(self, source: bytes) -> CheckRun:
        """The command run with `source` in place of the file."""
        assert self.copy is not None, "use WorkingCopy as a context manager"
        self.target.write_bytes(source)
        words = [w.replace("{file}", str(self.target)) for w in self.words]
        try:
            status, printed = run_command(words, self.copy, self.timeout)
        except OSError as exc:
            raise CheckError(f"{self.label}: the command could not run: {exc}") from None
        if status is None:
            said = f"the check took longer than {self.timeout:g} s and was stopped"
            return CheckRun(False, self._tidy(printed) + "\n" + said)
        return CheckRun(status == 0, self._tidy(printed))

    def _tidy(self, printed: bytes) -> str:
        text = _ANSI.sub("", printed.decode("utf-8", errors="replace"))
        if self.copy is not None:
            text = text.replace(str(self.copy), str(self.root))
        lines = [line.rstrip() for line in text.splitlines() if line.strip()]
        return "\n".join(lines[-OUTPUT_LINES:])[-OUTPUT_CHARS:]

    def _measure(self) -> None:
        files = size = 0
        for folder, subfolders, names in os.walk(self.root):
            subfolders[:] = [s for s in subfolders if s not in SKIPPED and s not in LINKED]
            files += len(names)
            for name in names:
                try:
                    size += os.lstat(os.path.join(folder, name)).st_size
                except OSError:
                    continue
            if files > self.max_files or size > self.max_bytes:
                raise CheckError(
                    f"{self.label} copies the working folder ({self.root}) and it is too "
                    f"large (more than {self.max_files} files or {self.max_bytes >> 20} MiB "
                    f"outside its package and build folders): {self.hint}"
                )

    def _copy_tree(self) -> None:
        assert self.copy is not None
        for folder, subfolders, names in os.walk(self.root):
            here = Path(folder)
            there = self.copy / here.relative_to(self.root)
            there.mkdir(exist_ok=True)
            kept = []
            for sub in subfolders:
                if sub in SKIPPED:
                    continue
                if sub in LINKED or (here / sub).is_symlink():
                    os.symlink(os.path.realpath(here / sub), there / sub)
                    continue
                kept.append(sub)
            subfolders[:] = kept
            for name in names:
                source = here / name
                if source.is_symlink():
                    os.symlink(os.readlink(source), there / name)
                else:
                    try:
                        shutil.copy2(source, there / name)
                    except OSError:  # a socket, a file that went away: not the check's
                        continue


def run_command(
    words: list[str], cwd: Path | str | None, timeout: float, stdin: bytes | None = None
) -> tuple[int | None, bytes]:
    """Run a command (a user's check, a compiler) with `timeout` seconds and `stdin` as its
    input (None: none): its exit status (None when it took longer and was stopped, with
    what it had started) and what it printed (stdout, then stderr). Raises OSError when it
    cannot start."""
    process = subprocess.Popen(
        words,
        cwd=cwd,
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its children are stopped with it
    )
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        out, err = process.communicate()
        return None, out + err
    return process.returncode, out + err


def _stop(process: subprocess.Popen[bytes]) -> None:
    """The command and what it started (its own process group; on Windows, itself)."""
    killpg = getattr(os, "killpg", None)
    try:
        if killpg is None:
            raise ProcessLookupError
        killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


async def first_run(copy: WorkingCopy, source: bytes) -> CheckRun:
    """The check on the file as it is (in a thread: it may take minutes)."""
    return await asyncio.to_thread(copy.run, source)


def told(run: CheckRun) -> str:
    """A failing first run as the fix's problem statement ("" when it printed nothing)."""
    return f"A test fails; it printed:\n{run.output}" if run.output and not run.passed else ""


async def passes(copy: WorkingCopy, source: bytes) -> str | None:
    """None when the check passes with `source` in place of the file, else why not."""
    run = await asyncio.to_thread(copy.run, source)
    return None if run.passed else f"the check still fails: {run.last_line}"
