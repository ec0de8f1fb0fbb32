"""cli_errors.parse_errors: the checkers' output formats `fix --errors` reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from chmocoder.cli_errors import parse_errors
from tests.support.common import stopped

BASE = Path("/work")


def test_each_checkers_format_gives_path_line_message_and_code() -> None:
    output = "\n".join([
        'app.py:12: error: Argument 1 to "f" has incompatible type "str"  [arg-type]',
        'app.py:12: note: "f" defined here',
        "Found 1 error in 1 file (checked 1 source file)",
        "app.py:3:8: F401 [*] `os` imported but unused",
        '  /abs/app.py:14:5 - error: Argument of type "str" cannot be assigned (reportArgumentType)',
        "src/main.rs:4:18: error[E0308]: mismatched types",
        "main.c:5:12: error: use of undeclared identifier 'y'",
        "main.c:6:9: warning: unused variable 'z' [-Wunused-variable]",
        "src/app.ts(7,3): error TS2322: Type 'string' is not assignable to type 'number'.",
        "./vet.go:9:2: fmt.Printf format %d has arg s of wrong type string",
        "   12 |     x = f('a')",
        "",
    ])  # fmt: skip
    got = [(e.path, e.line, e.code, e.message, e.notes) for e in parse_errors(output, BASE)]
    assert got == [
        (BASE / "app.py", 12, "arg-type", 'Argument 1 to "f" has incompatible type "str"',
         ['"f" defined here']),
        (BASE / "app.py", 3, "F401", "`os` imported but unused", []),
        (Path("/abs/app.py"), 14, "reportArgumentType", 'Argument of type "str" cannot be assigned', []),
        (BASE / "src/main.rs", 4, "E0308", "mismatched types", []),
        (BASE / "main.c", 5, "", "use of undeclared identifier 'y'", []),
        (BASE / "main.c", 6, "-Wunused-variable", "unused variable 'z'", []),
        (BASE / "src/app.ts", 7, "TS2322", "Type 'string' is not assignable to type 'number'.", []),
        (BASE / "vet.go", 9, "", "fmt.Printf format %d has arg s of wrong type string", []),
    ]  # fmt: skip


def test_a_note_without_its_error_and_text_without_locations_are_skipped() -> None:
    assert parse_errors("app.py:3: note: see here\nAll checks passed!\n", BASE) == []


FAKE_CHECKER = (
    "import sys; text = open(sys.argv[1]).read(); name = sys.argv[1]\n"
    "if 'totl' in text: print(f'{name}:3: error: Name \"totl\" is not defined  [name-defined]')\n"
    "if 'bad' in text: print(f'{name}:2: error: something new')\n"
    "if 'old' in text: print(f'{name}:9: error: an older error')\n"
    "sys.exit(1 if any(w in text for w in ('totl', 'bad', 'old')) else 0)\n"
)


def test_a_patched_file_is_checked_in_a_copy_beside_it(tmp_path: Path) -> None:
    import shlex
    import sys

    from chmocoder.cli_errors import ToolError, check_patched

    source = tmp_path / "calc.py"
    source.write_text("def f():\n    return totl\n")
    fixing = [ToolError(source, 3, 'Name "totl" is not defined', "name-defined")]
    known = [*fixing, ToolError(source, 9, "an older error")]
    command = shlex.join([sys.executable, "-c", FAKE_CHECKER, "{file}"])

    def verdict(text: str) -> str | None:
        return check_patched(command, source, text.encode(), fixing, known)

    assert verdict("return total\n") is None
    assert verdict("return total  # old\n") is None  # an error that was there before
    assert verdict("return totl + 1\n") == 'the checker still reports: Name "totl" is not defined'
    assert verdict("return bad\n") == "the checker now reports: something new"
    assert source.read_text() == "def f():\n    return totl\n"  # the file itself untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calc.py"]  # the copy removed
    broken = shlex.join(["/no/such/checker", "{file}"])
    assert "could not run" in (check_patched(broken, source, b"", fixing, known) or "")


def test_a_checker_past_its_time_is_stopped_with_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fix --errors --check` runs the checker as `fix --check` runs a test (checks.py's
    run_command): after its time, it and what it started are stopped, and the fix says so."""
    import time

    from chmocoder import cli_errors
    from chmocoder.cli_errors import ToolError, check_patched

    monkeypatch.setattr(cli_errors, "TIMEOUT_S", 1.0)
    source = tmp_path / "calc.py"
    source.write_text("def f():\n    return totl\n")
    fixing = [ToolError(source, 2, 'Name "totl" is not defined')]
    pid_file = tmp_path / "child.pid"
    command = f"sh -c 'sleep 60 & echo $! > {pid_file}; wait' {{file}}"
    started = time.monotonic()
    why = check_patched(command, source, b"def f():\n    return 1\n", fixing, fixing)
    assert time.monotonic() - started < 30
    assert why == "the checker took longer than 1 s and was stopped"
    assert stopped(int(pid_file.read_text())), "the checker's child was left running"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calc.py", "child.pid"]
