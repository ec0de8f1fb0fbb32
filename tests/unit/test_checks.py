"""`fix FILE:LINE --check CMD`'s working copy: real folders, real commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from chmocoder.checks import CheckError, WorkingCopy
from tests.support.common import stopped

PY = sys.executable


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "test_calc.py").write_text(
        "import sys\nfrom pkg.calc import add\n"
        "if add(2, 3) != 5:\n    print('test failed: add(2, 3) ==', add(2, 3), file=sys.stderr)\n"
        "    sys.exit(1)\n"
    )
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "pkg" / "__pycache__").mkdir()
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "marker").write_text("installed\n")
    return root


def test_the_command_sees_each_candidate_and_the_users_files_are_untouched(
    tmp_path: Path,
) -> None:
    root = project(tmp_path)
    calc = root / "pkg" / "calc.py"
    before = calc.read_bytes()
    with WorkingCopy(root, calc, f"{PY} test_calc.py") as copy:
        assert copy.copy is not None and copy.copy.name == "proj"
        first = copy.run(before)
        fixed = copy.run(before.replace(b"a - b", b"a + b"))
        again = copy.run(before)  # each run replaces the copy's file
        place = copy.place
        assert not (copy.copy / ".git").exists()  # version control and caches are not copied
        assert not (copy.copy / "pkg" / "__pycache__").exists()
        venv = copy.copy / ".venv"
        assert venv.is_symlink() and (venv / "bin" / "marker").read_text() == "installed\n"
    assert (first.passed, fixed.passed, again.passed) == (False, True, False)
    assert first.last_line == "test failed: add(2, 3) == -1"
    assert calc.read_bytes() == before
    assert place is not None and not place.exists()  # the copy is removed


def test_the_output_names_the_working_folders_paths_not_the_copys(tmp_path: Path) -> None:
    root = project(tmp_path)
    calc = root / "pkg" / "calc.py"
    command = f"{PY} -c \"import sys; print('\\x1b[31mFAILED\\x1b[0m', sys.argv[1]); sys.exit(1)\" {{file}}"  # fmt: skip
    with WorkingCopy(root, calc, command) as copy:
        run = copy.run(calc.read_bytes())
    assert run.output == f"FAILED {calc.resolve()}"  # colours removed too


def test_only_the_end_of_a_long_output_is_kept(tmp_path: Path) -> None:
    root = project(tmp_path)
    command = f"{PY} -c \"[print('line', i) for i in range(500)]\""
    with WorkingCopy(root, root / "pkg" / "calc.py", command) as copy:
        run = copy.run(b"")
    assert run.passed and run.output.splitlines()[-1] == "line 499"
    assert len(run.output.splitlines()) == 30 and "line 469" not in run.output


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("outside", "outside it"),
        ("linked", "linked folder"),
    ],
)
def test_a_file_the_copy_cannot_hold_is_refused(tmp_path: Path, where: str, said: str) -> None:
    root = project(tmp_path)
    if where == "outside":
        path = tmp_path / "elsewhere.py"
        path.write_text("x = 1\n")
    else:
        path = root / ".venv" / "bin" / "tool.py"  # the copy links .venv: it would be the file
        path.write_text("x = 1\n")
    with pytest.raises(CheckError, match=said), WorkingCopy(root, path, "true") as copy:
        copy.run(b"x = 2\n")
    assert path.read_text() == "x = 1\n"


def test_a_linked_file_is_replaced_in_the_copy_never_written_through(tmp_path: Path) -> None:
    root = project(tmp_path)
    real = tmp_path / "real.py"
    real.write_text("x = 1\n")
    (root / "link.py").symlink_to(real)
    with WorkingCopy(root, root / "link.py", f"{PY} link.py") as copy:
        assert copy.run(b"raise SystemExit(3)\n").passed is False
    assert real.read_text() == "x = 1\n"


def test_a_working_folder_too_large_to_copy_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path)
    for n in range(5):
        (root / f"data{n}.txt").write_text("x")
    too_many = WorkingCopy(root, root / "pkg" / "calc.py", "true", max_files=4)
    with pytest.raises(CheckError, match="too large"), too_many:
        pass
    with WorkingCopy(root, root / "pkg" / "calc.py", "true", max_files=100) as copy:
        assert copy.run(b"").passed  # .git and .venv are not counted


@pytest.mark.parametrize(
    ("command", "said"),
    [("no-such-command-anywhere --x", "could not run"), ("", "needs a command"),
     ("pytest 'unclosed", "quotation")],
)  # fmt: skip
def test_a_command_that_cannot_run_is_a_clear_error(
    tmp_path: Path, command: str, said: str
) -> None:
    root = project(tmp_path)
    with pytest.raises(CheckError, match=said):
        copy = WorkingCopy(root, root / "pkg" / "calc.py", command)
        with copy:
            copy.run(b"")


def test_a_command_past_its_time_is_stopped_with_its_children(tmp_path: Path) -> None:
    root = project(tmp_path)
    pid_file = tmp_path / "child.pid"
    command = f"sh -c 'sleep 60 & echo $! > {pid_file}; wait'"
    started = time.monotonic()
    with WorkingCopy(root, root / "pkg" / "calc.py", command, timeout=1) as copy:
        run = copy.run(b"")
    assert time.monotonic() - started < 30
    assert not run.passed and "longer than 1 s" in run.last_line
    assert stopped(int(pid_file.read_text())), "the command's child was left running"
